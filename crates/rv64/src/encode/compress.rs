//! RVC compression: the 16-bit encoding of an instruction, when RV64C has one
//! for exactly these operands. Never produces a HINT or reserved encoding.
//! Mirrors the compression patterns of LLVM (checked by the llvm-mc oracle
//! table), including its `addi rd, rs, 0 -> c.mv` choice.

use super::format::{ca, cb, ci, ciw, cj, cl, cr, cs, css};
use crate::inst::Inst;
use crate::op::{AluImmOp, AluOp, BranchOp, LoadOp, ShiftOp, StoreOp};
use crate::reg::Reg;

const Q0: u32 = 0b00;
const Q1: u32 = 0b01;
const Q2: u32 = 0b10;

/// Does `v` fit a `bits`-bit signed field?
fn fits_signed(v: i64, bits: u32) -> bool {
    let half = 1i64 << (bits - 1);
    (-half..half).contains(&v)
}

/// Is `v` a multiple of `align` in `0..=max`?
fn fits_unsigned_scaled(v: i64, align: i64, max: i64) -> bool {
    (0..=max).contains(&v) && v % align == 0
}

/// The RVC encoding of `inst`, or `None` when it has none.
pub fn compress(inst: &Inst) -> Option<u16> {
    match *inst {
        Inst::AluImm { op, rd, rs1, imm } => compress_alu_imm(op, rd, rs1, imm.value()),
        Inst::Lui { rd, imm } => compress_lui(rd, imm.value()),
        Inst::Shift { op, rd, rs1, shamt } => compress_shift(op, rd, rs1, shamt.value()),
        Inst::Alu { op, rd, rs1, rs2 } => compress_alu(op, rd, rs1, rs2),
        Inst::Load {
            op,
            rd,
            rs1,
            offset,
        } => compress_load(op, rd, rs1, offset.value()),
        Inst::Store {
            op,
            rs1,
            rs2,
            offset,
        } => compress_store(op, rs1, rs2, offset.value()),
        Inst::Jal { rd, offset } => compress_jal(rd, offset.value()),
        Inst::Branch {
            op,
            rs1,
            rs2,
            offset,
        } => compress_branch(op, rs1, rs2, offset.value()),
        Inst::Jalr { rd, rs1, offset } => compress_jalr(rd, rs1, offset.value()),
        Inst::Ebreak => Some(cr(Q2, 0b1001, Reg::ZERO, Reg::ZERO)),
        _ => None,
    }
}

// The per-kind parts of [`compress`], also called by
// [`super::encode_shortest`] from its own `match` on the kind.

pub(super) fn compress_lui(rd: Reg, v: i64) -> Option<u16> {
    if rd.is_zero() || rd == Reg::SP || v == 0 || !fits_signed(v, 6) {
        return None;
    }
    // c.lui: nzimm[17] -> bit 12, nzimm[16:12] -> bits 6:2.
    let b = v as u32;
    Some(ci(Q1, 0b011, b >> 5, rd, b))
}

pub(super) fn compress_shift(op: ShiftOp, rd: Reg, rs1: Reg, s: u32) -> Option<u16> {
    if rd != rs1 || s == 0 {
        return None;
    }
    match op {
        ShiftOp::Slli if !rd.is_zero() => Some(ci(Q2, 0b000, s >> 5, rd, s)),
        ShiftOp::Srli | ShiftOp::Srai => {
            let rd_p = rd.compressed_field()?;
            let funct2 = if op == ShiftOp::Srli { 0b00 } else { 0b01 };
            Some(cb(Q1, 0b100, (s >> 5) << 2 | funct2, rd_p, s))
        }
        _ => None,
    }
}

pub(super) fn compress_jal(rd: Reg, offset: i64) -> Option<u16> {
    if !rd.is_zero() || !fits_signed(offset, 12) {
        return None;
    }
    // c.j: offset[11|4|9:8|10|6|7|3:1|5] -> bits 12:2.
    let o = offset as u32;
    let t = ((o >> 11) & 1) << 10
        | ((o >> 4) & 1) << 9
        | ((o >> 8) & 3) << 7
        | ((o >> 10) & 1) << 6
        | ((o >> 6) & 1) << 5
        | ((o >> 7) & 1) << 4
        | ((o >> 1) & 7) << 1
        | ((o >> 5) & 1);
    Some(cj(Q1, 0b101, t))
}

