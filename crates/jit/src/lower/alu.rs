//! ALU and byte-order lowering.
//!
//! BPF ALU32 results are zero-extended; RV64 `*w` instructions sign-extend.
//! Each lowering knows whether its result is already zero-extended (e.g.
//! `li` of a u32, `andi` with a non-negative mask, `srliw` by 1..31) and adds
//! the zero-extension only when it is not. W-instructions ignore the upper
//! input bits, so inputs never need extending.
//!
//! Every ALU32 lowering leaves the correct low 32 bits computed from the
//! low 32 bits of its inputs only; the trailing zero-extension is left out
//! when the analysis in [`super::live`] shows the upper half is never read.

use super::Cx;
use crate::regmap::{bpf_reg, T1};
use crate::JitError;
use rvbpf_ebpf::inst::{AluOp as BpfAlu, EndianOp, Operand, Reg as BpfReg};
use rvbpf_rv64::li::LoadImm;
use rvbpf_rv64::{AluImmOp, AluOp, BranchOp, Imm12, Inst, Reg, ShamtW, ShiftOp, ShiftWOp, UnaryOp};

/// Lowers an ALU operation. The two-operand ones with a one-to-one RV64
/// form (add, sub, mul, or, and, xor, shifts) go through [`FORMS`]: one
/// indirect jump on (operation, width, operand kind) to a copy of the code
/// below specialised for it, where the operation's matches and the
/// encoder's dispatch on the instruction fold away. Matching on the three
/// in turn, as the general path does, cost up to three mispredicted
/// branches per instruction on mixed code.
pub fn lower_alu(
    cx: &mut Cx,
    is64: bool,
    op: BpfAlu,
    dst: BpfReg,
    src: Operand,
) -> Result<(), JitError> {
    let imm = matches!(src, Operand::Imm(_));
    FORMS[form_slot(op, is64, imm)](cx, is64, op, dst, src);
    Ok(())
}

/// One lowering of an ALU operation: [`general`] or a [`form`].
type Form = fn(&mut Cx, bool, BpfAlu, BpfReg, Operand);

/// The slot of (operation, width, operand kind) in [`FORMS`].
const fn form_slot(op: BpfAlu, is64: bool, imm: bool) -> usize {
    (op as usize) << 2 | (is64 as usize) << 1 | imm as usize
}

/// Every operation's slots, [`general`] where no [`form`] is specialised.
const FORMS: [Form; form_slot(BpfAlu::Arsh, true, true) + 1] = {
    let mut forms: [Form; form_slot(BpfAlu::Arsh, true, true) + 1] =
        [general; form_slot(BpfAlu::Arsh, true, true) + 1];
    macro_rules! specialise {
        ($($op:ident),*) => {$(
            forms[form_slot(BpfAlu::$op, false, false)] =
                form::<{ BpfAlu::$op as usize }, false, false>;
            forms[form_slot(BpfAlu::$op, false, true)] =
                form::<{ BpfAlu::$op as usize }, false, true>;
            forms[form_slot(BpfAlu::$op, true, false)] =
                form::<{ BpfAlu::$op as usize }, true, false>;
            forms[form_slot(BpfAlu::$op, true, true)] =
                form::<{ BpfAlu::$op as usize }, true, true>;
        )*};
    }
    specialise!(Add, Sub, Mul, Or, And, Xor, Lsh, Rsh, Arsh, Mov);
    forms
};

/// The operation whose discriminant is `n` (a [`form`]'s parameter).
const fn op_of(n: usize) -> BpfAlu {
    const OPS: [BpfAlu; 18] = [
        BpfAlu::Add,
        BpfAlu::Sub,
        BpfAlu::Mul,
        BpfAlu::Div,
        BpfAlu::Sdiv,
        BpfAlu::Or,
        BpfAlu::And,
        BpfAlu::Lsh,
        BpfAlu::Rsh,
        BpfAlu::Neg,
        BpfAlu::Mod,
        BpfAlu::Smod,
        BpfAlu::Xor,
        BpfAlu::Mov,
        BpfAlu::Movsx8,
        BpfAlu::Movsx16,
        BpfAlu::Movsx32,
        BpfAlu::Arsh,
    ];
    OPS[n]
}

