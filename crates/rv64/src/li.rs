//! Materialising constants: `load_imm` builds a short `lui`/`addi(w)`/`slli`
//! sequence (at most 8 instructions) for any 64-bit value; `split_hi_lo`
//! splits a 32-bit offset for `auipc`+`jalr`/`addi`/load pairs.

use crate::imm::{Imm12, Imm20, Shamt};
use crate::inst::Inst;
use crate::op::{AluImmOp, ShiftOp};
use crate::reg::Reg;

/// Instructions that set `rd` to `value` using only `rd` itself.
///
/// Strategy (as in LLVM's `RISCVMatInt`): a value that fits in 32 signed bits
/// is `lui` + `addiw` (or a lone `addi`/`lui`). Otherwise peel off the low
/// 12 bits as a signed `addi` immediate, build the remaining upper part
/// shifted right past its trailing zeros recursively, then `slli` it back.
pub fn load_imm(rd: Reg, value: i64) -> Vec<Inst> {
    LoadImm::new(rd, value).to_vec()
}

/// The instructions of [`load_imm`] without a heap allocation (a JIT builds
/// constants for many instructions): at most 8, dereferencing to a slice.
/// [`load_imm`] is built from it, so `tests/load_imm.rs` covers both.
#[derive(Clone, Copy, Debug)]
pub struct LoadImm {
    insts: [Inst; 8],
    len: u8,
}

impl LoadImm {
    /// The same sequence as [`load_imm`]`(rd, value)`.
    pub fn new(rd: Reg, value: i64) -> LoadImm {
        let mut out = LoadImm {
            insts: [Inst::NOP; 8],
            len: 0,
        };
        push_load_imm(rd, value, &mut out);
        out
    }

    fn push(&mut self, inst: Inst) {
        self.insts[self.len as usize] = inst;
        self.len += 1;
    }
}

impl std::ops::Deref for LoadImm {
    type Target = [Inst];

    fn deref(&self) -> &[Inst] {
        &self.insts[..self.len as usize]
    }
}

/// Splits `value` into `(hi, lo)` with `hi.upper_value() + lo.value() == value`,
/// i.e. the operands of `auipc rd, hi` + `jalr/addi/ld ..., lo(rd)` (or
/// `lui` + `addi`) reaching `value` from the pc (or from zero).
///
/// `None` when `value` is outside `-2^31 - 2048 ..= 2^31 - 2049`, the range
/// such a pair reaches on RV64 (`hi` is sign-extended, `lo` rounds `hi` up).
pub fn split_hi_lo(value: i64) -> Option<(Imm20, Imm12)> {
    let lo = low12(value);
    let hi = Imm20::new(value.checked_sub(lo)? >> 12)?;
    Some((hi, imm12(lo)))
}

/// Sign-extends the low 12 bits.
fn low12(value: i64) -> i64 {
    (value << 52) >> 52
}

fn imm12(value: i64) -> Imm12 {
    Imm12::new(value).expect("value was reduced to 12 signed bits")
}

fn push_load_imm(rd: Reg, value: i64, out: &mut LoadImm) {
    if value as i32 as i64 == value {
        let lo = low12(value);
        // Round so that the sign-extended `lo` is compensated; the result
        // wraps to 20 bits, which `addiw`'s 32-bit wrap-around undoes.
        let hi = ((value + 0x800) >> 12) & 0xf_ffff;
        if hi != 0 {
            let imm = Imm20::from_bits(hi as u32).expect("masked to 20 bits");
            out.push(Inst::Lui { rd, imm });
        }
        if lo != 0 || hi == 0 {
            let (op, rs1) = if hi != 0 {
                (AluImmOp::Addiw, rd)
            } else {
                (AluImmOp::Addi, Reg::ZERO)
            };
            out.push(Inst::AluImm {
                op,
                rd,
                rs1,
                imm: imm12(lo),
            });
        }
        return;
    }
    let lo = low12(value);
    let upper = value.wrapping_sub(lo) >> 12;
    // `upper` is non-zero here: a zero upper part would mean `value` fit in 12 bits.
    let extra = upper.trailing_zeros();
    push_load_imm(rd, upper >> extra, out);
    let shamt = Shamt::new(12 + extra).expect("value does not fit 32 bits, so the shift is < 64");
    out.push(Inst::Shift {
        op: ShiftOp::Slli,
        rd,
        rs1: rd,
        shamt,
    });
    if lo != 0 {
        out.push(Inst::AluImm {
            op: AluImmOp::Addi,
            rd,
            rs1: rd,
            imm: imm12(lo),
        });
    }
}
