//! Fusing `mov dst, src` into the ALU operation that follows it.
//!
//! BPF is two-address (`dst = dst op src`), so compilers emit
//! `mov r5, r1; add r5, r3` for a three-address `r5 = r1 + r3`. RV64 is
//! three-address: the pair becomes one `add a4, a0, a2`. The mov emits
//! nothing and the next instruction reads `src` where it would read `dst`.
//!
//! Allowed when the next instruction is not a jump target (other paths
//! reach it with their own `dst`), is a plain ALU operation (add, sub, mul,
//! or, and, xor, shifts) on the same `dst`, and a 32-bit mov is followed by
//! a 32-bit operation (which reads only the low half, so the mov's
//! zero-extension is not needed).

use super::cfg::Cfg;
use rvbpf_ebpf::inst::{AluOp, Inst, Operand, Reg};

/// The `src` of a `mov dst, src` at `pc` that the instruction at `pc + 1`
/// absorbs, if it can.
pub fn fused_mov_source(insts: &[Inst], pc: usize, cfg: &Cfg) -> Option<Reg> {
    let Inst::Alu {
        is64: mov64,
        op: AluOp::Mov,
        dst,
        src: Operand::Reg(src),
    } = insts[pc]
    else {
        return None;
    };
    if pc + 1 >= cfg.end || cfg.is_target(pc + 1) || src == dst {
        return None;
    }
    match insts[pc + 1] {
        Inst::Alu {
            is64, op, dst: d, ..
        } if d == dst
            && (mov64 || !is64)
            && matches!(
                op,
                AluOp::Add
                    | AluOp::Sub
                    | AluOp::Mul
                    | AluOp::Or
                    | AluOp::And
                    | AluOp::Xor
                    | AluOp::Lsh
                    | AluOp::Rsh
                    | AluOp::Arsh
            ) =>
        {
            Some(src)
        }
        _ => None,
    }
}