/// [`general`] for operation `OP` of width `IS64` with an immediate
/// (`IMM`) or register operand, which the table guarantees: with all three
/// constant, the inlined lowering keeps only this case's code.
fn form<const OP: usize, const IS64: bool, const IMM: bool>(
    cx: &mut Cx,
    _is64: bool,
    _op: BpfAlu,
    dst: BpfReg,
    src: Operand,
) {
    general(cx, IS64, op_of(OP), dst, src)
}

/// Any ALU operation, matched on its operation and operand.
#[inline(always)]
fn general(cx: &mut Cx, is64: bool, op: BpfAlu, dst: BpfReg, src: Operand) {
    let rd = bpf_reg(dst);
    let zext_done = match op {
        BpfAlu::Mov => mov(cx, is64, rd, src),
        BpfAlu::Movsx8 | BpfAlu::Movsx16 | BpfAlu::Movsx32 => movsx(cx, is64, op, rd, src),
        BpfAlu::Neg => {
            let op = if is64 { AluOp::Sub } else { AluOp::Subw };
            cx.push(Inst::alu(op, rd, Reg::ZERO, rd));
            false
        }
        BpfAlu::Div | BpfAlu::Sdiv | BpfAlu::Mod | BpfAlu::Smod => divmod(cx, is64, op, rd, src),
        _ => {
            // The first operand: dst itself, or the source of a preceding
            // `mov dst, src` fused into this instruction (see `super::fuse`).
            let first = cx.fused_first.unwrap_or(rd);
            if let (Some((shifted, amount)), Operand::Reg(_)) = (cx.fused_shift, src) {
                // `rd = first + (shifted << amount)` (see `super::shadd`).
                let op = match amount {
                    1 => AluOp::Sh1add,
                    2 => AluOp::Sh2add,
                    _ => AluOp::Sh3add,
                };
                cx.push(Inst::alu(op, rd, shifted, first));
                return;
            }
            match src {
                Operand::Imm(imm) => match alu_imm(cx, is64, op, rd, first, imm) {
                    Some(done) => done,
                    None => {
                        let rs = cx.operand_imm(imm as i64);
                        alu_reg(cx, is64, op, rd, first, rs)
                    }
                },
                // `src == dst` reads the value the fused mov gave dst.
                Operand::Reg(s) if s == dst => alu_reg(cx, is64, op, rd, first, first),
                Operand::Reg(s) => alu_reg(cx, is64, op, rd, first, bpf_reg(s)),
            }
        }
    };
    if !is64 && !zext_done && !cx.zext_is_dead() {
        cx.zext32(rd, rd);
    }
}

/// Returns whether the result is already zero-extended (only meaningful
/// for 32-bit operations; 64-bit ones return `true`).
fn mov(cx: &mut Cx, is64: bool, rd: Reg, src: Operand) -> bool {
    match (src, is64) {
        (Operand::Reg(s), true) => cx.mv(rd, bpf_reg(s)),
        // Nobody reads the upper half: a plain copy will do.
        (Operand::Reg(s), false) if cx.zext_is_dead() => cx.mv(rd, bpf_reg(s)),
        // Already zero-extended: a plain copy too.
        (Operand::Reg(s), false) if cx.known.get(s.index()).zext => cx.mv(rd, bpf_reg(s)),
        (Operand::Reg(s), false) => cx.zext32(rd, bpf_reg(s)),
        (Operand::Imm(i), false) if cx.zext_is_dead() => cx.li(rd, i as i64),
        (Operand::Imm(i), true) => cx.li(rd, i as i64),
        // Its own zero-extension: nothing to compare below.
        (Operand::Imm(i), false) if i >= 0 => cx.li(rd, i as i64),
        (Operand::Imm(i), false) => {
            // A negative i32 may be cheaper sign-extended, then zero-extended
            // (0xffff_ffff: `li -1` + `zext.w` instead of three instructions).
            // (Counting a pool load as its two instructions, and preferring
            // inline code on a tie.)
            let direct = LoadImm::new(rd, i as u32 as i64).len();
            let zext_cost = if cx.zba() { 1 } else { 2 };
            let via_sext = LoadImm::new(rd, i as i64).len() + zext_cost;
            let sext_wins = if direct <= super::MAX_INLINE_CONSTANT {
                via_sext < direct
            } else {
                via_sext <= super::MAX_INLINE_CONSTANT
            };
            if sext_wins {
                cx.li(rd, i as i64);
                cx.zext32(rd, rd);
            } else {
                cx.li(rd, i as u32 as i64);
            }
        }
    }
    true
}

