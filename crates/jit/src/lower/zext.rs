//! Which ALU32 zero-extensions are dead: a backward liveness analysis of
//! register upper halves over the function's control-flow graph, done
//! before lowering.
//!
//! Every ALU32 lowering produces the right low 32 bits; the zero-extension
//! only fixes the upper half. The upper half of a register is *live* at a
//! point when some path from there reads the register's full 64 bits
//! (64-bit ALU operand, address, 64-bit store or compare, call argument,
//! `exit`'s r0) before overwriting it. Reads of only the low bits (ALU32
//! operands, narrow stores and byte swaps, `movsx`) do not make it live;
//! `jmp32` does (see `use_of`). An ALU32 result whose upper half is not live needs no
//! zero-extension.

use rvbpf_ebpf::inst::{AluOp, AtomicOp, CallTarget, Inst, Operand, Reg, Size};

/// How one instruction uses registers (bit n = rn).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Use {
    /// Registers whose full 64-bit value matters.
    full: u16,
    /// Registers written (possibly after reading them).
    writes: u16,
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
            }
        }
        Inst::Endian { dst, bits, .. } => Use {
            // A 64-bit swap needs every byte; narrower ones only the low
            // ones. `le64` is a no-op that passes all 64 bits through, so it
            // reads them all too (else an ALU32 result's zero-extension
            // before it would look dead).
            full: if bits == 64 { bit(dst) } else { 0 },
            writes: bit(dst),
        },
        Inst::Lddw { dst, .. } => Use {
            full: 0,
            writes: bit(dst),
        },
        Inst::LddwHigh => Use::default(),
        Inst::Load { dst, src, .. } => Use {
            full: bit(src),
            writes: bit(dst),
        },
        Inst::Store { size, dst, src, .. } => Use {
            full: bit(dst) | if size == Size::DW { src_bit(src) } else { 0 },
            writes: 0,
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
            // A fetching op returns the old value in src; cmpxchg returns it
            // in r0 and leaves src alone (though its encoding has BPF_FETCH).
            let src_write = if fetch && op != AtomicOp::Cmpxchg {
                bit(src)
            } else {
                0
            };
            Use {
                full: bit(dst) | wide | r0_read,
                writes: r0_write | src_write,
            }
        }
        Inst::Ja { .. } => Use::default(),
        // jmp32 only needs the low halves, but it compares two registers
        // known to be zero-extended as they are, and must extend anything
        // else (a dropped zero-extension before a loop would cost one
        // extension per iteration): count it as a full read.
        Inst::Jump { dst, src, .. } => Use {
            full: bit(dst) | src_bit(src),
            writes: 0,
        },
        // Calls take r1..r5 whole (arity unknown) and clobber r0..r5.
        Inst::Call(CallTarget::Helper(_) | CallTarget::Kfunc(_) | CallTarget::Local(_)) => Use {
            full: 0b11_1110,
            writes: 0b11_1111,
        },
        Inst::Callx { reg } => Use {
            full: 0b11_1110 | bit(reg),
            writes: 0b11_1111,
        },
        Inst::Exit => Use {
            full: bit(Reg::R0),
            writes: 0,
        },
        // A runtime call (lower/packet.rs); be conservative.
        Inst::LoadPacket { .. } => Use {
            full: 0x7ff,
            writes: 0b11_1111,
        },
    }
}

/// `dead[pc]` for every pc of `insts[start..end]` (indexed from `start`):
/// the instruction is an ALU32 operation whose result's upper half is never
/// observed.
pub fn dead_zero_extensions(insts: &[Inst], start: usize, end: usize) -> Vec<bool> {
    let uses: Vec<Use> = insts[start..end].iter().map(use_of).collect();
    // live_in[pc]: registers whose upper half is live before pc.
    let mut live_in = vec![0u16; end - start];
    let live_out = |live_in: &[u16], pc: usize| {
        super::cfg::successors(insts, pc, end).fold(0u16, |acc, s| acc | live_in[s - start])
    };
    let loops = super::cfg::has_backward_jump(insts, start, end);
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (start..end).rev() {
            let u = uses[pc - start];
            let new = u.full | (live_out(&live_in, pc) & !u.writes);
            if new != live_in[pc - start] {
                live_in[pc - start] = new;
                changed = true;
            }
        }
        // Only a loop can carry a change to an already visited pc.
        changed &= loops;
    }
    (start..end)
        .map(|pc| match insts[pc] {
            Inst::Alu {
                is64: false, dst, ..
            } => live_out(&live_in, pc) & bit(dst) == 0,
            _ => false,
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
        // A jmp32 keeps it (it can then compare without extending).
        assert!(!dead("add32 %r1, 1\njeq32 %r1, 0, +0\nmov %r1, 0\nexit")[0]);
        assert!(!dead("add32 %r1, 1\njeq32 %r1, 0, +1\nmov %r1, 0\nmov %r0, %r1\nexit")[0]);
        assert!(!dead("add32 %r0, 1\nexit")[0]);
        // A 64-bit store of the value needs it whole; a 32-bit store does not.
        assert!(!dead("add32 %r1, 1\nstxdw [%r10-8], %r1\nmov %r1, 0\nexit")[0]);
        assert!(dead("add32 %r1, 1\nstxw [%r10-8], %r1\nmov %r1, 0\nexit")[0]);
    }
    #[test]
    fn liveness_follows_loop_back_edges() {
        use rvbpf_ebpf::asm::assemble;
        // r3's zext at pc 2 is dead: the loop head rewrites r3 (mov32 reads it
        // low only), and after the loop r3 is overwritten before exit.
        let insts = assemble(
            "mov %r3, 0
             loop:
             mov32 %r3, %r3
             add32 %r3, 7
             add %r2, 1
             jlt %r2, 10, loop
             mov %r3, 0
             mov %r0, 0
             exit",
        )
        .unwrap();
        let d = dead_zero_extensions(&insts, 0, insts.len());
        assert!(d[1] && d[2]);
    }
}