pub(super) fn compress_branch(op: BranchOp, rs1: Reg, rs2: Reg, offset: i64) -> Option<u16> {
    let funct3 = match op {
        BranchOp::Beq => 0b110,
        BranchOp::Bne => 0b111,
        _ => return None,
    };
    if !rs2.is_zero() || !fits_signed(offset, 9) {
        return None;
    }
    let rs1_p = rs1.compressed_field()?;
    // offset[8|4:3] -> bits 12:10, offset[7:6|2:1|5] -> bits 6:2.
    let o = offset as u32;
    let hi = ((o >> 8) & 1) << 2 | ((o >> 3) & 3);
    let lo = ((o >> 6) & 3) << 3 | ((o >> 1) & 3) << 1 | ((o >> 5) & 1);
    Some(cb(Q1, funct3, hi, rs1_p, lo))
}

pub(super) fn compress_jalr(rd: Reg, rs1: Reg, offset: i64) -> Option<u16> {
    if offset != 0 || rs1.is_zero() {
        return None;
    }
    match rd {
        Reg::ZERO => Some(cr(Q2, 0b1000, rs1, Reg::ZERO)),
        Reg::RA => Some(cr(Q2, 0b1001, rs1, Reg::ZERO)),
        _ => None,
    }
}

pub(super) fn compress_alu_imm(op: AluImmOp, rd: Reg, rs1: Reg, v: i64) -> Option<u16> {
    let b = v as u32;
    match op {
        AluImmOp::Addi => {
            if rd.is_zero() {
                // Only the canonical nop; other rd = x0 forms would be HINTs.
                return (rs1.is_zero() && v == 0).then(|| ci(Q1, 0b000, 0, Reg::ZERO, 0));
            }
            if v == 0 && !rs1.is_zero() {
                return Some(cr(Q2, 0b1000, rd, rs1)); // c.mv
            }
            if rs1.is_zero() && fits_signed(v, 6) {
                return Some(ci(Q1, 0b010, b >> 5, rd, b)); // c.li
            }
            if rd == rs1 && v != 0 && fits_signed(v, 6) {
                // Preferred over c.addi16sp for small sp adjustments, as LLVM does.
                return Some(ci(Q1, 0b000, b >> 5, rd, b)); // c.addi
            }
            if rd == Reg::SP && rs1 == Reg::SP && v != 0 && v % 16 == 0 && fits_signed(v, 10) {
                // c.addi16sp: nzimm[9] -> bit 12, nzimm[4|6|8:7|5] -> bits 6:2.
                let lo = ((b >> 4) & 1) << 4
                    | ((b >> 6) & 1) << 3
                    | ((b >> 7) & 3) << 1
                    | ((b >> 5) & 1);
                return Some(ci(Q1, 0b011, b >> 9, Reg::SP, lo));
            }
            if rs1 == Reg::SP && v > 0 && fits_unsigned_scaled(v, 4, 1020) {
                // c.addi4spn: nzuimm[5:4|9:6|2|3] -> bits 12:5.
                let rd_p = rd.compressed_field()?;
                let imm8 = ((b >> 4) & 3) << 6
                    | ((b >> 6) & 0xf) << 2
                    | ((b >> 2) & 1) << 1
                    | ((b >> 3) & 1);
                return Some(ciw(Q0, 0b000, imm8, rd_p));
            }
            None
        }
        // `addiw rd, x0, imm` equals `addi rd, x0, imm` (the sum already is a
        // sign-extended 32-bit value), so it becomes c.li like LLVM does.
        AluImmOp::Addiw if !rd.is_zero() && rs1.is_zero() && fits_signed(v, 6) => {
            Some(ci(Q1, 0b010, b >> 5, rd, b))
        }
        AluImmOp::Addiw if !rd.is_zero() && rd == rs1 && fits_signed(v, 6) => {
            Some(ci(Q1, 0b001, b >> 5, rd, b))
        }
        AluImmOp::Andi if rd == rs1 && fits_signed(v, 6) => {
            let rd_p = rd.compressed_field()?;
            Some(cb(Q1, 0b100, (b >> 5) << 2 | 0b10, rd_p, b))
        }
        _ => None,
    }
}

