//! The typed instruction: one variant per instruction *format family*, with
//! an opcode enum selecting the operation. Every field is a checked type, so a
//! value of `Inst` is always encodable.
//!
//! Compressed (RVC) encodings have no variants of their own: the decoder
//! expands them to the base instruction they stand for (the same expansion
//! LLVM uses), and the encoder compresses when a target allows it.

use crate::imm::{BranchOffset, Imm12, Imm20, JumpOffset, Shamt, ShamtW};
use crate::op::{
    AluImmOp, AluOp, AmoOp, AmoWidth, BranchOp, Extension, FenceSet, LoadOp, Ordering, ShiftOp,
    ShiftWOp, StoreOp, UnaryOp,
};
use crate::reg::Reg;

/// An RV64 instruction from I, M, A, Zba, Zbb (and, via expansion, C).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Inst {
    /// `lui rd, imm`: `rd = sext(imm << 12)`.
    Lui { rd: Reg, imm: Imm20 },
    /// `auipc rd, imm`: `rd = pc + sext(imm << 12)`.
    Auipc { rd: Reg, imm: Imm20 },
    /// `jal rd, offset`: `rd = pc + len; pc += offset`.
    Jal { rd: Reg, offset: JumpOffset },
    /// `jalr rd, offset(rs1)`: `t = (rs1 + offset) & !1; rd = pc + len; pc = t`.
    Jalr { rd: Reg, rs1: Reg, offset: Imm12 },
    /// `b<op> rs1, rs2, offset`.
    Branch {
        op: BranchOp,
        rs1: Reg,
        rs2: Reg,
        offset: BranchOffset,
    },
    /// `l<op> rd, offset(rs1)`.
    Load {
        op: LoadOp,
        rd: Reg,
        rs1: Reg,
        offset: Imm12,
    },
    /// `s<op> rs2, offset(rs1)`: stores `rs2` at `rs1 + offset`.
    Store {
        op: StoreOp,
        rs1: Reg,
        rs2: Reg,
        offset: Imm12,
    },
    /// `<op>i rd, rs1, imm` (addi, slti, sltiu, xori, ori, andi, addiw).
    AluImm {
        op: AluImmOp,
        rd: Reg,
        rs1: Reg,
        imm: Imm12,
    },
    /// 64-bit immediate shift/rotate (slli, srli, srai, rori, slli.uw).
    Shift {
        op: ShiftOp,
        rd: Reg,
        rs1: Reg,
        shamt: Shamt,
    },
    /// 32-bit immediate shift/rotate (slliw, srliw, sraiw, roriw).
    ShiftW {
        op: ShiftWOp,
        rd: Reg,
        rs1: Reg,
        shamt: ShamtW,
    },
    /// Register-register operation.
    Alu {
        op: AluOp,
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    /// One-operand Zbb operation (clz, cpop, sext.b, rev8 ...).
    Unary { op: UnaryOp, rd: Reg, rs1: Reg },
    /// `amo<op>.<width><ordering> rd, rs2, (rs1)`.
    Amo {
        op: AmoOp,
        width: AmoWidth,
        ordering: Ordering,
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    /// `lr.<width><ordering> rd, (rs1)`.
    Lr {
        width: AmoWidth,
        ordering: Ordering,
        rd: Reg,
        rs1: Reg,
    },
    /// `sc.<width><ordering> rd, rs2, (rs1)`: `rd = 0` on success.
    Sc {
        width: AmoWidth,
        ordering: Ordering,
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    /// `fence pred, succ` (fm = 0, rd = rs1 = x0).
    Fence { pred: FenceSet, succ: FenceSet },
    /// `fence.tso` (fm = 1000, pred = succ = rw).
    FenceTso,
    /// `fence.i` (Zifencei).
    FenceI,
    /// `ecall`.
    Ecall,
    /// `ebreak`.
    Ebreak,
}

impl Inst {
    /// `nop` (`addi x0, x0, 0`).
    pub const NOP: Inst = Inst::AluImm {
        op: AluImmOp::Addi,
        rd: Reg::ZERO,
        rs1: Reg::ZERO,
        imm: Imm12::ZERO,
    };

    /// `ret` (`jalr x0, 0(ra)`).
    pub const RET: Inst = Inst::Jalr {
        rd: Reg::ZERO,
        rs1: Reg::RA,
        offset: Imm12::ZERO,
    };

    /// `mv rd, rs` (`addi rd, rs, 0`, the form LLVM prints as `mv`).
    pub const fn mv(rd: Reg, rs: Reg) -> Inst {
        Inst::AluImm {
            op: AluImmOp::Addi,
            rd,
            rs1: rs,
            imm: Imm12::ZERO,
        }
    }

    /// `addi rd, rs1, imm`.
    pub const fn addi(rd: Reg, rs1: Reg, imm: Imm12) -> Inst {
        Inst::AluImm {
            op: AluImmOp::Addi,
            rd,
            rs1,
            imm,
        }
    }

    /// `<op> rd, rs1, rs2`.
    pub const fn alu(op: AluOp, rd: Reg, rs1: Reg, rs2: Reg) -> Inst {
        Inst::Alu { op, rd, rs1, rs2 }
    }

    /// The extension (other than C) that defines this instruction; the
    /// base ISA reports [`Extension::I`].
    #[inline]
    pub const fn extension(&self) -> Extension {
        match self {
            Inst::Alu { op, .. } => op.extension(),
            Inst::AluImm { op, .. } => op.extension(),
            Inst::Shift { op, .. } => op.extension(),
            Inst::ShiftW { op, .. } => op.extension(),
            Inst::Unary { op, .. } => op.extension(),
            Inst::Amo { .. } | Inst::Lr { .. } | Inst::Sc { .. } => Extension::A,
            _ => Extension::I,
        }
    }

    /// Does this instruction (possibly) transfer control: jumps, branches,
    /// `ecall`/`ebreak`?
    pub const fn is_control_flow(&self) -> bool {
        matches!(
            self,
            Inst::Jal { .. } | Inst::Jalr { .. } | Inst::Branch { .. } | Inst::Ecall | Inst::Ebreak
        )
    }
}
