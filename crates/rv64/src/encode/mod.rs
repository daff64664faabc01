//! Encoder layers: [`format`](mod@format) packs fields, [`encode`] turns any [`Inst`] into
//! its 32-bit word, [`compress`] finds the 16-bit RVC form when one exists.
//! The target-aware choice between them lives in [`crate::target`].

mod compress;
pub mod format;

pub use compress::compress;

use crate::inst::Inst;
use crate::op::{opcode, FenceSet, LR_FUNCT5, SC_FUNCT5};
use crate::reg::Reg;
use format::{amo_type, b_type, i_type, j_type, r_type, s_type, u_type};

/// The 32-bit encoding of `inst`. Total: every `Inst` has one.
pub fn encode(inst: &Inst) -> u32 {
    match *inst {
        Inst::Lui { rd, imm } => u_type(opcode::LUI, rd, imm.bits()),
        Inst::Auipc { rd, imm } => u_type(opcode::AUIPC, rd, imm.bits()),
        Inst::Jal { rd, offset } => j_type(opcode::JAL, rd, offset.bits()),
        Inst::Jalr { rd, rs1, offset } => i_type(opcode::JALR, rd, 0, rs1, offset.bits()),
        Inst::Branch {
            op,
            rs1,
            rs2,
            offset,
        } => b_type(opcode::BRANCH, op.funct3(), rs1, rs2, offset.bits()),
        Inst::Load {
            op,
            rd,
            rs1,
            offset,
        } => i_type(opcode::LOAD, rd, op.funct3(), rs1, offset.bits()),
        Inst::Store {
            op,
            rs1,
            rs2,
            offset,
        } => s_type(opcode::STORE, op.funct3(), rs1, rs2, offset.bits()),
        Inst::AluImm { op, rd, rs1, imm } => i_type(op.opcode(), rd, op.funct3(), rs1, imm.bits()),
        Inst::Shift { op, rd, rs1, shamt } => i_type(
            op.opcode(),
            rd,
            op.funct3(),
            rs1,
            op.funct6() << 6 | shamt.value(),
        ),
        Inst::ShiftW { op, rd, rs1, shamt } => i_type(
            op.opcode(),
            rd,
            op.funct3(),
            rs1,
            op.funct7() << 5 | shamt.value(),
        ),
        Inst::Alu { op, rd, rs1, rs2 } => {
            r_type(op.opcode(), rd, op.funct3(), rs1, rs2, op.funct7())
        }
        Inst::Unary { op, rd, rs1 } => i_type(op.opcode(), rd, op.funct3(), rs1, op.funct12()),
        Inst::Amo {
            op,
            width,
            ordering,
            rd,
            rs1,
            rs2,
        } => amo_type(
            opcode::AMO,
            op.funct5(),
            ordering.bits(),
            rd,
            width.funct3(),
            rs1,
            rs2,
        ),
        Inst::Lr {
            width,
            ordering,
            rd,
            rs1,
        } => amo_type(
            opcode::AMO,
            LR_FUNCT5,
            ordering.bits(),
            rd,
            width.funct3(),
            rs1,
            Reg::ZERO,
        ),
        Inst::Sc {
            width,
            ordering,
            rd,
            rs1,
            rs2,
        } => amo_type(
            opcode::AMO,
            SC_FUNCT5,
            ordering.bits(),
            rd,
            width.funct3(),
            rs1,
            rs2,
        ),
        Inst::Fence { pred, succ } => i_type(
            opcode::MISC_MEM,
            Reg::ZERO,
            0,
            Reg::ZERO,
            pred.bits() << 4 | succ.bits(),
        ),
        Inst::FenceTso => i_type(
            opcode::MISC_MEM,
            Reg::ZERO,
            0,
            Reg::ZERO,
            0b1000 << 8 | FenceSet::RW.bits() << 4 | FenceSet::RW.bits(),
        ),
        Inst::FenceI => i_type(opcode::MISC_MEM, Reg::ZERO, 0b001, Reg::ZERO, 0),
        Inst::Ecall => i_type(opcode::SYSTEM, Reg::ZERO, 0, Reg::ZERO, 0),
        Inst::Ebreak => i_type(opcode::SYSTEM, Reg::ZERO, 0, Reg::ZERO, 1),
    }
}
