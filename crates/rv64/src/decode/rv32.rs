//! Decoder for the 32-bit encodings.

use super::DecodeError;
use crate::imm::{BranchOffset, Imm12, Imm20, JumpOffset, Shamt, ShamtW};
use crate::inst::Inst;
use crate::op::{
    opcode, AluImmOp, AluOp, AmoOp, AmoWidth, BranchOp, FenceSet, LoadOp, Ordering, ShiftOp,
    ShiftWOp, StoreOp, UnaryOp, LR_FUNCT5, SC_FUNCT5,
};
use crate::reg::Reg;

/// Instruction fields at their fixed positions (see `encode::format`).
#[derive(Clone, Copy)]
struct Fields(u32);

impl Fields {
    #[inline]
    fn rd(self) -> Reg {
        Reg::from_field(self.0 >> 7)
    }
    #[inline]
    fn rs1(self) -> Reg {
        Reg::from_field(self.0 >> 15)
    }
    #[inline]
    fn rs2(self) -> Reg {
        Reg::from_field(self.0 >> 20)
    }
    #[inline]
    fn funct3(self) -> u32 {
        (self.0 >> 12) & 0x7
    }
    #[inline]
    fn funct7(self) -> u32 {
        self.0 >> 25
    }
    /// Bits 31:20 as an unsigned field (I-type immediate / funct12).
    #[inline]
    fn funct12(self) -> u32 {
        self.0 >> 20
    }
    #[inline]
    fn i_imm(self) -> Imm12 {
        Imm12::from_bits(self.0 >> 20)
    }
    #[inline]
    fn s_imm(self) -> Imm12 {
        Imm12::from_bits(((self.0 >> 25) << 5) | ((self.0 >> 7) & 0x1f))
    }
    #[inline]
    fn b_imm(self) -> BranchOffset {
        let w = self.0;
        let bits = ((w >> 31) << 12)
            | (((w >> 7) & 1) << 11)
            | (((w >> 25) & 0x3f) << 5)
            | (((w >> 8) & 0xf) << 1);
        BranchOffset::from_bits(bits)
    }
    #[inline]
    fn j_imm(self) -> JumpOffset {
        let w = self.0;
        let bits = ((w >> 31) << 20)
            | (((w >> 12) & 0xff) << 12)
            | (((w >> 20) & 1) << 11)
            | (((w >> 21) & 0x3ff) << 1);
        JumpOffset::from_bits(bits)
    }
}

/// Decodes one 32-bit instruction word.
pub fn decode32(word: u32) -> Result<Inst, DecodeError> {
    let f = Fields(word);
    let illegal = Err(DecodeError::Illegal32(word));
    let inst = match word & 0x7f {
        opcode::LUI => Inst::Lui {
            rd: f.rd(),
            imm: Imm20::from_field(word >> 12),
        },
        opcode::AUIPC => Inst::Auipc {
            rd: f.rd(),
            imm: Imm20::from_field(word >> 12),
        },
        opcode::JAL => Inst::Jal {
            rd: f.rd(),
            offset: f.j_imm(),
        },
        opcode::JALR if f.funct3() == 0 => Inst::Jalr {
            rd: f.rd(),
            rs1: f.rs1(),
            offset: f.i_imm(),
        },
        opcode::BRANCH => {
            let op = match f.funct3() {
                0b000 => BranchOp::Beq,
                0b001 => BranchOp::Bne,
                0b100 => BranchOp::Blt,
                0b101 => BranchOp::Bge,
                0b110 => BranchOp::Bltu,
                0b111 => BranchOp::Bgeu,
                _ => return illegal,
            };
            Inst::Branch {
                op,
                rs1: f.rs1(),
                rs2: f.rs2(),
                offset: f.b_imm(),
            }
        }
        opcode::LOAD => {
            let op = match f.funct3() {
                0b000 => LoadOp::Lb,
                0b001 => LoadOp::Lh,
                0b010 => LoadOp::Lw,
                0b011 => LoadOp::Ld,
                0b100 => LoadOp::Lbu,
                0b101 => LoadOp::Lhu,
                0b110 => LoadOp::Lwu,
                _ => return illegal,
            };
            Inst::Load {
                op,
                rd: f.rd(),
                rs1: f.rs1(),
                offset: f.i_imm(),
            }
        }
        opcode::STORE => {
            let op = match f.funct3() {
                0b000 => StoreOp::Sb,
                0b001 => StoreOp::Sh,
                0b010 => StoreOp::Sw,
                0b011 => StoreOp::Sd,
                _ => return illegal,
            };
            Inst::Store {
                op,
                rs1: f.rs1(),
                rs2: f.rs2(),
                offset: f.s_imm(),
            }
        }
        opcode::OP_IMM => match decode_op_imm(f) {
            Some(inst) => inst,
            None => return illegal,
        },
        opcode::OP_IMM_32 => match decode_op_imm_32(f) {
            Some(inst) => inst,
            None => return illegal,
        },
        opcode::OP => match decode_op(f) {
            Some(op) => Inst::Alu {
                op,
                rd: f.rd(),
                rs1: f.rs1(),
                rs2: f.rs2(),
            },
            None => return illegal,
        },
        opcode::OP_32 => {
            if f.funct7() == 0b000_0100 && f.funct3() == 0b100 && f.rs2().is_zero() {
                Inst::Unary {
                    op: UnaryOp::ZextH,
                    rd: f.rd(),
                    rs1: f.rs1(),
                }
            } else {
                match decode_op_32(f) {
                    Some(op) => Inst::Alu {
                        op,
                        rd: f.rd(),
                        rs1: f.rs1(),
                        rs2: f.rs2(),
                    },
                    None => return illegal,
                }
            }
        }
        opcode::AMO => match decode_amo(f) {
            Some(inst) => inst,
            None => return illegal,
        },
        opcode::MISC_MEM => match decode_misc_mem(f) {
            Some(inst) => inst,
            None => return illegal,
        },
        opcode::SYSTEM => match word {
            0x0000_0073 => Inst::Ecall,
            0x0010_0073 => Inst::Ebreak,
            _ => return illegal,
        },
        _ => return illegal,
    };
    Ok(inst)
}

