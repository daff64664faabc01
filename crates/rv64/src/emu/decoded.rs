//! The executor's pre-decoded instruction form.
//!
//! The shared decoder yields a typed [`Inst`] whose operation sits two enum
//! levels deep (`Inst::Alu { op: AluOp::Add, .. }`). The hot loop wants a
//! single flat `match`, so each decoded instruction is translated once into a
//! [`Decoded`]: one `Kind` byte, register indices and one immediate. Facts
//! known at decode time are folded in: `lui` becomes a constant load, writes
//! to `x0` become `Nop` (or go to a sink register when the instruction has
//! side effects), branch and `jal` offsets are pre-scaled to 2-byte parcels.

use crate::imm::{BranchOffset, JumpOffset};
use crate::inst::Inst;
use crate::op::{
    AluImmOp, AluOp, AmoOp, AmoWidth, BranchOp, LoadOp, ShiftOp, ShiftWOp, StoreOp, UnaryOp,
};
use crate::reg::Reg;

/// Register-file index that absorbs writes to `x0` from instructions that
/// must still run for their side effects (loads, jumps, AMOs). The executor's
/// register file has 256 entries so a `u8` index needs no bounds check.
pub(crate) const SINK: u8 = 32;

/// Flat operation selector; one arm of the executor's `match` each.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
#[allow(missing_docs)]
pub(crate) enum Kind {
    /// Cache slot not yet decoded.
    NotDecoded,
    /// Bytes that do not decode; see [`Decoded::UNDECODABLE`].
    Undecodable,
    Nop,
    /// `rd = imm` (from `lui`, `c.lui`).
    Li,
    /// `rd = pc + imm`.
    Auipc,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    Sb,
    Sh,
    Sw,
    Sd,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Addiw,
    Slli,
    Srli,
    Srai,
    Rori,
    SlliUw,
    Slliw,
    Srliw,
    Sraiw,
    Roriw,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,
    Sh1add,
    Sh2add,
    Sh3add,
    AddUw,
    Sh1addUw,
    Sh2addUw,
    Sh3addUw,
    Andn,
    Orn,
    Xnor,
    Max,
    Maxu,
    Min,
    Minu,
    Rol,
    Ror,
    Rolw,
    Rorw,
    Clz,
    Ctz,
    Cpop,
    Clzw,
    Ctzw,
    Cpopw,
    SextB,
    SextH,
    ZextH,
    Rev8,
    OrcB,
    LrW,
    LrD,
    ScW,
    ScD,
    /// AMOs: the operation is in `aux`.
    AmoW,
    AmoD,
    Ecall,
    Ebreak,
}

/// A translated instruction: 16 bytes, `Copy`, no heap.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Decoded {
    pub kind: Kind,
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    /// Instruction length in 2-byte parcels (1 = compressed, 2 = 32-bit).
    pub parcels: u8,
    /// AMO operation (index into [`AMO_OPS`]) for `AmoW`/`AmoD`.
    pub aux: u8,
    /// Immediate: value, shift amount, or branch/jump offset in parcels.
    pub imm: i32,
    /// Instructions from this one to the end of its straight-line chain,
    /// both included (see `exec::decode_chain`). The executor charges the
    /// budget once per chain with it.
    pub run: u32,
}

/// AMO operations in `Decoded::aux` order.
pub(crate) const AMO_OPS: [AmoOp; 9] = [
    AmoOp::Swap,
    AmoOp::Add,
    AmoOp::Xor,
    AmoOp::And,
    AmoOp::Or,
    AmoOp::Min,
    AmoOp::Max,
    AmoOp::Minu,
    AmoOp::Maxu,
];

impl Decoded {
    /// Placeholder of an empty cache slot.
    pub const NOT_DECODED: Decoded = Decoded {
        kind: Kind::NotDecoded,
        rd: 0,
        rs1: 0,
        rs2: 0,
        parcels: 0,
        aux: 0,
        imm: 0,
        run: 0,
    };

