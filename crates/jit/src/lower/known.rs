//! What is known about the upper half of each BPF register at each pc: a
//! forward dataflow analysis over the function's control-flow graph, done
//! before lowering. A fact says bits 63..32 are zero (`zext`) and/or copies
//! of bit 31 (`sext`). The transfer function states properties of the BPF
//! values that the lowering guarantees to produce (loads by width, ALU32
//! results zero-extended, constants, narrow byte swaps); a register whose
//! ALU32 zero-extension is dead ([`super::zext`]) is known nothing about.
//! Facts meet (both must hold) where paths join; calls forget r0..r5.
//!
//! Users: `jmp32` skips extending operands that already are sign-extended
//! (or, for unsigned and equality tests, both zero-extended), and `mov32` of
//! a zero-extended register is a plain copy.

use rvbpf_ebpf::inst::{AluOp, CallTarget, EndianOp, Inst, LddwKind, Operand, Size};

/// Facts about bits 63..32 of a register.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Bits 63..32 are zero.
    pub zext: bool,
    /// Bits 63..31 are all equal (the value is a sign-extended i32).
    pub sext: bool,
}

impl Known {
    /// Upper half zero, nothing said about bit 31.
    pub const ZEXT: Known = Known {
        zext: true,
        sext: false,
    };
    /// A sign-extended i32.
    pub const SEXT: Known = Known {
        zext: false,
        sext: true,
    };

    /// What is known of a register holding exactly `v`.
    pub fn of_value(v: i64) -> Known {
        Known {
            zext: v >> 32 == 0,
            sext: v == v as i32 as i64,
        }
    }

    /// Holds a value below 2^31 (zero- and sign-extended at once).
    pub const SMALL: Known = Known {
        zext: true,
        sext: true,
    };
}

/// Facts about all eleven registers, packed: bit n of each mask is rn.
/// Meeting is a bitwise AND; comparing is two integer compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownRegs {
    zext: u16,
    sext: u16,
}

impl KnownRegs {
    /// Every fact for every register, the start value of the fixpoint.
    const TOP: KnownRegs = KnownRegs {
        zext: 0x7ff,
        sext: 0x7ff,
    };
    /// Nothing known.
    const NONE: KnownRegs = KnownRegs { zext: 0, sext: 0 };

    /// What is known about register `r`.
    pub fn get(self, r: usize) -> Known {
        Known {
            zext: self.zext >> r & 1 != 0,
            sext: self.sext >> r & 1 != 0,
        }
    }

    fn set(&mut self, r: usize, k: Known) {
        let bit = 1u16 << r;
        self.zext = (self.zext & !bit) | if k.zext { bit } else { 0 };
        self.sext = (self.sext & !bit) | if k.sext { bit } else { 0 };
    }

    fn meet(self, other: KnownRegs) -> KnownRegs {
        KnownRegs {
            zext: self.zext & other.zext,
            sext: self.sext & other.sext,
        }
    }

    /// What is known about every register.
    pub fn unpack(self) -> [Known; 11] {
        std::array::from_fn(|r| self.get(r))
    }
}

/// What is known of the register `inst` writes, given the facts before it.
fn result(inst: &Inst, before: KnownRegs, zext_dead: bool) -> Option<Known> {
    match *inst {
        Inst::Alu {
            is64: false,
            op,
            src,
            ..
        } => match (op, src) {
            _ if zext_dead => None,
            (AluOp::Mov, Operand::Imm(i)) => Some(Known::of_value(i as u32 as i64)),
            // A non-negative mask bounds the value.
            (AluOp::And, Operand::Imm(i)) if i >= 0 => Some(Known::of_value(i as i64)),
            (AluOp::Rsh, Operand::Imm(i)) if i & 31 != 0 => Some(Known::SMALL),
            // Every other ALU32 result is zero-extended.
            _ => Some(Known::ZEXT),
        },
        Inst::Alu {
            is64: true,
            op,
            src,
            ..
        } => match (op, src) {
            (AluOp::Mov, Operand::Reg(s)) => Some(before.get(s.index())),
            (AluOp::Mov, Operand::Imm(i)) => Some(Known::of_value(i as i64)),
            (AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32, _) => Some(Known::SEXT),
            (AluOp::And, Operand::Imm(i)) if i >= 0 => Some(Known::of_value(i as i64)),
            (AluOp::Rsh, Operand::Imm(i)) if i & 63 >= 33 => Some(Known::SMALL),
            (AluOp::Rsh, Operand::Imm(i)) if i & 63 == 32 => Some(Known::ZEXT),
            _ => None,
        },
        Inst::Endian { op, bits, .. } => match (op, bits) {
            (_, 16) => Some(Known::SMALL),
            (_, 32) => Some(Known::ZEXT),
            (EndianOp::Le | EndianOp::Be | EndianOp::Swap, _) => None,
        },
        Inst::Lddw {
            kind: LddwKind::Imm(v),
            ..
        } => Some(Known::of_value(v as i64)),
        Inst::Load { size, signed, .. } => Some(match (size, signed) {
            (Size::DW, _) => return None,
            (Size::W, false) => Known::ZEXT,
            (Size::B | Size::H, false) => Known::SMALL,
            (_, true) => Known::SEXT,
        }),
        _ => None,
    }
}