pub(super) fn compress_alu(op: AluOp, rd: Reg, rs1: Reg, rs2: Reg) -> Option<u16> {
    // Commutative operations also compress when rd is the *second* source
    // (`and a0, a1, a0` -> `c.and a0, a1`), as in LLVM's patterns.
    let commutative = matches!(
        op,
        AluOp::Add | AluOp::Xor | AluOp::Or | AluOp::And | AluOp::Addw
    );
    // The source that is not rd (when rd == rs1, or rd == rs2 for a
    // commutative op); for the c.mv cases below it is unused.
    let other = if rd == rs1 { rs2 } else { rs1 };
    if op == AluOp::Add {
        if rd.is_zero() {
            return None;
        }
        // `add rd, x0, rs` and `add rd, rs, x0` are moves.
        match (rs1.is_zero(), rs2.is_zero()) {
            (true, false) => return Some(cr(Q2, 0b1000, rd, rs2)),
            (false, true) => return Some(cr(Q2, 0b1000, rd, rs1)),
            (true, true) => return None,
            (false, false) => {}
        }
        if rd == rs1 || rd == rs2 {
            return Some(cr(Q2, 0b1001, rd, other)); // c.add
        }
        return None;
    }
    let (funct6, funct2) = match op {
        AluOp::Sub => (0b100_011, 0b00),
        AluOp::Xor => (0b100_011, 0b01),
        AluOp::Or => (0b100_011, 0b10),
        AluOp::And => (0b100_011, 0b11),
        AluOp::Subw => (0b100_111, 0b00),
        AluOp::Addw => (0b100_111, 0b01),
        _ => return None,
    };
    if rd != rs1 && !(commutative && rd == rs2) {
        return None;
    }
    Some(ca(
        Q1,
        funct6,
        rd.compressed_field()?,
        funct2,
        other.compressed_field()?,
    ))
}

pub(super) fn compress_load(op: LoadOp, rd: Reg, rs1: Reg, off: i64) -> Option<u16> {
    let o = off as u32;
    match op {
        LoadOp::Lw if rs1 == Reg::SP && !rd.is_zero() && fits_unsigned_scaled(off, 4, 252) => {
            // c.lwsp: uimm[5] -> bit 12, uimm[4:2|7:6] -> bits 6:2.
            Some(ci(
                Q2,
                0b010,
                o >> 5,
                rd,
                ((o >> 2) & 7) << 2 | ((o >> 6) & 3),
            ))
        }
        LoadOp::Ld if rs1 == Reg::SP && !rd.is_zero() && fits_unsigned_scaled(off, 8, 504) => {
            // c.ldsp: uimm[5] -> bit 12, uimm[4:3|8:6] -> bits 6:2.
            Some(ci(
                Q2,
                0b011,
                o >> 5,
                rd,
                ((o >> 3) & 3) << 3 | ((o >> 6) & 7),
            ))
        }
        LoadOp::Lw if fits_unsigned_scaled(off, 4, 124) => {
            // c.lw: uimm[5:3] -> bits 12:10, uimm[2|6] -> bits 6:5.
            let lo = ((o >> 2) & 1) << 1 | ((o >> 6) & 1);
            Some(cl(
                Q0,
                0b010,
                o >> 3,
                rs1.compressed_field()?,
                lo,
                rd.compressed_field()?,
            ))
        }
        LoadOp::Ld if fits_unsigned_scaled(off, 8, 248) => {
            // c.ld: uimm[5:3] -> bits 12:10, uimm[7:6] -> bits 6:5.
            Some(cl(
                Q0,
                0b011,
                o >> 3,
                rs1.compressed_field()?,
                o >> 6,
                rd.compressed_field()?,
            ))
        }
        _ => None,
    }
}

pub(super) fn compress_store(op: StoreOp, rs1: Reg, rs2: Reg, off: i64) -> Option<u16> {
    let o = off as u32;
    match op {
        StoreOp::Sw if rs1 == Reg::SP && fits_unsigned_scaled(off, 4, 252) => {
            // c.swsp: uimm[5:2|7:6] -> bits 12:7.
            Some(css(Q2, 0b110, ((o >> 2) & 0xf) << 2 | ((o >> 6) & 3), rs2))
        }
        StoreOp::Sd if rs1 == Reg::SP && fits_unsigned_scaled(off, 8, 504) => {
            // c.sdsp: uimm[5:3|8:6] -> bits 12:7.
            Some(css(Q2, 0b111, ((o >> 3) & 7) << 3 | ((o >> 6) & 7), rs2))
        }
        StoreOp::Sw if fits_unsigned_scaled(off, 4, 124) => {
            let lo = ((o >> 2) & 1) << 1 | ((o >> 6) & 1);
            Some(cs(
                Q0,
                0b110,
                o >> 3,
                rs1.compressed_field()?,
                lo,
                rs2.compressed_field()?,
            ))
        }
        StoreOp::Sd if fits_unsigned_scaled(off, 8, 248) => Some(cs(
            Q0,
            0b111,
            o >> 3,
            rs1.compressed_field()?,
            o >> 6,
            rs2.compressed_field()?,
        )),
        _ => None,
    }
}