    /// Marker for bytes that do not decode (or cannot be fetched): it ends a
    /// chain and, when executed, re-decodes to produce the typed error.
    pub const UNDECODABLE: Decoded = Decoded {
        kind: Kind::Undecodable,
        parcels: 1,
        ..Decoded::NOT_DECODED
    };

    /// Does this instruction end a straight-line chain (it may not fall
    /// through to the next parcel)?
    pub fn ends_chain(&self) -> bool {
        use Kind::*;
        matches!(
            self.kind,
            Jal | Jalr
                | Beq
                | Bne
                | Blt
                | Bge
                | Bltu
                | Bgeu
                | Ecall
                | Ebreak
                | Undecodable
                | NotDecoded
        )
    }

    /// Translates `inst` (`len` bytes long) for execution.
    pub fn translate(inst: Inst, len: usize) -> Decoded {
        let base = Decoded {
            parcels: (len / 2) as u8,
            ..Decoded::NOT_DECODED
        };
        let r = |reg: Reg| reg.index();
        // Writing x0 has no effect, so an instruction whose only effect is
        // that write becomes `Nop`.
        let pure = |d: Decoded| {
            if d.rd == 0 {
                Decoded {
                    kind: Kind::Nop,
                    ..d
                }
            } else {
                d
            }
        };
        // Destination of instructions that must run anyway (loads can
        // fault, jumps jump, AMOs write memory).
        let sink = |rd: Reg| if rd.is_zero() { SINK } else { rd.index() };
        // Every immediate below fits i32: 12-bit values, 13/21-bit offsets,
        // 6-bit shift amounts and `imm20 << 12`.
        let imm32 = |v: i64| v as i32;
        match inst {
            Inst::Lui { rd, imm } => pure(Decoded {
                kind: Kind::Li,
                rd: r(rd),
                imm: imm32(imm.upper_value()),
                ..base
            }),
            Inst::Auipc { rd, imm } => pure(Decoded {
                kind: Kind::Auipc,
                rd: r(rd),
                imm: imm32(imm.upper_value()),
                ..base
            }),
            Inst::Jal { rd, offset } => Decoded {
                kind: Kind::Jal,
                rd: sink(rd),
                imm: jump_parcels(offset),
                ..base
            },
            Inst::Jalr { rd, rs1, offset } => Decoded {
                kind: Kind::Jalr,
                rd: sink(rd),
                rs1: r(rs1),
                imm: imm32(offset.value()),
                ..base
            },
            Inst::Branch {
                op,
                rs1,
                rs2,
                offset,
            } => Decoded {
                kind: branch_kind(op),
                rs1: r(rs1),
                rs2: r(rs2),
                imm: branch_parcels(offset),
                ..base
            },
            Inst::Load {
                op,
                rd,
                rs1,
                offset,
            } => Decoded {
                kind: load_kind(op),
                rd: sink(rd),
                rs1: r(rs1),
                imm: imm32(offset.value()),
                ..base
            },
            Inst::Store {
                op,
                rs1,
                rs2,
                offset,
            } => Decoded {
                kind: store_kind(op),
                rs1: r(rs1),
                rs2: r(rs2),
                imm: imm32(offset.value()),
                ..base
            },
            Inst::AluImm { op, rd, rs1, imm } => pure(Decoded {
                kind: alu_imm_kind(op),
                rd: r(rd),
                rs1: r(rs1),
                imm: imm32(imm.value()),
                ..base
            }),
            Inst::Shift { op, rd, rs1, shamt } => pure(Decoded {
                kind: shift_kind(op),
                rd: r(rd),
                rs1: r(rs1),
                imm: shamt.value() as i32,
                ..base
            }),
            Inst::ShiftW { op, rd, rs1, shamt } => pure(Decoded {
                kind: shift_w_kind(op),
                rd: r(rd),
                rs1: r(rs1),
                imm: shamt.value() as i32,
                ..base
            }),
            Inst::Alu { op, rd, rs1, rs2 } => pure(Decoded {
                kind: alu_kind(op),
                rd: r(rd),
                rs1: r(rs1),
                rs2: r(rs2),
                ..base
            }),
            Inst::Unary { op, rd, rs1 } => pure(Decoded {
                kind: unary_kind(op),
                rd: r(rd),
                rs1: r(rs1),
                ..base
            }),
            Inst::Amo {
                op,
                width,
                rd,
                rs1,
                rs2,
                ..
            } => Decoded {
                kind: match width {
                    AmoWidth::W => Kind::AmoW,
                    AmoWidth::D => Kind::AmoD,
                },
                rd: sink(rd),
                rs1: r(rs1),
                rs2: r(rs2),
                aux: AMO_OPS.iter().position(|&o| o == op).unwrap_or(0) as u8,
                ..base
            },
            Inst::Lr { width, rd, rs1, .. } => Decoded {
                kind: match width {
                    AmoWidth::W => Kind::LrW,
                    AmoWidth::D => Kind::LrD,
                },
                rd: sink(rd),
                rs1: r(rs1),
                ..base
            },
            Inst::Sc {
                width,
                rd,
                rs1,
                rs2,
                ..
            } => Decoded {
                kind: match width {
                    AmoWidth::W => Kind::ScW,
                    AmoWidth::D => Kind::ScD,
                },
                rd: sink(rd),
                rs1: r(rs1),
                rs2: r(rs2),
                ..base
            },
            // A single in-order hart sees its own memory operations in
            // program order and has no instruction prefetch to flush.
            Inst::Fence { .. } | Inst::FenceTso | Inst::FenceI => Decoded {
                kind: Kind::Nop,
                ..base
            },
            Inst::Ecall => Decoded {
                kind: Kind::Ecall,
                ..base
            },
            Inst::Ebreak => Decoded {
                kind: Kind::Ebreak,
                ..base
            },
        }
    }