fn decode_op_imm(f: Fields) -> Option<Inst> {
    let (rd, rs1) = (f.rd(), f.rs1());
    let alu = |op| {
        Some(Inst::AluImm {
            op,
            rd,
            rs1,
            imm: f.i_imm(),
        })
    };
    let shamt = Shamt::from_field(f.0 >> 20);
    let shift = |op| Some(Inst::Shift { op, rd, rs1, shamt });
    let unary = |op| Some(Inst::Unary { op, rd, rs1 });
    let funct6 = f.0 >> 26;
    match f.funct3() {
        0b000 => alu(AluImmOp::Addi),
        0b010 => alu(AluImmOp::Slti),
        0b011 => alu(AluImmOp::Sltiu),
        0b100 => alu(AluImmOp::Xori),
        0b110 => alu(AluImmOp::Ori),
        0b111 => alu(AluImmOp::Andi),
        0b001 => match (funct6, f.funct12()) {
            (0, _) => shift(ShiftOp::Slli),
            (_, 0x600) => unary(UnaryOp::Clz),
            (_, 0x601) => unary(UnaryOp::Ctz),
            (_, 0x602) => unary(UnaryOp::Cpop),
            (_, 0x604) => unary(UnaryOp::SextB),
            (_, 0x605) => unary(UnaryOp::SextH),
            _ => None,
        },
        _ => match (funct6, f.funct12()) {
            (0b00_0000, _) => shift(ShiftOp::Srli),
            (0b01_0000, _) => shift(ShiftOp::Srai),
            (0b01_1000, _) => shift(ShiftOp::Rori),
            (_, 0x6b8) => unary(UnaryOp::Rev8),
            (_, 0x287) => unary(UnaryOp::OrcB),
            _ => None,
        },
    }
}

fn decode_op_imm_32(f: Fields) -> Option<Inst> {
    let (rd, rs1) = (f.rd(), f.rs1());
    let shamt = ShamtW::from_field(f.0 >> 20);
    let shift_w = |op| Some(Inst::ShiftW { op, rd, rs1, shamt });
    let unary = |op| Some(Inst::Unary { op, rd, rs1 });
    match (f.funct3(), f.funct7()) {
        (0b000, _) => Some(Inst::AluImm {
            op: AluImmOp::Addiw,
            rd,
            rs1,
            imm: f.i_imm(),
        }),
        (0b001, 0b000_0000) => shift_w(ShiftWOp::Slliw),
        // slli.uw has a 6-bit shamt, so bit 25 belongs to it: match funct6.
        (0b001, f7) if f7 >> 1 == 0b00_0010 => Some(Inst::Shift {
            op: ShiftOp::SlliUw,
            rd,
            rs1,
            shamt: Shamt::from_field(f.0 >> 20),
        }),
        (0b001, _) => match f.funct12() {
            0x600 => unary(UnaryOp::Clzw),
            0x601 => unary(UnaryOp::Ctzw),
            0x602 => unary(UnaryOp::Cpopw),
            _ => None,
        },
        (0b101, 0b000_0000) => shift_w(ShiftWOp::Srliw),
        (0b101, 0b010_0000) => shift_w(ShiftWOp::Sraiw),
        (0b101, 0b011_0000) => shift_w(ShiftWOp::Roriw),
        _ => None,
    }
}

