//! Fusing `lsh ra, k; add rb, ra` (k = 1..3) into Zba's `shNadd`, the
//! scaled-index address idiom `base + (i << k)`.
//!
//! Compilers emit it as `mov ra, ri; lsh ra, k; mov rb, base; add rb, ra`;
//! with the movs fused (see [`super::fuse`]) that is `slli; add`, and with
//! this fusion one `sh{k}add rb, ri, base`. The shift emits nothing: it is
//! allowed only when `ra` is dead after the add (it is left unshifted), the
//! add is the next instruction or follows one 64-bit `mov rb, rc` that
//! [`super::fuse`] folds into it, and no jump lands between the shift and
//! the add.

use super::cfg::Cfg;
use super::live;
use rvbpf_ebpf::inst::{AluOp, Inst, Operand};

/// A shift folded into a later add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingShift {
    /// pc of the add that performs the shift.
    pub add_pc: usize,
    /// Shift amount, 1..=3.
    pub amount: u8,
}

/// The add that absorbs the `lsh` at `pc`, if it can (see the module docs).
pub fn fused_shift(insts: &[Inst], pc: usize, cfg: &Cfg, live_out: &[u16]) -> Option<PendingShift> {
    let (start, end) = (cfg.start, cfg.end);
    let Inst::Alu {
        is64: true,
        op: AluOp::Lsh,
        dst: ra,
        src: Operand::Imm(amount @ 1..=3),
    } = insts[pc]
    else {
        return None;
    };
    let mut add_pc = pc + 1;
    if let Some(Inst::Alu {
        is64: true,
        op: AluOp::Mov,
        dst,
        src: Operand::Reg(rc),
    }) = insts.get(add_pc)
    {
        // Only a mov the add absorbs: it must not touch ra or emit code.
        if *rc == ra || *dst == ra || rc == dst {
            return None;
        }
        add_pc += 1;
    }
    if add_pc >= end || (pc + 1..=add_pc).any(|p| cfg.is_target(p)) {
        return None;
    }
    let Inst::Alu {
        is64: true,
        op: AluOp::Add,
        dst: rb,
        src: Operand::Reg(src),
    } = insts[add_pc]
    else {
        return None;
    };
    if src != ra || rb == ra || live::is_live(live_out, start, add_pc, ra) {
        return None;
    }
    // A mov between must be `mov rb, rc` (absorbed by the add).
    if add_pc == pc + 2 {
        if let Inst::Alu { dst, .. } = insts[pc + 1] {
            if dst != rb {
                return None;
            }
        }
    }
    Some(PendingShift {
        add_pc,
        amount: amount as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_ebpf::asm::assemble;

    fn fused(src: &str, pc: usize) -> Option<PendingShift> {
        let insts = assemble(src).unwrap();
        let n = insts.len();
        let cfg = Cfg::new(&insts, 0, n);
        let live = live::analyze(&cfg).live_out;
        fused_shift(&insts, pc, &cfg, &live)
    }

    #[test]
    fn scaled_index_with_dead_index_copy_fuses() {
        let src = "mov %r9, %r6\nlsh %r9, 2\nmov %r1, %r3\nadd %r1, %r9\nldxw %r9, [%r1]\nmov %r0, %r9\nexit";
        assert_eq!(
            fused(src, 1),
            Some(PendingShift {
                add_pc: 3,
                amount: 2
            })
        );
        let direct = "lsh %r2, 3\nadd %r1, %r2\nmov %r0, %r1\nexit";
        assert_eq!(
            fused(direct, 0),
            Some(PendingShift {
                add_pc: 1,
                amount: 3
            })
        );
    }

    #[test]
    fn live_shifted_value_big_shift_or_other_use_does_not_fuse() {
        // r2 (shifted) is read after the add.
        assert_eq!(
            fused("lsh %r2, 3\nadd %r1, %r2\nmov %r0, %r2\nexit", 0),
            None
        );
        // Shift by 4 has no shNadd.
        assert_eq!(
            fused("lsh %r2, 4\nadd %r1, %r2\nmov %r0, %r1\nexit", 0),
            None
        );
        // The mov between writes another register than the add's.
        assert_eq!(
            fused(
                "lsh %r2, 1\nmov %r4, %r3\nadd %r1, %r2\nmov %r0, %r1\nexit",
                0
            ),
            None
        );
        // A jump lands on the add.
        assert_eq!(
            fused("ja +1\nlsh %r2, 1\nadd %r1, %r2\nmov %r0, %r1\nexit", 1),
            None
        );
    }
}