fn movsx(cx: &mut Cx, is64: bool, op: BpfAlu, rd: Reg, src: Operand) -> bool {
    let rs = match src {
        Operand::Reg(s) => bpf_reg(s),
        // The decoder only produces register forms; be total anyway.
        Operand::Imm(i) => {
            cx.li(T1, i as i64);
            T1
        }
    };
    match op {
        BpfAlu::Movsx32 => cx.sext32(rd, rs),
        _ => {
            let bits = if op == BpfAlu::Movsx8 { 8 } else { 16 };
            if cx.zbb() {
                let u = if bits == 8 {
                    UnaryOp::SextB
                } else {
                    UnaryOp::SextH
                };
                cx.push(Inst::Unary { op: u, rd, rs1: rs });
            } else {
                cx.shift(ShiftOp::Slli, rd, rs, 64 - bits);
                cx.shift(ShiftOp::Srai, rd, rd, 64 - bits);
            }
        }
    }
    // A 32-bit movsx result is sign-extended to 64 bits; BPF wants it
    // zero-extended from 32.
    is64
}

/// The immediate forms RV64 has (`addi`, `andi`, shifts ...). `None` when
/// the operation needs the immediate in a register.
/// `first` is the register holding the first operand (normally `rd`).
#[inline(always)]
fn alu_imm(cx: &mut Cx, is64: bool, op: BpfAlu, rd: Reg, first: Reg, imm: i32) -> Option<bool> {
    let i12 = |v: i64| Imm12::new(v);
    let alu_i = |op, imm| Inst::AluImm {
        op,
        rd,
        rs1: first,
        imm,
    };
    match op {
        BpfAlu::Add | BpfAlu::Sub => {
            let v = if op == BpfAlu::Add {
                imm as i64
            } else {
                -(imm as i64)
            };
            let opc = if is64 {
                AluImmOp::Addi
            } else {
                AluImmOp::Addiw
            };
            cx.push(alu_i(opc, i12(v)?));
            Some(is64)
        }
        BpfAlu::And | BpfAlu::Or | BpfAlu::Xor => {
            let opc = match op {
                BpfAlu::And => AluImmOp::Andi,
                BpfAlu::Or => AluImmOp::Ori,
                _ => AluImmOp::Xori,
            };
            match i12(imm as i64) {
                Some(v) => {
                    cx.push(alu_i(opc, v));
                    // A non-negative mask clears bits 11..63.
                    Some(is64 || (op == BpfAlu::And && imm >= 0))
                }
                None if op == BpfAlu::And
                    && cx.zbb()
                    && cx.constant(imm as i64).is_none()
                    && cheaper_inverted(imm) =>
                {
                    cx.li(T1, !(imm as i64));
                    cx.push(Inst::alu(AluOp::Andn, rd, first, T1));
                    Some(is64)
                }
                None => None,
            }
        }
        BpfAlu::Lsh | BpfAlu::Rsh | BpfAlu::Arsh => {
            if is64 {
                if imm & 63 == 0 {
                    cx.mv(rd, first);
                    return Some(true);
                }
                let sop = match op {
                    BpfAlu::Lsh => ShiftOp::Slli,
                    BpfAlu::Rsh => ShiftOp::Srli,
                    _ => ShiftOp::Srai,
                };
                cx.shift(sop, rd, first, imm as u32 & 63);
                Some(true)
            } else {
                let sop = match op {
                    BpfAlu::Lsh => ShiftWOp::Slliw,
                    BpfAlu::Rsh => ShiftWOp::Srliw,
                    _ => ShiftWOp::Sraiw,
                };
                let amount = imm as u32 & 31;
                if amount == 0 {
                    // Only the zero-extension (of the first operand) remains.
                    cx.mv(rd, first);
                    return Some(false);
                }
                let shamt = ShamtW::new(amount).expect("masked to 5 bits");
                cx.push(Inst::ShiftW {
                    op: sop,
                    rd,
                    rs1: first,
                    shamt,
                });
                // A logical right shift by 1..31 clears bit 31, so the
                // sign-extension is a zero-extension.
                Some(op == BpfAlu::Rsh && amount != 0)
            }
        }
        _ => None,
    }
}

