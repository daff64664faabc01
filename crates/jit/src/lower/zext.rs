//! Which ALU32 zero-extensions are dead: an explicit analysis over the BPF
//! instructions, done before lowering.
//!
//! Every ALU32 lowering produces the right low 32 bits; the zero-extension
//! only fixes the upper half. That upper half is dead when, on the straight
//! line after the instruction (no jump, call or exit in between), the
//! register is overwritten before anything reads its full 64 bits. Reads of
//! only the low bits (ALU32 operands, `jmp32` is a block end and so not
//! counted, narrow store values, narrow byte swaps, `movsx`) do not keep it
//! alive.

use rvbpf_ebpf::inst::{AluOp, AtomicOp, EndianOp, Inst, Operand, Reg, Size};

/// How one instruction uses registers (bit n = rn).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Use {
    /// Registers whose full 64-bit value matters.
    full: u16,
    /// Registers written (possibly after reading them).
    writes: u16,
    /// Control may leave the straight line here (jump, call, exit).
    barrier: bool,
}

fn bit(r: Reg) -> u16 {
    1 << r.index()
}

fn use_of(inst: &Inst) -> Use {
    let src_bit = |s: Operand| match s {
        Operand::Reg(r) => bit(r),
        Operand::Imm(_) => 0,
    };
    match *inst {
        Inst::Alu { is64, op, dst, src } => {
            let mov = matches!(
                op,
                AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32
            );
            let narrow_src = matches!(op, AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32);
            let full = if !is64 || narrow_src {
                0
            } else if mov {
                src_bit(src)
            } else {
                bit(dst) | src_bit(src)
            };
            Use {
                full,
                writes: bit(dst),
                barrier: false,
            }
        }
        Inst::Endian { op, dst, bits } => Use {
            // A 64-bit swap needs every byte; narrower ones only the low ones.
            full: if bits == 64 && op != EndianOp::Le {
                bit(dst)
            } else {
                0
            },
            writes: bit(dst),
            barrier: false,
        },
        Inst::Lddw { dst, .. } => Use {
            full: 0,
            writes: bit(dst),
            barrier: false,
        },
        Inst::LddwHigh => Use::default(),
        Inst::Load { dst, src, .. } => Use {
            full: bit(src),
            writes: bit(dst),
            barrier: false,
        },
        Inst::Store { size, dst, src, .. } => Use {
            full: bit(dst) | if size == Size::DW { src_bit(src) } else { 0 },
            writes: 0,
            barrier: false,
        },
        Inst::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            ..
        } => {
            let wide = if size == Size::DW { bit(src) } else { 0 };
            let (r0_read, r0_write) = if op == AtomicOp::Cmpxchg {
                (
                    if size == Size::DW { bit(Reg::R0) } else { 0 },
                    bit(Reg::R0),
                )
            } else {
                (0, 0)
            };
            Use {
                full: bit(dst) | wide | r0_read,
                writes: r0_write | if fetch { bit(src) } else { 0 },
                barrier: false,
            }
        }
        // Anything that leaves the straight line ends the scan.
        Inst::Ja { .. }
        | Inst::Jump { .. }
        | Inst::Call(_)
        | Inst::Callx { .. }
        | Inst::Exit
        | Inst::LoadPacket { .. } => Use {
            full: 0,
            writes: 0,
            barrier: true,
        },
    }
}

/// `dead[pc]` for every pc of `insts[start..end]` (indexed from `start`):
/// the instruction is an ALU32 operation whose result's upper half is never
/// observed.
pub fn dead_zero_extensions(insts: &[Inst], start: usize, end: usize) -> Vec<bool> {
    (start..end)
        .map(|pc| {
            let Inst::Alu {
                is64: false, dst, ..
            } = insts[pc]
            else {
                return false;
            };
            let d = bit(dst);
            for inst in &insts[pc + 1..end] {
                let u = use_of(inst);
                if u.barrier || u.full & d != 0 {
                    return false;
                }
                if u.writes & d != 0 {
                    return true;
                }
            }
            false
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_ebpf::asm::assemble;

    fn dead(src: &str) -> Vec<bool> {
        let insts = assemble(src).unwrap();
        dead_zero_extensions(&insts, 0, insts.len())
    }

    #[test]
    fn overwritten_after_low_reads_only_is_dead() {
        // r1's upper half after pc 0 is never read: pc 1 reads the low half
        // (mov32), pc 2 overwrites r1 with an ALU32 op.
        let d = dead("add32 %r1, 1\nmov32 %r0, %r1\nmul32 %r1, 3\nadd %r0, %r1\nexit");
        assert_eq!(d, [true, false, false, false, false]);
    }

    #[test]
    fn full_reads_branches_and_exits_keep_it() {
        // 64-bit ALU read, address use, jump, exit.
        assert!(!dead("add32 %r1, 1\nadd %r0, %r1\nexit")[0]);
        assert!(!dead("add32 %r1, 1\nldxw %r0, [%r1]\nexit")[0]);
        assert!(!dead("add32 %r1, 1\njeq32 %r1, 0, +0\nmov %r1, 0\nexit")[0]);
        assert!(!dead("add32 %r0, 1\nexit")[0]);
        // A 64-bit store of the value needs it whole; a 32-bit store does not.
        assert!(!dead("add32 %r1, 1\nstxdw [%r10-8], %r1\nmov %r1, 0\nexit")[0]);
        assert!(dead("add32 %r1, 1\nstxw [%r10-8], %r1\nmov %r1, 0\nexit")[0]);
    }
}