fn decode_op(f: Fields) -> Option<AluOp> {
    use AluOp::*;
    Some(match (f.funct7(), f.funct3()) {
        (0b000_0000, 0b000) => Add,
        (0b010_0000, 0b000) => Sub,
        (0b000_0000, 0b001) => Sll,
        (0b000_0000, 0b010) => Slt,
        (0b000_0000, 0b011) => Sltu,
        (0b000_0000, 0b100) => Xor,
        (0b000_0000, 0b101) => Srl,
        (0b010_0000, 0b101) => Sra,
        (0b000_0000, 0b110) => Or,
        (0b000_0000, 0b111) => And,
        (0b000_0001, 0b000) => Mul,
        (0b000_0001, 0b001) => Mulh,
        (0b000_0001, 0b010) => Mulhsu,
        (0b000_0001, 0b011) => Mulhu,
        (0b000_0001, 0b100) => Div,
        (0b000_0001, 0b101) => Divu,
        (0b000_0001, 0b110) => Rem,
        (0b000_0001, 0b111) => Remu,
        (0b001_0000, 0b010) => Sh1add,
        (0b001_0000, 0b100) => Sh2add,
        (0b001_0000, 0b110) => Sh3add,
        (0b010_0000, 0b111) => Andn,
        (0b010_0000, 0b110) => Orn,
        (0b010_0000, 0b100) => Xnor,
        (0b000_0101, 0b110) => Max,
        (0b000_0101, 0b111) => Maxu,
        (0b000_0101, 0b100) => Min,
        (0b000_0101, 0b101) => Minu,
        (0b011_0000, 0b001) => Rol,
        (0b011_0000, 0b101) => Ror,
        _ => return None,
    })
}

fn decode_op_32(f: Fields) -> Option<AluOp> {
    use AluOp::*;
    Some(match (f.funct7(), f.funct3()) {
        (0b000_0000, 0b000) => Addw,
        (0b010_0000, 0b000) => Subw,
        (0b000_0000, 0b001) => Sllw,
        (0b000_0000, 0b101) => Srlw,
        (0b010_0000, 0b101) => Sraw,
        (0b000_0001, 0b000) => Mulw,
        (0b000_0001, 0b100) => Divw,
        (0b000_0001, 0b101) => Divuw,
        (0b000_0001, 0b110) => Remw,
        (0b000_0001, 0b111) => Remuw,
        (0b000_0100, 0b000) => AddUw,
        (0b001_0000, 0b010) => Sh1addUw,
        (0b001_0000, 0b100) => Sh2addUw,
        (0b001_0000, 0b110) => Sh3addUw,
        (0b011_0000, 0b001) => Rolw,
        (0b011_0000, 0b101) => Rorw,
        _ => return None,
    })
}

fn decode_amo(f: Fields) -> Option<Inst> {
    let width = match f.funct3() {
        0b010 => AmoWidth::W,
        0b011 => AmoWidth::D,
        _ => return None,
    };
    let ordering = Ordering::from_bits(f.0 >> 25);
    let (rd, rs1, rs2) = (f.rd(), f.rs1(), f.rs2());
    let op = match f.0 >> 27 {
        LR_FUNCT5 if rs2.is_zero() => {
            return Some(Inst::Lr {
                width,
                ordering,
                rd,
                rs1,
            })
        }
        SC_FUNCT5 => {
            return Some(Inst::Sc {
                width,
                ordering,
                rd,
                rs1,
                rs2,
            })
        }
        0b00001 => AmoOp::Swap,
        0b00000 => AmoOp::Add,
        0b00100 => AmoOp::Xor,
        0b01100 => AmoOp::And,
        0b01000 => AmoOp::Or,
        0b10000 => AmoOp::Min,
        0b10100 => AmoOp::Max,
        0b11000 => AmoOp::Minu,
        0b11100 => AmoOp::Maxu,
        _ => return None,
    };
    Some(Inst::Amo {
        op,
        width,
        ordering,
        rd,
        rs1,
        rs2,
    })
}

fn decode_misc_mem(f: Fields) -> Option<Inst> {
    // rd and rs1 are reserved for finer-grained fences; we only model the
    // encodings assemblers produce (both zero) so decode∘encode is exact.
    if !f.rd().is_zero() || !f.rs1().is_zero() {
        return None;
    }
    let pred = FenceSet::from_field(f.0 >> 24);
    let succ = FenceSet::from_field(f.0 >> 20);
    match (f.funct3(), f.0 >> 28) {
        (0b000, 0b0000) => Some(Inst::Fence { pred, succ }),
        (0b000, 0b1000) if pred == FenceSet::RW && succ == FenceSet::RW => Some(Inst::FenceTso),
        (0b001, _) if f.funct12() == 0 => Some(Inst::FenceI),
        _ => None,
    }
}
