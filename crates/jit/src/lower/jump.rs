//! Conditional and unconditional jumps.
//!
//! JMP32 compares the low halves. Both operands are sign-extended (`sext.w`,
//! one instruction on every target) into temporaries, for every condition:
//! sign-extension from 32 to 64 bits preserves signed order, equality, and
//! also unsigned order (values below 2^31 stay put and keep their order, the
//! others map in order onto the top of the 64-bit range, above all of them).

use super::Cx;
use crate::items::{Item, Label};
use crate::regmap::{bpf_reg, T1, T2};
use crate::JitError;
use rvbpf_ebpf::inst::{Cond, Operand, Reg as BpfReg};
use rvbpf_rv64::{AluOp, BranchOp, Reg};

/// Label of BPF pc `pc + 1 + off`, which must lie inside the function.
pub fn target(cx: &Cx, off: i64) -> Result<Label, JitError> {
    let t = cx.pc as i64 + 1 + off;
    let f = &cx.facts().functions[cx.func];
    if t < f.start as i64 || t >= f.end as i64 {
        return Err(cx.invalid(format!("jump target {t} is outside function `{}`", f.name)));
    }
    Ok(Label::Pc(t as usize))
}

pub fn lower_cond(
    cx: &mut Cx,
    is32: bool,
    cond: Cond,
    dst: BpfReg,
    src: Operand,
    off: i16,
) -> Result<(), JitError> {
    let target = target(cx, off as i64)?;
    let mut a = bpf_reg(dst);
    let b = match src {
        Operand::Reg(s) => bpf_reg(s),
        Operand::Imm(0) => Reg::ZERO,
        Operand::Imm(i) => {
            // Sign-extended, like the register it is compared with.
            cx.operand_imm(i as i64)
        }
    };
    if cond == Cond::Set {
        cx.push(rvbpf_rv64::Inst::alu(AluOp::And, T2, a, b));
        if is32 {
            cx.sext32(T2, T2);
        }
        cx.item(Item::Branch {
            op: BranchOp::Bne,
            rs1: T2,
            rs2: Reg::ZERO,
            target,
        });
        return Ok(());
    }
    let mut b = b;
    if is32 {
        cx.sext32(T2, a);
        a = T2;
        if matches!(src, Operand::Reg(_)) {
            cx.sext32(T1, b);
            b = T1;
        }
    }
    // (op, swap operands)
    let (op, swap) = match cond {
        Cond::Eq => (BranchOp::Beq, false),
        Cond::Ne => (BranchOp::Bne, false),
        Cond::Gt => (BranchOp::Bltu, true),
        Cond::Ge => (BranchOp::Bgeu, false),
        Cond::Lt => (BranchOp::Bltu, false),
        Cond::Le => (BranchOp::Bgeu, true),
        Cond::Sgt => (BranchOp::Blt, true),
        Cond::Sge => (BranchOp::Bge, false),
        Cond::Slt => (BranchOp::Blt, false),
        Cond::Sle => (BranchOp::Bge, true),
        Cond::Set => unreachable!("handled above"),
    };
    let (rs1, rs2) = if swap { (b, a) } else { (a, b) };
    cx.item(Item::Branch {
        op,
        rs1,
        rs2,
        target,
    });
    Ok(())
}