/// `andn` with `!imm` needs fewer instructions to materialise than `and`.
fn cheaper_inverted(imm: i32) -> bool {
    LoadImm::new(T1, !(imm as i64)).len() < LoadImm::new(T1, imm as i64).len()
}

#[inline(always)]
fn alu_reg(cx: &mut Cx, is64: bool, op: BpfAlu, rd: Reg, first: Reg, rs: Reg) -> bool {
    let opc = match (op, is64) {
        (BpfAlu::Add, true) => AluOp::Add,
        (BpfAlu::Add, false) => AluOp::Addw,
        (BpfAlu::Sub, true) => AluOp::Sub,
        (BpfAlu::Sub, false) => AluOp::Subw,
        (BpfAlu::Mul, true) => AluOp::Mul,
        (BpfAlu::Mul, false) => AluOp::Mulw,
        (BpfAlu::Or, _) => AluOp::Or,
        (BpfAlu::And, _) => AluOp::And,
        (BpfAlu::Xor, _) => AluOp::Xor,
        // Register shifts use the low 6 (5 for *w) bits of rs: BPF's mask.
        (BpfAlu::Lsh, true) => AluOp::Sll,
        (BpfAlu::Lsh, false) => AluOp::Sllw,
        (BpfAlu::Rsh, true) => AluOp::Srl,
        (BpfAlu::Rsh, false) => AluOp::Srlw,
        (BpfAlu::Arsh, true) => AluOp::Sra,
        (BpfAlu::Arsh, false) => AluOp::Sraw,
        _ => unreachable!("handled by lower_alu"),
    };
    cx.push(Inst::alu(opc, rd, first, rs));
    is64
}

/// Division and remainder. BPF: `x / 0 = 0`, `x % 0 = x`; RISC-V: `x / 0 =
/// all ones`, `x % 0 = x`, so only division needs a fix-up branch. Signed
/// overflow (`MIN / -1 = MIN`, `MIN % -1 = 0`) agrees.
fn divmod(cx: &mut Cx, is64: bool, op: BpfAlu, rd: Reg, src: Operand) -> bool {
    let is_div = matches!(op, BpfAlu::Div | BpfAlu::Sdiv);
    let signed = matches!(op, BpfAlu::Sdiv | BpfAlu::Smod);
    let opc = match (is_div, signed, is64) {
        (true, false, true) => AluOp::Divu,
        (true, true, true) => AluOp::Div,
        (false, false, true) => AluOp::Remu,
        (false, true, true) => AluOp::Rem,
        (true, false, false) => AluOp::Divuw,
        (true, true, false) => AluOp::Divw,
        (false, false, false) => AluOp::Remuw,
        (false, true, false) => AluOp::Remw,
    };
    let rs = match src {
        Operand::Imm(0) => {
            if is_div {
                cx.li(rd, 0);
                return true;
            }
            return is64; // x % 0 = x (zero-extended for ALU32)
        }
        Operand::Imm(i) => {
            // Non-zero constant divisor: no fix-up needed.
            let rs = cx.operand_imm(i as i64);
            cx.push(Inst::alu(opc, rd, rd, rs));
            return is64;
        }
        Operand::Reg(s) => bpf_reg(s),
    };
    if !is_div {
        cx.push(Inst::alu(opc, rd, rd, rs));
        return is64;
    }
    // The zero test must see the divisor the division sees (its low 32 bits
    // for ALU32) and must survive `rd == rs`.
    let divisor = if !is64 {
        cx.sext32(T1, rs);
        T1
    } else if rs == rd {
        cx.mv(T1, rs);
        T1
    } else {
        rs
    };
    cx.push(Inst::alu(opc, rd, rd, divisor));
    if !is64 {
        cx.zext32(rd, rd);
    }
    let done = cx.new_label();
    cx.item(crate::items::Item::Branch {
        op: BranchOp::Bne,
        rs1: divisor,
        rs2: Reg::ZERO,
        target: done,
    });
    cx.li(rd, 0);
    cx.item(crate::items::Item::Bind(done));
    true
}

