//! Decoder for the 16-bit RVC encodings (RV64C), expanding each to its base
//! instruction. Where the spec and LLVM differ in the chosen expansion
//! (`c.mv` is `add rd, x0, rs2` in the spec, `addi rd, rs2, 0` in LLVM) we
//! follow LLVM so the printer matches `llvm-objdump`; both are equivalent.
//!
//! HINT encodings (e.g. `c.li x0, 5`, `c.slli a0, 0`) decode to their base
//! expansion, which has no architectural effect, as the spec requires.
//! Reserved encodings and the unmodelled floating-point forms are errors.

use super::DecodeError;
use crate::imm::{BranchOffset, Imm12, Imm20, JumpOffset, Shamt};
use crate::inst::Inst;
use crate::op::{AluImmOp, AluOp, BranchOp, LoadOp, ShiftOp, StoreOp};
use crate::reg::Reg;

/// Bits `hi..=lo` of `h`, shifted down.
#[inline]
fn bits(h: u32, hi: u32, lo: u32) -> u32 {
    (h >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// `rd`/`rs1` in bits 11:7.
#[inline]
fn rd_full(h: u32) -> Reg {
    Reg::from_field(h >> 7)
}

/// `rs2` in bits 6:2.
#[inline]
fn rs2_full(h: u32) -> Reg {
    Reg::from_field(h >> 2)
}

/// `rd'`/`rs1'` in bits 9:7.
#[inline]
fn rs1_prime(h: u32) -> Reg {
    Reg::from_compressed_field(h >> 7)
}

/// `rd'`/`rs2'` in bits 4:2.
#[inline]
fn rs2_prime(h: u32) -> Reg {
    Reg::from_compressed_field(h >> 2)
}

/// The 6-bit signed immediate `imm[5] = bit 12, imm[4:0] = bits 6:2` (CI format).
#[inline]
fn ci_imm(h: u32) -> Imm12 {
    Imm12::from_bits(sext(bits(h, 12, 12) << 5 | bits(h, 6, 2), 6))
}

/// Sign-extends the low `width` bits of `value` into a 12-bit field.
#[inline]
fn sext(value: u32, width: u32) -> u32 {
    let shift = 32 - width;
    (((value << shift) as i32) >> shift) as u32
}

/// Unsigned offset, always fits the 12-bit signed field (max 504).
#[inline]
fn uimm(value: u32) -> Imm12 {
    Imm12::from_bits(value)
}

/// Decodes one 16-bit instruction (its low two bits must not be `11`).
pub fn decode16(half: u16) -> Result<Inst, DecodeError> {
    let h = half as u32;
    let illegal = Err(DecodeError::Illegal16(half));
    let funct3 = h >> 13;
    let inst = match (h & 0b11, funct3) {
        // ---- quadrant 0 ----
        (0b00, 0b000) => {
            // c.addi4spn: nzuimm[5:4|9:6|2|3] in bits 12:5.
            let imm = bits(h, 12, 11) << 4
                | bits(h, 10, 7) << 6
                | bits(h, 6, 6) << 2
                | bits(h, 5, 5) << 3;
            if imm == 0 {
                return illegal; // includes the all-zero illegal instruction
            }
            Inst::AluImm {
                op: AluImmOp::Addi,
                rd: rs2_prime(h),
                rs1: Reg::SP,
                imm: uimm(imm),
            }
        }
        (0b00, 0b010) => {
            // c.lw: uimm[5:3] = 12:10, uimm[2] = 6, uimm[6] = 5.
            let off = bits(h, 12, 10) << 3 | bits(h, 6, 6) << 2 | bits(h, 5, 5) << 6;
            Inst::Load {
                op: LoadOp::Lw,
                rd: rs2_prime(h),
                rs1: rs1_prime(h),
                offset: uimm(off),
            }
        }
        (0b00, 0b011) => {
            // c.ld: uimm[5:3] = 12:10, uimm[7:6] = 6:5.
            let off = bits(h, 12, 10) << 3 | bits(h, 6, 5) << 6;
            Inst::Load {
                op: LoadOp::Ld,
                rd: rs2_prime(h),
                rs1: rs1_prime(h),
                offset: uimm(off),
            }
        }
        (0b00, 0b110) => {
            let off = bits(h, 12, 10) << 3 | bits(h, 6, 6) << 2 | bits(h, 5, 5) << 6;
            Inst::Store {
                op: StoreOp::Sw,
                rs1: rs1_prime(h),
                rs2: rs2_prime(h),
                offset: uimm(off),
            }
        }
        (0b00, 0b111) => {
            let off = bits(h, 12, 10) << 3 | bits(h, 6, 5) << 6;
            Inst::Store {
                op: StoreOp::Sd,
                rs1: rs1_prime(h),
                rs2: rs2_prime(h),
                offset: uimm(off),
            }
        }
        // c.fld (001), reserved (100), c.fsd (101)
        (0b00, _) => return illegal,

        // ---- quadrant 1 ----
        (0b01, 0b000) => {
            // c.nop / c.addi
            let rd = rd_full(h);
            Inst::AluImm {
                op: AluImmOp::Addi,
                rd,
                rs1: rd,
                imm: ci_imm(h),
            }
        }
        (0b01, 0b001) => {
            let rd = rd_full(h);
            if rd.is_zero() {
                return illegal; // c.addiw with rd = x0 is reserved
            }
            Inst::AluImm {
                op: AluImmOp::Addiw,
                rd,
                rs1: rd,
                imm: ci_imm(h),
            }
        }
        (0b01, 0b010) => Inst::AluImm {
            op: AluImmOp::Addi,
            rd: rd_full(h),
            rs1: Reg::ZERO,
            imm: ci_imm(h),
        },
        (0b01, 0b011) => {
            let rd = rd_full(h);
            if rd == Reg::SP {
                // c.addi16sp: nzimm[9] = 12, nzimm[4|6|8:7|5] = 6:2.
                let raw = bits(h, 12, 12) << 9
                    | bits(h, 6, 6) << 4
                    | bits(h, 5, 5) << 6
                    | bits(h, 4, 3) << 7
                    | bits(h, 2, 2) << 5;
                if raw == 0 {
                    return illegal;
                }
                Inst::AluImm {
                    op: AluImmOp::Addi,
                    rd,
                    rs1: rd,
                    imm: Imm12::from_bits(sext(raw, 10)),
                }
            } else {
                // c.lui: nzimm[17] = 12, nzimm[16:12] = 6:2.
                let raw = bits(h, 12, 12) << 5 | bits(h, 6, 2);
                if raw == 0 {
                    return illegal;
                }
                Inst::Lui {
                    rd,
                    imm: Imm20::from_field(sext(raw, 6)),
                }
            }
        }
        (0b01, 0b100) => decode_misc_alu(h).ok_or(DecodeError::Illegal16(half))?,
        (0b01, 0b101) => {
            // c.j: imm[11|4|9:8|10|6|7|3:1|5] in bits 12:2.
            let raw = bits(h, 12, 12) << 11
                | bits(h, 11, 11) << 4
                | bits(h, 10, 9) << 8
                | bits(h, 8, 8) << 10
                | bits(h, 7, 7) << 6
                | bits(h, 6, 6) << 7
                | bits(h, 5, 3) << 1
                | bits(h, 2, 2) << 5;
            Inst::Jal {
                rd: Reg::ZERO,
                offset: JumpOffset::from_bits(sext(raw, 12)),
            }
        }
        (0b01, _) => {
            // c.beqz (110) / c.bnez (111): imm[8|4:3] = 12:10, imm[7:6|2:1|5] = 6:2.
            let raw = bits(h, 12, 12) << 8
                | bits(h, 11, 10) << 3
                | bits(h, 6, 5) << 6
                | bits(h, 4, 3) << 1
                | bits(h, 2, 2) << 5;
            let op = if funct3 == 0b110 {
                BranchOp::Beq
            } else {
                BranchOp::Bne
            };
            Inst::Branch {
                op,
                rs1: rs1_prime(h),
                rs2: Reg::ZERO,
                offset: BranchOffset::from_bits(sext(raw, 9)),
            }
        }

        // ---- quadrant 2 ----
        (0b10, 0b000) => {
            // c.slli: shamt[5] = 12, shamt[4:0] = 6:2.
            let rd = rd_full(h);
            let shamt = Shamt::from_field(bits(h, 12, 12) << 5 | bits(h, 6, 2));
            Inst::Shift {
                op: ShiftOp::Slli,
                rd,
                rs1: rd,
                shamt,
            }
        }
        (0b10, 0b010) => {
            // c.lwsp: uimm[5] = 12, uimm[4:2|7:6] = 6:2.
            let rd = rd_full(h);
            if rd.is_zero() {
                return illegal;
            }
            let off = bits(h, 12, 12) << 5 | bits(h, 6, 4) << 2 | bits(h, 3, 2) << 6;
            Inst::Load {
                op: LoadOp::Lw,
                rd,
                rs1: Reg::SP,
                offset: uimm(off),
            }
        }
        (0b10, 0b011) => {
            // c.ldsp: uimm[5] = 12, uimm[4:3|8:6] = 6:2.
            let rd = rd_full(h);
            if rd.is_zero() {
                return illegal;
            }
            let off = bits(h, 12, 12) << 5 | bits(h, 6, 5) << 3 | bits(h, 4, 2) << 6;
            Inst::Load {
                op: LoadOp::Ld,
                rd,
                rs1: Reg::SP,
                offset: uimm(off),
            }
        }
        (0b10, 0b100) => {
            let (rd, rs2) = (rd_full(h), rs2_full(h));
            match (bits(h, 12, 12), rd.is_zero(), rs2.is_zero()) {
                (0, true, true) => return illegal, // c.jr x0 is reserved
                (0, false, true) => Inst::Jalr {
                    rd: Reg::ZERO,
                    rs1: rd,
                    offset: Imm12::ZERO,
                },
                (0, _, false) => Inst::mv(rd, rs2),
                (_, true, true) => Inst::Ebreak,
                (_, false, true) => Inst::Jalr {
                    rd: Reg::RA,
                    rs1: rd,
                    offset: Imm12::ZERO,
                },
                (_, _, false) => Inst::Alu {
                    op: AluOp::Add,
                    rd,
                    rs1: rd,
                    rs2,
                },
            }
        }
        (0b10, 0b110) => {
            // c.swsp: uimm[5:2|7:6] = 12:7.
            let off = bits(h, 12, 9) << 2 | bits(h, 8, 7) << 6;
            Inst::Store {
                op: StoreOp::Sw,
                rs1: Reg::SP,
                rs2: rs2_full(h),
                offset: uimm(off),
            }
        }
        (0b10, 0b111) => {
            // c.sdsp: uimm[5:3|8:6] = 12:7.
            let off = bits(h, 12, 10) << 3 | bits(h, 9, 7) << 6;
            Inst::Store {
                op: StoreOp::Sd,
                rs1: Reg::SP,
                rs2: rs2_full(h),
                offset: uimm(off),
            }
        }
        // c.fldsp (001), c.fsdsp (101)
        (0b10, _) => return illegal,
        // 0b11 is a 32-bit encoding: not ours to decode.
        _ => return illegal,
    };
    Ok(inst)
}

/// Quadrant 1, funct3 = 100: c.srli, c.srai, c.andi and the CA-format ops.
fn decode_misc_alu(h: u32) -> Option<Inst> {
    let rd = rs1_prime(h);
    let shamt = Shamt::from_field(bits(h, 12, 12) << 5 | bits(h, 6, 2));
    Some(match bits(h, 11, 10) {
        0b00 => Inst::Shift {
            op: ShiftOp::Srli,
            rd,
            rs1: rd,
            shamt,
        },
        0b01 => Inst::Shift {
            op: ShiftOp::Srai,
            rd,
            rs1: rd,
            shamt,
        },
        0b10 => Inst::AluImm {
            op: AluImmOp::Andi,
            rd,
            rs1: rd,
            imm: ci_imm(h),
        },
        _ => {
            let op = match (bits(h, 12, 12), bits(h, 6, 5)) {
                (0, 0b00) => AluOp::Sub,
                (0, 0b01) => AluOp::Xor,
                (0, 0b10) => AluOp::Or,
                (0, _) => AluOp::And,
                (_, 0b00) => AluOp::Subw,
                (_, 0b01) => AluOp::Addw,
                _ => return None, // reserved
            };
            Inst::Alu {
                op,
                rd,
                rs1: rd,
                rs2: rs2_prime(h),
            }
        }
    })
}
