//! Raw RV64 encodings for the baseline tier: register numbers and
//! immediates in, one little-endian instruction word out. No typed
//! `rvbpf_rv64::Inst`, no range checks beyond what the callers guarantee
//! (every immediate is masked to its field); the unit tests below hold
//! each form against rv64's own decoder and printer.

/// An integer register number `x0..x31`.
pub type R = u32;

pub const ZERO: R = 0;
pub const RA: R = 1;
pub const SP: R = 2;
pub const T0: R = 5;
pub const T1: R = 6;
pub const T2: R = 7;
pub const A0: R = 10;
pub const A5: R = 15;
/// Tail-call count (`TccScheme::Reg`).
pub const A6: R = 16;
pub const S5: R = 21;
/// Where the count survives calls.
pub const S6: R = 22;
/// Far-jump scratch.
pub const T3: R = 28;

/// BPF R0..R10 → register number (the crate's register map, `regmap.rs`;
/// a unit test checks the two agree), padded to 16 entries so that an
/// index masked with 15 needs no bounds check.
pub const BPF: [R; 16] = [15, 10, 11, 12, 13, 14, 9, 18, 19, 20, 21, 0, 0, 0, 0, 0];

pub const OP: u32 = 0x33;
pub const OP_32: u32 = 0x3b;
pub const OP_IMM: u32 = 0x13;
pub const OP_IMM_32: u32 = 0x1b;
const LOAD: u32 = 0x03;
const STORE: u32 = 0x23;
const BRANCH: u32 = 0x63;
const JAL: u32 = 0x6f;
const JALR: u32 = 0x67;
const LUI: u32 = 0x37;
const AUIPC: u32 = 0x17;
const AMO: u32 = 0x2f;

/// `if c { a } else { b }` as a conditional move: these conditions follow
/// the instruction mix (or the order of jumps), so a branch would often be
/// mispredicted.
#[inline(always)]
pub fn pick<T>(c: bool, a: T, b: T) -> T {
    std::hint::select_unpredictable(c, a, b)
}

/// `rd = v` (sign-extended) as `(words, count)`: `li` when `v` fits 12
/// bits, else `lui` and, unless the low part is zero, `addiw` (which wraps
/// in 32 bits and sign-extends, so it also covers values whose rounded
/// upper part overflows into bit 31). Computed without a branch, for the
/// hot path.
#[inline(always)]
pub fn li_words(rd: R, v: i32) -> ([u32; 2], usize) {
    let (hi, lo) = hi_lo(v as i64);
    let small = (-2048..2048).contains(&v);
    let first = pick(small, addi(rd, ZERO, v), lui(rd, hi));
    let count = 1 + (!small & (lo != 0)) as usize;
    ([first, i(OP_IMM_32, 0, rd, rd, lo)], count)
}

/// `nop` (`addi zero, zero, 0`).
pub const NOP: u32 = 0x13;
/// `ret` (`jalr zero, 0(ra)`).
pub const RET: u32 = 0x8067;

/// R-type: `funct7 rs2 rs1 funct3 rd opcode`.
#[inline(always)]
pub const fn r(opcode: u32, f3: u32, f7: u32, rd: R, rs1: R, rs2: R) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode
}

/// I-type with a 12-bit immediate (masked).
#[inline(always)]
pub const fn i(opcode: u32, f3: u32, rd: R, rs1: R, imm: i32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode
}

/// `addi rd, rs1, imm`.
#[inline(always)]
pub const fn addi(rd: R, rs1: R, imm: i32) -> u32 {
    i(OP_IMM, 0, rd, rs1, imm)
}

/// `mv rd, rs`.
#[inline(always)]
pub const fn mv(rd: R, rs: R) -> u32 {
    addi(rd, rs, 0)
}

/// `addiw rd, rs, 0` (`sext.w`).
#[inline(always)]
pub const fn sext_w(rd: R, rs: R) -> u32 {
    i(OP_IMM_32, 0, rd, rs, 0)
}

/// Shift by an immediate: `f3` 1 = sll, 5 = srl; `arith` for sra. `w`:
/// the 32-bit form (5-bit amount).
#[inline(always)]
pub const fn shift_imm(w: bool, f3: u32, arith: bool, rd: R, rs1: R, amount: u32) -> u32 {
    let (opcode, mask) = if w { (OP_IMM_32, 31) } else { (OP_IMM, 63) };
    let hi = if arith { 0x400 } else { 0 };
    i(opcode, f3, rd, rs1, (hi | (amount & mask)) as i32)
}

