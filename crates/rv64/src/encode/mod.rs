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

/// The shortest encoding of `inst`, `(bits, length in bytes)`: its RVC
/// form when `rvc` (the target has C) and [`compress`] finds one, else its
/// 32-bit [`encode`]ing. One `match` on the instruction's kind instead of
/// one in each of them: a JIT encodes every instruction it emits, and on
/// mixed code each such `match` is a poorly predicted branch. (No
/// extension check: see [`crate::Target::encode`].)
///
/// Always inlined: a caller that builds the instruction right there (the
/// JIT's emitters) then has the kind known at compile time, and the
/// `match` folds away.
#[inline(always)]
pub fn encode_shortest(inst: &Inst, rvc: bool) -> (u32, usize) {
    use compress::*;
    let (i, c) = (inst, rvc);
    match *inst {
        Inst::AluImm { op, rd, rs1, imm } => {
            shortest(i, c, || compress_alu_imm(op, rd, rs1, imm.value()))
        }
        Inst::Shift { op, rd, rs1, shamt } => {
            shortest(i, c, || compress_shift(op, rd, rs1, shamt.value()))
        }
        Inst::Alu { op, rd, rs1, rs2 } => shortest(i, c, || compress_alu(op, rd, rs1, rs2)),
        Inst::Load {
            op,
            rd,
            rs1,
            offset,
        } => shortest(i, c, || compress_load(op, rd, rs1, offset.value())),
        Inst::Store {
            op,
            rs1,
            rs2,
            offset,
        } => shortest(i, c, || compress_store(op, rs1, rs2, offset.value())),
        Inst::Lui { rd, imm } => shortest(i, c, || compress_lui(rd, imm.value())),
        Inst::Jal { rd, offset } => shortest(i, c, || compress_jal(rd, offset.value())),
        Inst::Branch {
            op,
            rs1,
            rs2,
            offset,
        } => shortest(i, c, || compress_branch(op, rs1, rs2, offset.value())),
        Inst::Jalr { rd, rs1, offset } => shortest(i, c, || compress_jalr(rd, rs1, offset.value())),
        _ => shortest(i, c, || compress(inst)),
    }
}

/// One arm of [`encode_shortest`]: the 16-bit form `half` finds when `rvc`,
/// else the word.
#[inline(always)]
fn shortest(inst: &Inst, rvc: bool, half: impl FnOnce() -> Option<u16>) -> (u32, usize) {
    if rvc {
        if let Some(h) = half() {
            return (h as u32, 2);
        }
    }
    (word(inst), 4)
}

/// The 32-bit encoding of `inst`. Total: every `Inst` has one.
pub fn encode(inst: &Inst) -> u32 {
    word(inst)
}

/// [`encode`], inlined into [`encode_shortest`]'s arms: there the kind is
/// known, so the compiler drops this `match`.
#[inline(always)]
fn word(inst: &Inst) -> u32 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// `encode_shortest` is `compress` (when RVC is allowed) or else
        /// `encode`, whose forms the llvm-mc tables check.
        #[test]
        fn shortest_is_compress_else_encode(inst in testing::inst(), rvc in any::<bool>()) {
            let expected = match compress(&inst) {
                Some(half) if rvc => (half as u32, 2),
                _ => (encode(&inst), 4),
            };
            prop_assert_eq!(encode_shortest(&inst, rvc), expected);
        }
    }
}
