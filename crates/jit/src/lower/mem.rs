//! Loads, stores and atomics.

use super::Cx;
use crate::items::Item;
use crate::regmap::{bpf_reg, T0, T1, T2, T3};
use crate::JitError;
use rvbpf_ebpf::inst::{AtomicOp, Operand, Reg as BpfReg, Size};
use rvbpf_rv64::{AluOp, AmoOp, AmoWidth, BranchOp, Imm12, Inst, LoadOp, Ordering, Reg, StoreOp};

/// `base + off` as a (register, imm12) pair, computing into t2 when the
/// 16-bit BPF offset does not fit 12 bits.
fn address(cx: &mut Cx, base: Reg, off: i16) -> (Reg, Imm12) {
    if let Some(imm) = Imm12::new(off as i64) {
        return (base, imm);
    }
    cx.li(T2, off as i64);
    cx.push(Inst::alu(AluOp::Add, T2, T2, base));
    (T2, Imm12::ZERO)
}

pub fn lower_load(cx: &mut Cx, size: Size, signed: bool, dst: BpfReg, src: BpfReg, off: i16) {
    let op = match (size, signed) {
        (Size::B, false) => LoadOp::Lbu,
        (Size::B, true) => LoadOp::Lb,
        (Size::H, false) => LoadOp::Lhu,
        (Size::H, true) => LoadOp::Lh,
        (Size::W, false) => LoadOp::Lwu,
        (Size::W, true) => LoadOp::Lw,
        (Size::DW, _) => LoadOp::Ld,
    };
    let (rs1, offset) = address(cx, bpf_reg(src), off);
    cx.push(Inst::Load {
        op,
        rd: bpf_reg(dst),
        rs1,
        offset,
    });
}

pub fn lower_store(cx: &mut Cx, size: Size, dst: BpfReg, off: i16, src: Operand) {
    let op = match size {
        Size::B => StoreOp::Sb,
        Size::H => StoreOp::Sh,
        Size::W => StoreOp::Sw,
        Size::DW => StoreOp::Sd,
    };
    let value = match src {
        Operand::Reg(s) => bpf_reg(s),
        Operand::Imm(0) => Reg::ZERO,
        Operand::Imm(i) => cx.operand_imm(i as i64),
    };
    let (rs1, offset) = address(cx, bpf_reg(dst), off);
    cx.push(Inst::Store {
        op,
        rs1,
        rs2: value,
        offset,
    });
}

/// BPF atomics are sequentially consistent: every AMO/LR/SC is `.aqrl`.
pub fn lower_atomic(
    cx: &mut Cx,
    size: Size,
    op: AtomicOp,
    fetch: bool,
    dst: BpfReg,
    src: BpfReg,
    off: i16,
) -> Result<(), JitError> {
    let width = match size {
        Size::W => AmoWidth::W,
        Size::DW => AmoWidth::D,
        _ => return Err(cx.invalid("atomic operations are 32 or 64 bits")),
    };
    let is32 = width == AmoWidth::W;
    let addr = match off {
        0 => bpf_reg(dst),
        _ => {
            let (base, imm) = address(cx, bpf_reg(dst), off);
            if base != T2 {
                cx.push(Inst::addi(T2, base, imm));
            }
            T2
        }
    };
    let rs = bpf_reg(src);
    let ordering = Ordering::AcqRel;
    let amo = match op {
        AtomicOp::Add => AmoOp::Add,
        AtomicOp::Or => AmoOp::Or,
        AtomicOp::And => AmoOp::And,
        AtomicOp::Xor => AmoOp::Xor,
        AtomicOp::Xchg => AmoOp::Swap,
        AtomicOp::Cmpxchg => {
            cmpxchg(cx, width, addr, rs);
            return Ok(());
        }
    };
    cx.push(Inst::Amo {
        op: amo,
        width,
        ordering,
        rd: if fetch { rs } else { Reg::ZERO },
        rs1: addr,
        rs2: rs,
    });
    // amo*.w returns the old value sign-extended; BPF wants it zero-extended.
    if fetch && is32 {
        cx.zext32(rs, rs);
    }
    Ok(())
}

/// `r0 = cmpxchg(addr, r0, src)` as an LR/SC loop:
///
/// ```text
///   [sext.w t1, a5]          ; 32-bit: lr.w sign-extends, compare alike
/// retry:
///   lr.{w,d}.aqrl t0, (addr)
///   bne  t0, expected, done
///   sc.{w,d}.aqrl t3, src, (addr)
///   bnez t3, retry
/// done:
///   a5 = t0                  ; zero-extended for 32-bit
/// ```
fn cmpxchg(cx: &mut Cx, width: AmoWidth, addr: Reg, src: Reg) {
    let r0 = bpf_reg(BpfReg::R0);
    let ordering = Ordering::AcqRel;
    let expected = if width == AmoWidth::W {
        cx.sext32(T1, r0);
        T1
    } else {
        r0
    };
    let (retry, done) = (cx.new_label(), cx.new_label());
    cx.item(Item::Bind(retry));
    cx.push(Inst::Lr {
        width,
        ordering,
        rd: T0,
        rs1: addr,
    });
    cx.item(Item::Branch {
        op: BranchOp::Bne,
        rs1: T0,
        rs2: expected,
        target: done,
    });
    cx.push(Inst::Sc {
        width,
        ordering,
        rd: T3,
        rs1: addr,
        rs2: src,
    });
    cx.item(Item::Branch {
        op: BranchOp::Bne,
        rs1: T3,
        rs2: Reg::ZERO,
        target: retry,
    });
    cx.item(Item::Bind(done));
    if width == AmoWidth::W {
        cx.zext32(r0, T0);
    } else {
        cx.mv(r0, T0);
    }
}
