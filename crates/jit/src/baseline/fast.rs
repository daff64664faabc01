//! The hot path: ALU operations with a register or 12-bit immediate
//! operand (most of any program), encoded from a table instead of nested
//! matches. On code that mixes instruction kinds at random, each
//! data-dependent branch per instruction is a likely misprediction, so the
//! common forms are computed with selects and written as a fixed group of
//! words of which only the first `n` are kept.

use super::enc::*;
use super::Emitter;
use rvbpf_ebpf::inst::{AluOp, Operand};

/// How one (width, operation) encodes.
#[derive(Clone, Copy)]
struct AluForm {
    /// Register form with rd = dst and (except `mov`) rs1 = dst; the
    /// register fields are ORed in.
    reg: u32,
    /// Immediate form (opcode, funct3, and for `arsh` the arithmetic bit).
    imm: u32,
    /// Mask applied to the immediate: 0xfff (checked to fit 12 bits), the
    /// shift amount mask, or 0 when there is no immediate form.
    imm_mask: u32,
    /// The immediate is negated (`sub` as `addi`).
    negate: bool,
    /// `mov`: the first operand is the source, not dst.
    mov: bool,
    /// Not handled here (division, `neg`, `movsx`).
    slow: bool,
}

const SLOW: AluForm = AluForm {
    reg: 0,
    imm: 0,
    imm_mask: 0,
    negate: false,
    mov: false,
    slow: true,
};

/// Number of `AluOp` variants.
const OPS: usize = 18;

const fn form(is64: bool, op: AluOp) -> AluForm {
    let (opc, opc_imm) = if is64 {
        (OP, OP_IMM)
    } else {
        (OP_32, OP_IMM_32)
    };
    let shift_mask = if is64 { 63 } else { 31 };
    match op {
        AluOp::Add => f(r(opc, 0, 0, 0, 0, 0), i(opc_imm, 0, 0, 0, 0), 0xfff),
        AluOp::Sub => AluForm {
            negate: true,
            ..f(r(opc, 0, 0x20, 0, 0, 0), i(opc_imm, 0, 0, 0, 0), 0xfff)
        },
        AluOp::Mul => f(r(opc, 0, 1, 0, 0, 0), 0, 0),
        // No W forms: the low half is right, the zero-extension follows.
        AluOp::Or => f(r(OP, 6, 0, 0, 0, 0), i(OP_IMM, 6, 0, 0, 0), 0xfff),
        AluOp::And => f(r(OP, 7, 0, 0, 0, 0), i(OP_IMM, 7, 0, 0, 0), 0xfff),
        AluOp::Xor => f(r(OP, 4, 0, 0, 0, 0), i(OP_IMM, 4, 0, 0, 0), 0xfff),
        AluOp::Lsh => f(r(opc, 1, 0, 0, 0, 0), i(opc_imm, 1, 0, 0, 0), shift_mask),
        AluOp::Rsh => f(r(opc, 5, 0, 0, 0, 0), i(opc_imm, 5, 0, 0, 0), shift_mask),
        AluOp::Arsh => f(
            r(opc, 5, 0x20, 0, 0, 0),
            i(opc_imm, 5, 0, 0, 0x400),
            shift_mask,
        ),
        // mov: `addi rd, rs, 0` / `addi rd, zero, imm`; a 32-bit mov is
        // zero-extended afterwards like every ALU32 result.
        AluOp::Mov => AluForm {
            mov: true,
            ..f(i(OP_IMM, 0, 0, 0, 0), i(OP_IMM, 0, 0, 0, 0), 0xfff)
        },
        _ => SLOW,
    }
}

const fn f(reg: u32, imm: u32, imm_mask: u32) -> AluForm {
    AluForm {
        reg,
        imm,
        imm_mask,
        negate: false,
        mov: false,
        slow: false,
    }
}

const fn table(is64: bool) -> [AluForm; OPS] {
    use AluOp::*;
    let ops = [
        Add, Sub, Mul, Div, Sdiv, Or, And, Lsh, Rsh, Neg, Mod, Smod, Xor, Mov, Movsx8, Movsx16,
        Movsx32, Arsh,
    ];
    let mut out = [SLOW; OPS];
    let mut k = 0;
    while k < OPS {
        out[ops[k] as usize] = form(is64, ops[k]);
        k += 1;
    }
    out
}

/// `[ALU32, ALU64]`.
static FORMS: [[AluForm; OPS]; 2] = [table(false), table(true)];

