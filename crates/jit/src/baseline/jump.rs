//! The hot path of conditional jumps: forward, register or immediate
//! operand, 64- or 32-bit, any condition but `jset`. Like `fast.rs`, the
//! words are chosen by selects and written as one group: an immediate
//! built in t1, the 32-bit operands sign-extended into t2/t1 (see
//! `lower/jump.rs` for why sign-extension serves every condition), then
//! `b<cc>` or `b<!cc> +8; jal` by the distance guess (`SHORT_FORWARD`).
//! Backward jumps, `jset` and functions being emitted again after a failed
//! guess take the general path (`Emitter::cond_jump`).

use super::enc::*;
use super::fixup::{LocalFix, LONG, SHORT};
use super::Emitter;
use rvbpf_ebpf::inst::{Cond, Operand};

/// `(funct3, swap operands)` by `Cond` discriminant: Eq, Gt, Ge, Set
/// (not used here), Ne, Sgt, Sge, Lt, Le, Slt, Sle.
const CONDS: [(u32, bool); 11] = [
    (BEQ, false),
    (BLTU, true),
    (BGEU, false),
    (BNE, false),
    (BNE, false),
    (BLT, true),
    (BGE, false),
    (BLTU, false),
    (BGEU, true),
    (BLT, false),
    (BGE, true),
];

impl Emitter<'_> {
    /// `if dst <cond> src goto to` on the hot path; `false` when the
    /// general path must lower it (nothing emitted then).
    #[inline(always)]
    pub(super) fn cond_jump_fast(
        &mut self,
        pc: usize,
        is32: bool,
        cond: Cond,
        dst: R,
        src: Operand,
        to: usize,
    ) -> bool {
        if (cond == Cond::Set) | (to <= pc) | !self.force.is_empty() {
            return false;
        }
        let (is_reg, rb, lit) = match src {
            Operand::Reg(s) => (true, BPF[s.index() & 15], 0),
            Operand::Imm(v) => (false, T1, v),
        };
        let mut buf = [0u32; 6];
        let mut k = 0;
        // The immediate in t1 (already sign-extended, as 32-bit tests want).
        let fits = (-2048..2048).contains(&lit);
        let (hi, lo) = hi_lo(lit as i64);
        buf[k] = if fits {
            addi(T1, ZERO, lit)
        } else {
            lui(T1, hi)
        };
        k += !is_reg as usize;
        buf[k] = i(OP_IMM_32, 0, T1, T1, lo);
        k += (!is_reg & !fits) as usize;
        // 32-bit: both operands sign-extended from bit 31.
        buf[k] = sext_w(T2, dst);
        k += is32 as usize;
        let a = if is32 { T2 } else { dst };
        buf[k] = sext_w(T1, rb);
        k += (is32 & is_reg) as usize;
        let b = if is32 { T1 } else { rb };
        let (f3, swap) = CONDS[cond as usize];
        let (rs1, rs2) = if swap { (b, a) } else { (a, b) };
        let long = (to - pc) as i64 >= super::SHORT_FORWARD;
        buf[k] = if long {
            branch(f3 ^ 1, rs1, rs2, 8)
        } else {
            branch(f3, rs1, rs2, 0)
        };
        k += long as usize;
        let len = self.words.len();
        self.local.push(LocalFix {
            at: (len + k) as u32,
            pc: pc as u32,
            target: to as u32,
            form: if long { LONG } else { SHORT },
        });
        buf[k] = if long { jal(ZERO, 0) } else { buf[k] };
        k += 1;
        self.words.extend_from_slice(&buf);
        self.words.truncate(len + k);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_follows_the_cond_discriminants() {
        assert_eq!(CONDS[Cond::Eq as usize], (BEQ, false));
        assert_eq!(CONDS[Cond::Gt as usize], (BLTU, true));
        assert_eq!(CONDS[Cond::Ne as usize], (BNE, false));
        assert_eq!(CONDS[Cond::Sge as usize], (BGE, false));
        assert_eq!(CONDS[Cond::Lt as usize], (BLTU, false));
        assert_eq!(CONDS[Cond::Sle as usize], (BGE, true));
        assert_eq!(Cond::Sle as usize, CONDS.len() - 1);
    }
}