pub fn lower_endian(cx: &mut Cx, op: EndianOp, dst: BpfReg, bits: u8) {
    let rd = bpf_reg(dst);
    let bits = bits as u32;
    match op {
        // The host is little-endian: only truncate.
        EndianOp::Le => match bits {
            16 if cx.zbb() => cx.push(Inst::Unary {
                op: UnaryOp::ZextH,
                rd,
                rs1: rd,
            }),
            16 => {
                cx.shift(ShiftOp::Slli, rd, rd, 48);
                cx.shift(ShiftOp::Srli, rd, rd, 48);
            }
            32 => cx.zext32(rd, rd),
            _ => {}
        },
        EndianOp::Be | EndianOp::Swap => byte_swap(cx, rd, bits),
    }
}

/// Reverses the low `bits / 8` bytes of `rd`, clearing the rest.
fn byte_swap(cx: &mut Cx, rd: Reg, bits: u32) {
    if cx.zbb() {
        cx.push(Inst::Unary {
            op: UnaryOp::Rev8,
            rd,
            rs1: rd,
        });
        if bits < 64 {
            cx.shift(ShiftOp::Srli, rd, rd, 64 - bits);
        }
        return;
    }
    // Byte by byte: t1 = byte i moved to position n-1-i, accumulated in t2.
    let n = bits / 8;
    let (byte, acc) = (T1, crate::regmap::T2);
    let ff = Imm12::new(0xff).expect("fits");
    for i in 0..n {
        let from = if i == 0 { rd } else { byte };
        if i > 0 {
            cx.shift(ShiftOp::Srli, byte, rd, 8 * i);
        }
        cx.push(Inst::AluImm {
            op: AluImmOp::Andi,
            rd: byte,
            rs1: from,
            imm: ff,
        });
        if n - 1 - i > 0 {
            cx.shift(ShiftOp::Slli, byte, byte, 8 * (n - 1 - i));
        }
        if i == 0 {
            cx.mv(acc, byte);
        } else {
            cx.push(Inst::alu(AluOp::Or, acc, acc, byte));
        }
    }
    cx.mv(rd, acc);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`FORMS`] is indexed by the operation's discriminant and a [`form`]
    /// gets its operation back from it: every operation, listed here by
    /// hand, must come back as itself and have its slots in the table.
    #[test]
    fn every_operation_round_trips_through_its_form_slot() {
        use BpfAlu::*;
        let ops = [
            Add, Sub, Mul, Div, Sdiv, Or, And, Lsh, Rsh, Neg, Mod, Smod, Xor, Mov, Movsx8, Movsx16,
            Movsx32, Arsh,
        ];
        for op in ops {
            assert_eq!(op_of(op as usize), op);
            for (is64, imm) in [(false, false), (false, true), (true, false), (true, true)] {
                let slot = form_slot(op, is64, imm);
                assert!(slot < FORMS.len(), "{op:?} {is64} {imm}");
                assert_eq!(slot >> 2, op as usize);
            }
        }
    }
}