/// The register an instruction's [`result`] describes.
fn result_reg(inst: &Inst) -> Option<usize> {
    match *inst {
        Inst::Alu { dst, .. } | Inst::Endian { dst, .. } | Inst::Lddw { dst, .. } => {
            Some(dst.index())
        }
        Inst::Load { dst, .. } => Some(dst.index()),
        _ => None,
    }
}

/// Facts after `inst` given the facts before it.
fn transfer(inst: &Inst, before: KnownRegs, zext_dead: bool) -> KnownRegs {
    let written = writes(inst);
    let mut after = KnownRegs {
        zext: before.zext & !written,
        sext: before.sext & !written,
    };
    if let (Some(r), Some(k)) = (result_reg(inst), result(inst, before, zext_dead)) {
        after.set(r, k);
    }
    after
}

/// Facts before every pc of `[start, end)` (indexed from `start`).
/// `zext_dead` comes from [`super::zext::dead_zero_extensions`].
///
/// Round-robin iteration in pc order: a pass propagates along every
/// forward edge at once, so only a change across a backward edge (a loop)
/// needs another pass. The transfer is monotone, so this reaches the same
/// greatest fixpoint as any worklist order.
pub fn analyze(insts: &[Inst], start: usize, end: usize, zext_dead: &[bool]) -> Vec<KnownRegs> {
    let mut input = vec![KnownRegs::TOP; end - start];
    // Nothing is known on entry.
    input[0] = KnownRegs::NONE;
    let mut again = true;
    while again {
        again = false;
        for pc in start..end {
            let out = transfer(&insts[pc], input[pc - start], zext_dead[pc - start]);
            for s in super::cfg::successors(insts, pc, end) {
                let slot = &mut input[s - start];
                let met = slot.meet(out);
                if met != *slot {
                    *slot = met;
                    // A later pc is visited later in this pass.
                    again |= s <= pc;
                }
            }
        }
    }
    input
}

/// Registers `inst` may write (bit n = rn), calls clobbering r0..r5.
pub fn writes(inst: &Inst) -> u16 {
    let bit = |r: rvbpf_ebpf::inst::Reg| 1u16 << r.index();
    match *inst {
        Inst::Alu { dst, .. } | Inst::Endian { dst, .. } | Inst::Lddw { dst, .. } => bit(dst),
        Inst::Load { dst, .. } => bit(dst),
        Inst::LoadPacket { .. } => 0x3f,
        Inst::Atomic { fetch, src, .. } => {
            // cmpxchg writes r0, fetch forms the source register.
            bit(rvbpf_ebpf::inst::Reg::R0) | if fetch { bit(src) } else { 0 }
        }
        Inst::Call(CallTarget::Helper(_) | CallTarget::Kfunc(_) | CallTarget::Local(_))
        | Inst::Callx { .. } => 0x3f,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_ebpf::asm::assemble;

    fn facts(src: &str) -> Vec<KnownRegs> {
        let insts = assemble(src).unwrap();
        let dead = vec![false; insts.len()];
        analyze(&insts, 0, insts.len(), &dead)
    }

    #[test]
    fn facts_flow_around_loops_and_meet_at_joins() {
        let f = facts(
            "ldxw %r5, [%r1+0]
             mov %r6, 0
             loop:
             add %r6, 1
             jlt32 %r6, %r5, loop
             ldxsw %r7, [%r1+4]
             jeq %r6, 3, +1
             ldxdw %r7, [%r1+8]
             exit",
        );
        // r5 stays zero-extended in the loop (pc 3); r6 does not (add).
        assert_eq!(f[3].get(5), Known::ZEXT);
        assert_eq!(f[3].get(6), Known::default());
        // At the exit, r7 is sign-extended on one path only.
        assert_eq!(f[7].get(7), Known::default());
        assert_eq!(f[6].get(7), Known::SEXT);
    }

    #[test]
    fn calls_forget_r0_to_r5_and_dead_zero_extensions_know_nothing() {
        let f = facts("ldxw %r1, [%r1+0]\nldxw %r6, [%r1+0]\ncall 1\nexit");
        assert_eq!(f[3].get(1), Known::default());
        assert_eq!(f[3].get(6), Known::ZEXT);
        let insts = assemble("mov32 %r0, %r1\nadd32 %r0, 1\nexit").unwrap();
        let k = analyze(&insts, 0, 3, &[true, false, false]);
        assert_eq!(k[1].get(0), Known::default());
        assert_eq!(k[2].get(0), Known::ZEXT);
    }
}