    /// Does executing this instruction write `rd` (for tracing)?
    pub fn writes_rd(&self) -> bool {
        use Kind::*;
        !matches!(
            self.kind,
            NotDecoded
                | Undecodable
                | Nop
                | Beq
                | Bne
                | Blt
                | Bge
                | Bltu
                | Bgeu
                | Sb
                | Sh
                | Sw
                | Sd
                | Ecall
                | Ebreak
        ) && self.rd != SINK
    }
}

fn jump_parcels(offset: JumpOffset) -> i32 {
    (offset.value() >> 1) as i32
}

fn branch_parcels(offset: BranchOffset) -> i32 {
    (offset.value() >> 1) as i32
}

fn branch_kind(op: BranchOp) -> Kind {
    match op {
        BranchOp::Beq => Kind::Beq,
        BranchOp::Bne => Kind::Bne,
        BranchOp::Blt => Kind::Blt,
        BranchOp::Bge => Kind::Bge,
        BranchOp::Bltu => Kind::Bltu,
        BranchOp::Bgeu => Kind::Bgeu,
    }
}

fn load_kind(op: LoadOp) -> Kind {
    match op {
        LoadOp::Lb => Kind::Lb,
        LoadOp::Lh => Kind::Lh,
        LoadOp::Lw => Kind::Lw,
        LoadOp::Ld => Kind::Ld,
        LoadOp::Lbu => Kind::Lbu,
        LoadOp::Lhu => Kind::Lhu,
        LoadOp::Lwu => Kind::Lwu,
    }
}

fn store_kind(op: StoreOp) -> Kind {
    match op {
        StoreOp::Sb => Kind::Sb,
        StoreOp::Sh => Kind::Sh,
        StoreOp::Sw => Kind::Sw,
        StoreOp::Sd => Kind::Sd,
    }
}

fn alu_imm_kind(op: AluImmOp) -> Kind {
    match op {
        AluImmOp::Addi => Kind::Addi,
        AluImmOp::Slti => Kind::Slti,
        AluImmOp::Sltiu => Kind::Sltiu,
        AluImmOp::Xori => Kind::Xori,
        AluImmOp::Ori => Kind::Ori,
        AluImmOp::Andi => Kind::Andi,
        AluImmOp::Addiw => Kind::Addiw,
    }
}

