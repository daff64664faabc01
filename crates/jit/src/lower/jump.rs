//! Conditional and unconditional jumps.
//!
//! JMP32 compares the low halves. Both operands are sign-extended (`sext.w`,
//! one instruction on every target) into temporaries unless already known
//! to be (or, for unsigned and equality tests, both known zero-extended),
//! for every condition:
//! sign-extension from 32 to 64 bits preserves signed order, equality, and
//! also unsigned order (values below 2^31 stay put and keep their order, the
//! others map in order onto the top of the 64-bit range, above all of them).

use super::Cx;
use crate::items::{Item, Label};
use crate::regmap::{bpf_reg, T1, T2};
use crate::JitError;
use rvbpf_ebpf::inst::{AluOp as BpfAlu, Cond, Inst, Operand, Reg as BpfReg};
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

/// Label an unconditional `ja off` jumps to. When the `ja` follows
/// `mov x, y` and lands on `mov y, x` (64-bit register moves), the mov at
/// the target is a no-op on this path: jump past it. Compilers leave this
/// shape at loop back edges (`mov r6, r8; ja head; head: mov r8, r6`).
///
/// Everything the lowering knows at the instruction after the target holds
/// on this path too: the dataflow facts there are a meet over paths that
/// include this one through the skipped mov, which changes nothing here. A
/// mov at the target fused into the next instruction (`super::fuse`) makes
/// that instruction read `x` for `y`: equal on this path.
pub fn ja_target(cx: &Cx, off: i64) -> Result<Label, JitError> {
    let label = target(cx, off)?;
    let Label::Pc(t) = label else {
        return Ok(label);
    };
    let f = &cx.facts().functions[cx.func];
    let insts = cx.facts().insts;
    if cx.pc == f.start || t + 1 >= f.end {
        return Ok(label);
    }
    let mov64 = |inst: &Inst| match *inst {
        Inst::Alu {
            is64: true,
            op: BpfAlu::Mov,
            dst,
            src: Operand::Reg(src),
        } => Some((dst, src)),
        _ => None,
    };
    match (mov64(&insts[cx.pc - 1]), mov64(&insts[t])) {
        (Some((x, y)), Some((y2, x2))) if x == x2 && y == y2 => Ok(Label::Pc(t + 1)),
        _ => Ok(label),
    }
}

/// The two registers a `jmp32` compares: both sign-extended from bit 31,
/// or, for unsigned and equality tests, both zero-extended. What is already
/// known about a register (`super::known`) saves its extension.
fn operands32(cx: &mut Cx, cond: Cond, dst: BpfReg, src: Operand) -> (Reg, Reg) {
    let signed = matches!(cond, Cond::Sgt | Cond::Sge | Cond::Slt | Cond::Sle);
    let ka = cx.known.get(dst.index());
    let both_zext = !signed
        && ka.zext
        && match src {
            Operand::Reg(s) => cx.known.get(s.index()).zext,
            Operand::Imm(_) => true,
        };
    if both_zext {
        let b = match src {
            Operand::Reg(s) => bpf_reg(s),
            Operand::Imm(0) => Reg::ZERO,
            Operand::Imm(i) => cx.operand_imm(i as u32 as i64),
        };
        return (bpf_reg(dst), b);
    }
    let a = if ka.sext {
        bpf_reg(dst)
    } else {
        cx.sext32(T2, bpf_reg(dst));
        T2
    };
    let b = match src {
        Operand::Reg(s) if cx.known.get(s.index()).sext => bpf_reg(s),
        Operand::Reg(s) => {
            cx.sext32(T1, bpf_reg(s));
            T1
        }
        Operand::Imm(0) => Reg::ZERO,
        // Sign-extended, like the register it is compared with.
        Operand::Imm(i) => cx.operand_imm(i as i64),
    };
    (a, b)
}

pub fn lower_cond(
    cx: &mut Cx,
    is32: bool,
    cond: Cond,
    dst: BpfReg,
    src: Operand,
    off: i16,
) -> Result<(), JitError> {
    let target = match cx.branch_to {
        Some(label) => label,
        None => target(cx, off as i64)?,
    };
    if cond == Cond::Set {
        let b = match src {
            Operand::Reg(s) => bpf_reg(s),
            Operand::Imm(i) => cx.operand_imm(i as i64),
        };
        cx.push(rvbpf_rv64::Inst::alu(AluOp::And, T2, bpf_reg(dst), b));
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
    let (a, b) = if is32 {
        operands32(cx, cond, dst, src)
    } else {
        let b = match src {
            Operand::Reg(s) => bpf_reg(s),
            Operand::Imm(0) => Reg::ZERO,
            Operand::Imm(i) => cx.operand_imm(i as i64),
        };
        (bpf_reg(dst), b)
    };
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
