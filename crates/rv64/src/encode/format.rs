//! Per-format bit packers. Each takes already-checked fields; the diagrams
//! give bit positions (most significant first) as in the RISC-V spec.

use crate::reg::Reg;

/// R-type:
/// ```text
/// 31      25 24  20 19  15 14  12 11   7 6      0
/// | funct7  |  rs2 |  rs1 |funct3|  rd  | opcode |
/// ```
pub fn r_type(opcode: u32, rd: Reg, funct3: u32, rs1: Reg, rs2: Reg, funct7: u32) -> u32 {
    funct7 << 25 | rs2.field() << 20 | rs1.field() << 15 | funct3 << 12 | rd.field() << 7 | opcode
}

/// I-type (`imm12` is the low 12 bits of the immediate, or a `funct12` pattern):
/// ```text
/// 31          20 19  15 14  12 11   7 6      0
/// |  imm[11:0]  |  rs1 |funct3|  rd  | opcode |
/// ```
pub fn i_type(opcode: u32, rd: Reg, funct3: u32, rs1: Reg, imm12: u32) -> u32 {
    (imm12 & 0xfff) << 20 | rs1.field() << 15 | funct3 << 12 | rd.field() << 7 | opcode
}

/// S-type:
/// ```text
/// 31      25 24  20 19  15 14  12 11      7 6      0
/// |imm[11:5]|  rs2 |  rs1 |funct3| imm[4:0]| opcode |
/// ```
pub fn s_type(opcode: u32, funct3: u32, rs1: Reg, rs2: Reg, imm12: u32) -> u32 {
    ((imm12 >> 5) & 0x7f) << 25
        | rs2.field() << 20
        | rs1.field() << 15
        | funct3 << 12
        | (imm12 & 0x1f) << 7
        | opcode
}

/// B-type (`imm13` is the 13-bit even byte offset):
/// ```text
///  31     30    25 24  20 19  15 14  12 11    8    7     6      0
/// |im[12]|im[10:5]|  rs2 |  rs1 |funct3|im[4:1]|im[11]| opcode |
/// ```
pub fn b_type(opcode: u32, funct3: u32, rs1: Reg, rs2: Reg, imm13: u32) -> u32 {
    ((imm13 >> 12) & 1) << 31
        | ((imm13 >> 5) & 0x3f) << 25
        | rs2.field() << 20
        | rs1.field() << 15
        | funct3 << 12
        | ((imm13 >> 1) & 0xf) << 8
        | ((imm13 >> 11) & 1) << 7
        | opcode
}

/// U-type:
/// ```text
/// 31                  12 11   7 6      0
/// |      imm[31:12]     |  rd  | opcode |
/// ```
pub fn u_type(opcode: u32, rd: Reg, imm20: u32) -> u32 {
    (imm20 & 0xf_ffff) << 12 | rd.field() << 7 | opcode
}

/// J-type (`imm21` is the 21-bit even byte offset):
/// ```text
///  31     30      21    20    19       12 11   7 6      0
/// |im[20]| im[10:1] |im[11]| im[19:12]  |  rd  | opcode |
/// ```
pub fn j_type(opcode: u32, rd: Reg, imm21: u32) -> u32 {
    ((imm21 >> 20) & 1) << 31
        | ((imm21 >> 1) & 0x3ff) << 21
        | ((imm21 >> 11) & 1) << 20
        | ((imm21 >> 12) & 0xff) << 12
        | rd.field() << 7
        | opcode
}

/// AMO (R-type with ordering bits; "R4" layout of the A extension):
/// ```text
/// 31   27  26  25 24  20 19  15 14  12 11   7 6      0
/// |funct5|aq|rl|  rs2 |  rs1 |funct3|  rd  | opcode |
/// ```
pub fn amo_type(
    opcode: u32,
    funct5: u32,
    aq_rl: u32,
    rd: Reg,
    funct3: u32,
    rs1: Reg,
    rs2: Reg,
) -> u32 {
    r_type(opcode, rd, funct3, rs1, rs2, funct5 << 2 | aq_rl)
}