fn shift_kind(op: ShiftOp) -> Kind {
    match op {
        ShiftOp::Slli => Kind::Slli,
        ShiftOp::Srli => Kind::Srli,
        ShiftOp::Srai => Kind::Srai,
        ShiftOp::Rori => Kind::Rori,
        ShiftOp::SlliUw => Kind::SlliUw,
    }
}

fn shift_w_kind(op: ShiftWOp) -> Kind {
    match op {
        ShiftWOp::Slliw => Kind::Slliw,
        ShiftWOp::Srliw => Kind::Srliw,
        ShiftWOp::Sraiw => Kind::Sraiw,
        ShiftWOp::Roriw => Kind::Roriw,
    }
}

fn unary_kind(op: UnaryOp) -> Kind {
    match op {
        UnaryOp::Clz => Kind::Clz,
        UnaryOp::Ctz => Kind::Ctz,
        UnaryOp::Cpop => Kind::Cpop,
        UnaryOp::Clzw => Kind::Clzw,
        UnaryOp::Ctzw => Kind::Ctzw,
        UnaryOp::Cpopw => Kind::Cpopw,
        UnaryOp::SextB => Kind::SextB,
        UnaryOp::SextH => Kind::SextH,
        UnaryOp::ZextH => Kind::ZextH,
        UnaryOp::Rev8 => Kind::Rev8,
        UnaryOp::OrcB => Kind::OrcB,
    }
}

fn alu_kind(op: AluOp) -> Kind {
    match op {
        AluOp::Add => Kind::Add,
        AluOp::Sub => Kind::Sub,
        AluOp::Sll => Kind::Sll,
        AluOp::Slt => Kind::Slt,
        AluOp::Sltu => Kind::Sltu,
        AluOp::Xor => Kind::Xor,
        AluOp::Srl => Kind::Srl,
        AluOp::Sra => Kind::Sra,
        AluOp::Or => Kind::Or,
        AluOp::And => Kind::And,
        AluOp::Addw => Kind::Addw,
        AluOp::Subw => Kind::Subw,
        AluOp::Sllw => Kind::Sllw,
        AluOp::Srlw => Kind::Srlw,
        AluOp::Sraw => Kind::Sraw,
        AluOp::Mul => Kind::Mul,
        AluOp::Mulh => Kind::Mulh,
        AluOp::Mulhsu => Kind::Mulhsu,
        AluOp::Mulhu => Kind::Mulhu,
        AluOp::Div => Kind::Div,
        AluOp::Divu => Kind::Divu,
        AluOp::Rem => Kind::Rem,
        AluOp::Remu => Kind::Remu,
        AluOp::Mulw => Kind::Mulw,
        AluOp::Divw => Kind::Divw,
        AluOp::Divuw => Kind::Divuw,
        AluOp::Remw => Kind::Remw,
        AluOp::Remuw => Kind::Remuw,
        AluOp::Sh1add => Kind::Sh1add,
        AluOp::Sh2add => Kind::Sh2add,
        AluOp::Sh3add => Kind::Sh3add,
        AluOp::AddUw => Kind::AddUw,
        AluOp::Sh1addUw => Kind::Sh1addUw,
        AluOp::Sh2addUw => Kind::Sh2addUw,
        AluOp::Sh3addUw => Kind::Sh3addUw,
        AluOp::Andn => Kind::Andn,
        AluOp::Orn => Kind::Orn,
        AluOp::Xnor => Kind::Xnor,
        AluOp::Max => Kind::Max,
        AluOp::Maxu => Kind::Maxu,
        AluOp::Min => Kind::Min,
        AluOp::Minu => Kind::Minu,
        AluOp::Rol => Kind::Rol,
        AluOp::Ror => Kind::Ror,
        AluOp::Rolw => Kind::Rolw,
        AluOp::Rorw => Kind::Rorw,
    }
}