impl Emitter<'_> {
    /// Every ALU form but division, `neg` and `movsx` (`false`: the slow
    /// path must lower it). An immediate the operation has no 12-bit form
    /// for is built in t1 (`li`, or `lui; addiw`) for the register form.
    #[inline(always)]
    pub(super) fn alu_fast(&mut self, is64: bool, op: AluOp, rd: R, src: Operand) -> bool {
        let f = FORMS[is64 as usize][op as usize];
        if f.slow {
            return false;
        }
        let (is_reg, rs, lit) = match src {
            Operand::Reg(s) => (true, BPF[s.index() & 15], 0),
            Operand::Imm(v) => (false, T1, v),
        };
        let imm = if f.negate { lit.wrapping_neg() } else { lit };
        let imm_fits = f.imm_mask != 0 && (f.imm_mask != 0xfff || (-2048..2048).contains(&imm));
        let use_imm = !is_reg & imm_fits;
        let build_t1 = !is_reg & !imm_fits;
        // Register form (rs = t1 when built), or the immediate form.
        let first = if f.mov { rs } else { rd };
        let reg_word = f.reg | rd << 7 | first << 15 | if f.mov { 0 } else { rs << 20 };
        let imm_first = if f.mov { ZERO } else { rd };
        let imm_word = f.imm | rd << 7 | imm_first << 15 | ((imm as u32) & f.imm_mask) << 20;
        let word = if use_imm { imm_word } else { reg_word };
        let (hi, lo) = hi_lo(lit as i64);
        let small = (-2048..2048).contains(&lit);
        let (lui_t1, addiw_t1) = (lui(T1, hi), i(OP_IMM_32, 0, T1, T1, lo));
        let (z1, z2, n32) = if self.zba {
            (zext_w(rd, rd), 0, 2)
        } else {
            (slli(rd, rd, 32), srli(rd, rd, 32), 3)
        };
        let t1_words = if !build_t1 {
            0
        } else if small {
            1
        } else {
            2
        };
        let n = if is64 { 1 } else { n32 } + t1_words;
        let group = if !build_t1 {
            [word, z1, z2, 0, 0]
        } else if small {
            [addi(T1, ZERO, lit), word, z1, z2, 0]
        } else {
            [lui_t1, addiw_t1, word, z1, z2]
        };
        let len = self.words.len();
        self.words.extend_from_slice(&group);
        self.words.truncate(len + n);
        true
    }
}

impl Emitter<'_> {
    /// `*(size *)(base + off) = src` with a 12-bit `off` (funct3 `f3` =
    /// log2 of the width): a non-zero immediate is built in t1 first.
    #[inline(always)]
    pub(super) fn store_fast(&mut self, f3: u32, base: R, off: i32, src: Operand) {
        let (is_reg, rs, lit) = match src {
            Operand::Reg(s) => (true, BPF[s.index() & 15], 0),
            Operand::Imm(v) => (false, T1, v),
        };
        let zero = !is_reg & (lit == 0);
        let value = if zero { ZERO } else { rs };
        let fits = (-2048..2048).contains(&lit);
        let (hi, lo) = hi_lo(lit as i64);
        let mut buf = [0u32; 3];
        let mut k = 0;
        buf[k] = if fits {
            addi(T1, ZERO, lit)
        } else {
            lui(T1, hi)
        };
        k += (!is_reg & !zero) as usize;
        buf[k] = i(OP_IMM_32, 0, T1, T1, lo);
        k += (!is_reg & !fits) as usize;
        buf[k] = store(f3, base, value, off);
        k += 1;
        let len = self.words.len();
        self.words.extend_from_slice(&buf);
        self.words.truncate(len + k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_the_op_discriminant() {
        // AluOp has OPS variants; the last one's discriminant is OPS - 1.
        assert_eq!(AluOp::Arsh as usize, OPS - 1);
        assert!(!FORMS[1][AluOp::Add as usize].slow);
        assert!(FORMS[1][AluOp::Div as usize].slow);
        assert!(FORMS[0][AluOp::Movsx8 as usize].slow);
        assert!(FORMS[1][AluOp::Mov as usize].mov);
    }

    #[test]
    fn size_discriminants_are_log2_of_the_width() {
        // lower.rs turns `Size as u32` into the store funct3 and indexes
        // the load funct3 table with it.
        use rvbpf_ebpf::inst::Size;
        for size in [Size::B, Size::H, Size::W, Size::DW] {
            assert_eq!(1 << (size as u32), size.bytes());
        }
    }
}