pub const fn slli(rd: R, rs1: R, amount: u32) -> u32 {
    shift_imm(false, 1, false, rd, rs1, amount)
}
pub const fn srli(rd: R, rs1: R, amount: u32) -> u32 {
    shift_imm(false, 5, false, rd, rs1, amount)
}
pub const fn srai(rd: R, rs1: R, amount: u32) -> u32 {
    shift_imm(false, 5, true, rd, rs1, amount)
}

/// Load: `f3` 0 lb, 1 lh, 2 lw, 3 ld, 4 lbu, 5 lhu, 6 lwu.
#[inline(always)]
pub const fn load(f3: u32, rd: R, rs1: R, off: i32) -> u32 {
    i(LOAD, f3, rd, rs1, off)
}

/// Store: `f3` 0 sb, 1 sh, 2 sw, 3 sd.
#[inline(always)]
pub const fn store(f3: u32, rs1: R, rs2: R, off: i32) -> u32 {
    let imm = off as u32;
    ((imm >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | STORE
}

/// `ld rd, off(base)`.
pub const fn ld(rd: R, base: R, off: i32) -> u32 {
    load(3, rd, base, off)
}
/// `sd rs, off(base)`.
pub const fn sd(rs: R, base: R, off: i32) -> u32 {
    store(3, base, rs, off)
}

/// Branch funct3 values; `^ 1` inverts the condition.
pub const BEQ: u32 = 0;
pub const BNE: u32 = 1;
pub const BLT: u32 = 4;
pub const BGE: u32 = 5;
pub const BLTU: u32 = 6;
pub const BGEU: u32 = 7;

/// The immediate bits of a B-type instruction for byte offset `off`.
#[inline(always)]
pub const fn b_imm(off: i32) -> u32 {
    let o = off as u32;
    ((o >> 12) & 1) << 31 | ((o >> 5) & 0x3f) << 25 | ((o >> 1) & 0xf) << 8 | ((o >> 11) & 1) << 7
}

/// `b<f3> rs1, rs2, off`.
#[inline(always)]
pub const fn branch(f3: u32, rs1: R, rs2: R, off: i32) -> u32 {
    rs2 << 20 | rs1 << 15 | f3 << 12 | BRANCH | b_imm(off)
}

/// The immediate bits of a J-type instruction for byte offset `off`.
#[inline(always)]
pub const fn j_imm(off: i32) -> u32 {
    let o = off as u32;
    ((o >> 20) & 1) << 31
        | ((o >> 1) & 0x3ff) << 21
        | ((o >> 11) & 1) << 20
        | ((o >> 12) & 0xff) << 12
}

/// `jal rd, off`.
#[inline(always)]
pub const fn jal(rd: R, off: i32) -> u32 {
    rd << 7 | JAL | j_imm(off)
}

/// `jalr rd, off(rs1)`.
#[inline(always)]
pub const fn jalr(rd: R, rs1: R, off: i32) -> u32 {
    i(JALR, 0, rd, rs1, off)
}

/// `lui rd, hi` (`hi` = bits 31..12 of the value, masked to 20 bits).
#[inline(always)]
pub const fn lui(rd: R, hi: i32) -> u32 {
    ((hi as u32) & 0xfffff) << 12 | rd << 7 | LUI
}

/// `auipc rd, hi`.
#[inline(always)]
pub const fn auipc(rd: R, hi: i32) -> u32 {
    ((hi as u32) & 0xfffff) << 12 | rd << 7 | AUIPC
}

/// Splits a pc-relative offset for `auipc` + a 12-bit signed low part.
#[inline(always)]
pub const fn hi_lo(off: i64) -> (i32, i32) {
    let hi = (off + 0x800) >> 12;
    (hi as i32, (off - (hi << 12)) as i32)
}

/// AMO funct5 values.
pub const AMOADD: u32 = 0x00;
pub const AMOSWAP: u32 = 0x01;
pub const LR: u32 = 0x02;
pub const SC: u32 = 0x03;
pub const AMOXOR: u32 = 0x04;
pub const AMOOR: u32 = 0x08;
pub const AMOAND: u32 = 0x0c;

/// `amo<f5>.{w,d}.aqrl rd, rs2, (rs1)` (also `lr` with rs2 = 0 and `sc`).
#[inline(always)]
pub const fn amo(f5: u32, dword: bool, rd: R, rs1: R, rs2: R) -> u32 {
    let f3 = if dword { 3 } else { 2 };
    f5 << 27 | 1 << 26 | 1 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | AMO
}

/// Zba `add.uw rd, rs, zero` (`zext.w`).
pub const fn zext_w(rd: R, rs: R) -> u32 {
    r(OP_32, 0, 0x04, rd, rs, ZERO)
}

/// Zbb `rev8 rd, rs` (RV64).
pub const fn rev8(rd: R, rs: R) -> u32 {
    0x6b80_5013 | rs << 15 | rd << 7
}

/// Zbb `zext.h rd, rs` (RV64).
pub const fn zext_h(rd: R, rs: R) -> u32 {
    0x0800_403b | rs << 15 | rd << 7
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_rv64::disassemble_one;

    const A1: R = 11;

    fn text(word: u32) -> String {
        let (len, t) = disassemble_one(&word.to_le_bytes(), 0x1000);
        assert_eq!(len, 4, "{word:#x} decodes as a 4-byte instruction");
        t
    }

    #[test]
    fn register_map_agrees_with_regmap() {
        use rvbpf_ebpf::inst::Reg as BpfReg;
        for n in 0..=10u8 {
            let r = crate::regmap::bpf_reg(BpfReg::new(n).unwrap());
            assert_eq!(rvbpf_rv64::Reg::new(BPF[n as usize] as u8), Some(r));
        }
    }

    #[test]
    fn encodings_decode_to_the_intended_instructions() {
        // Expected texts written by hand from the RISC-V spec's assembly syntax.
        let cases: &[(u32, &str)] = &[
            (r(OP, 0, 0, A5, A5, A0), "add a5, a5, a0"),
            (r(OP_32, 0, 0x20, A0, A0, A5), "subw a0, a0, a5"),
            (r(OP, 5, 1, A5, A5, T1), "divu a5, a5, t1"),
            (r(OP_32, 7, 1, A5, A5, T1), "remuw a5, a5, t1"),
            (addi(SP, SP, -48), "addi sp, sp, -48"),
            (addi(A5, ZERO, 2047), "li a5, 2047"),
            (mv(A0, A5), "mv a0, a5"),
            (sext_w(T2, A0), "sext.w t2, a0"),
            (slli(A5, A5, 32), "slli a5, a5, 32"),
            (srli(A5, A5, 63), "srli a5, a5, 63"),
            (srai(A5, A0, 1), "srai a5, a0, 1"),
            (shift_imm(true, 5, true, A0, A0, 31), "sraiw a0, a0, 31"),
            (load(6, A5, S5, -4), "lwu a5, -4(s5)"),
            (ld(RA, SP, 2040), "ld ra, 2040(sp)"),
            (sd(S6, SP, 8), "sd s6, 8(sp)"),
            (store(0, A0, T1, -2048), "sb t1, -2048(a0)"),
            (branch(BGEU, T1, T2, 4094), "bgeu t1, t2, 0x1ffe"),
            (branch(BNE, A5, ZERO, -4096), "bnez a5, 0x0"),
            (jal(ZERO, 0xffffe), "j 0x100ffe"),
            (jal(RA, -0x1000), "jal 0x0"),
            (jalr(ZERO, T1, 12), "jr 12(t1)"),
            (lui(A5, -1), "lui a5, 1048575"),
            (auipc(T1, 0x7ffff), "auipc t1, 524287"),
            (
                amo(AMOADD, true, ZERO, A0, A1),
                "amoadd.d.aqrl zero, a1, (a0)",
            ),
            (amo(LR, false, T0, A0, ZERO), "lr.w.aqrl t0, (a0)"),
            (amo(SC, true, T3, A0, A1), "sc.d.aqrl t3, a1, (a0)"),
            (zext_w(A5, A0), "zext.w a5, a0"),
            (rev8(A5, A5), "rev8 a5, a5"),
            (zext_h(A5, A5), "zext.h a5, a5"),
            (NOP, "nop"),
            (RET, "ret"),
        ];
        for &(word, want) in cases {
            assert_eq!(text(word), want, "{word:#010x}");
        }
    }

    #[test]
    fn hi_lo_recombines() {
        for off in [
            0i64,
            1,
            0x7ff,
            0x800,
            -0x800,
            -0x801,
            0x1234_5678,
            -0x7fff_f000,
        ] {
            let (hi, lo) = hi_lo(off);
            assert!((-2048..2048).contains(&lo));
            assert_eq!(((hi as i64) << 12) + lo as i64, off);
        }
    }
}