/// CR (register):
/// ```text
/// 15    12 11      7 6     2 1  0
/// | funct4| rd/rs1  |  rs2  | op |
/// ```
pub fn cr(op: u32, funct4: u32, rd_rs1: Reg, rs2: Reg) -> u16 {
    (funct4 << 12 | rd_rs1.field() << 7 | rs2.field() << 2 | op) as u16
}

/// CI (immediate; `imm_hi` is one bit, `imm_lo` five, already permuted):
/// ```text
/// 15  13  12   11      7 6      2 1  0
/// |funct3|imm| rd/rs1  |   imm  | op |
/// ```
pub fn ci(op: u32, funct3: u32, imm_hi: u32, rd_rs1: Reg, imm_lo: u32) -> u16 {
    (funct3 << 13 | (imm_hi & 1) << 12 | rd_rs1.field() << 7 | (imm_lo & 0x1f) << 2 | op) as u16
}

/// CSS (stack-relative store; `imm6` already permuted):
/// ```text
/// 15  13 12        7 6     2 1  0
/// |funct3|   imm    |  rs2  | op |
/// ```
pub fn css(op: u32, funct3: u32, imm6: u32, rs2: Reg) -> u16 {
    (funct3 << 13 | (imm6 & 0x3f) << 7 | rs2.field() << 2 | op) as u16
}

/// CIW (wide immediate; `rd_p` is the 3-bit `rd'` field):
/// ```text
/// 15  13 12            5 4   2 1  0
/// |funct3|      imm     | rd' | op |
/// ```
pub fn ciw(op: u32, funct3: u32, imm8: u32, rd_p: u32) -> u16 {
    (funct3 << 13 | (imm8 & 0xff) << 5 | rd_p << 2 | op) as u16
}

/// CL (load; CS has the same layout with `rs2'` in place of `rd'`):
/// ```text
/// 15  13 12  10 9    7 6   5 4   2 1  0
/// |funct3| imm | rs1' | imm | rd' | op |
/// ```
pub fn cl(op: u32, funct3: u32, imm_hi3: u32, rs1_p: u32, imm_lo2: u32, rd_p: u32) -> u16 {
    (funct3 << 13 | (imm_hi3 & 7) << 10 | rs1_p << 7 | (imm_lo2 & 3) << 5 | rd_p << 2 | op) as u16
}

/// CS (store): same bit layout as [`cl`].
/// ```text
/// 15  13 12  10 9    7 6   5 4    2 1  0
/// |funct3| imm | rs1' | imm | rs2' | op |
/// ```
pub fn cs(op: u32, funct3: u32, imm_hi3: u32, rs1_p: u32, imm_lo2: u32, rs2_p: u32) -> u16 {
    cl(op, funct3, imm_hi3, rs1_p, imm_lo2, rs2_p)
}

/// CA (arithmetic):
/// ```text
/// 15      10 9        7 6     5 4    2 1  0
/// | funct6  | rd'/rs1' |funct2 | rs2' | op |
/// ```
pub fn ca(op: u32, funct6: u32, rd_p: u32, funct2: u32, rs2_p: u32) -> u16 {
    (funct6 << 10 | rd_p << 7 | funct2 << 5 | rs2_p << 2 | op) as u16
}

/// CB (branch, and c.srli/c.srai/c.andi; `off_hi3`/`off_lo5` already permuted):
/// ```text
/// 15  13 12    10 9    7 6          2 1  0
/// |funct3| offset | rs1' |   offset   | op |
/// ```
pub fn cb(op: u32, funct3: u32, off_hi3: u32, rs1_p: u32, off_lo5: u32) -> u16 {
    (funct3 << 13 | (off_hi3 & 7) << 10 | rs1_p << 7 | (off_lo5 & 0x1f) << 2 | op) as u16
}

/// CJ (jump; `target11` already permuted):
/// ```text
/// 15  13 12                      2 1  0
/// |funct3|       jump target      | op |
/// ```
pub fn cj(op: u32, funct3: u32, target11: u32) -> u16 {
    (funct3 << 13 | (target11 & 0x7ff) << 2 | op) as u16
}
