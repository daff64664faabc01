//! Mnemonic table: one source instruction (mnemonic + operands) to an
//! [`Inst`], with an optional label still to be resolved.
//!
//! Syntax (bpf_conformance / ubpf):
//! ```text
//! add %r1, 5        add32 %r1, %r2    (also add64)   neg %r1   neg32 %r1
//! sdiv/smod[32]     movsx{8,16}{32,64} %rD, %rS      movsx3264 %rD, %rS
//! le16|le32|le64    be16|be32|be64    bswap16|32|64 (alias swap16|32|64)
//! ldx{b,h,w,dw} %rD, [%rS+off]        ldxs{b,h,w}  (sign-extending)
//! st{b,h,w,dw} [%rD+off], imm         stx{b,h,w,dw} [%rD+off], %rS
//! lock [fetch] {add,or,and,xor}[32] [%rD+off], %rS
//! lock {xchg,cmpxchg}[32] [%rD+off], %rS
//! lddw %rD, imm64 | map:N | map_value:N+OFF | func:TARGET
//! ldabs{b,h,w} imm  ldind{b,h,w} %rS, imm
//! ja TARGET  ja32 TARGET (alias gotol)   jeq[32] %rD, %rS|imm, TARGET ...
//! call N   call helper N   call %rN   call local TARGET   call runtime N (kfunc)
//! exit
//! TARGET = +N | -N | N | label
//! ```

use super::lex::{
    is_label_name, is_reg, parse_imm32, parse_imm64, parse_mem, parse_off16, parse_reg,
};
use super::AsmErrorKind;
use crate::inst::{
    AluOp, AtomicOp, CallTarget, Cond, EndianOp, Inst, LddwKind, Operand, Reg, Size,
};

/// An instruction whose jump/call target may still name a label.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub inst: Inst,
    /// Label to resolve into the instruction's pc-relative field.
    pub label: Option<String>,
}

impl Parsed {
    fn plain(inst: Inst) -> Parsed {
        Parsed { inst, label: None }
    }
}

/// A jump or call target: a numeric pc-relative offset or a label.
enum Target {
    Offset(i32),
    Label(String),
}

fn target(s: &str, long: bool) -> Result<Target, AsmErrorKind> {
    if s.starts_with(['+', '-']) || s.starts_with(|c: char| c.is_ascii_digit()) {
        let off = if long {
            parse_imm32(s)?
        } else {
            parse_off16(s)? as i32
        };
        Ok(Target::Offset(off))
    } else if is_label_name(s) {
        Ok(Target::Label(s.to_string()))
    } else {
        Err(AsmErrorKind::BadTarget(s.to_string()))
    }
}

/// Builds `Parsed` from a target and an instruction constructor taking the
/// numeric offset (0 while a label is pending).
fn with_target(t: Target, make: impl FnOnce(i32) -> Inst) -> Parsed {
    match t {
        Target::Offset(o) => Parsed::plain(make(o)),
        Target::Label(l) => Parsed {
            inst: make(0),
            label: Some(l),
        },
    }
}

fn expect_count(mnemonic: &str, ops: &[&str], n: usize) -> Result<(), AsmErrorKind> {
    if ops.len() == n {
        Ok(())
    } else {
        Err(AsmErrorKind::OperandCount {
            mnemonic: mnemonic.to_string(),
            expected: n,
            found: ops.len(),
        })
    }
}

fn operand(s: &str) -> Result<Operand, AsmErrorKind> {
    if is_reg(s) {
        Ok(Operand::Reg(parse_reg(s)?))
    } else {
        Ok(Operand::Imm(parse_imm32(s)?))
    }
}

fn size_suffix(s: &str) -> Option<Size> {
    match s {
        "b" => Some(Size::B),
        "h" => Some(Size::H),
        "w" => Some(Size::W),
        "dw" => Some(Size::DW),
        _ => None,
    }
}

fn alu_op(name: &str) -> Option<AluOp> {
    Some(match name {
        "add" => AluOp::Add,
        "sub" => AluOp::Sub,
        "mul" => AluOp::Mul,
        "div" => AluOp::Div,
        "sdiv" => AluOp::Sdiv,
        "or" => AluOp::Or,
        "and" => AluOp::And,
        "lsh" => AluOp::Lsh,
        "rsh" => AluOp::Rsh,
        "neg" => AluOp::Neg,
        "mod" => AluOp::Mod,
        "smod" => AluOp::Smod,
        "xor" => AluOp::Xor,
        "mov" => AluOp::Mov,
        "arsh" => AluOp::Arsh,
        _ => return None,
    })
}

pub(crate) fn cond(name: &str) -> Option<Cond> {
    Some(match name {
        "jeq" => Cond::Eq,
        "jgt" => Cond::Gt,
        "jge" => Cond::Ge,
        "jset" => Cond::Set,
        "jne" => Cond::Ne,
        "jsgt" => Cond::Sgt,
        "jsge" => Cond::Sge,
        "jlt" => Cond::Lt,
        "jle" => Cond::Le,
        "jslt" => Cond::Slt,
        "jsle" => Cond::Sle,
        _ => return None,
    })
}

/// Parses one instruction.
pub(crate) fn parse_insn(m: &str, ops: &[&str]) -> Result<Parsed, AsmErrorKind> {
    let unknown = || AsmErrorKind::UnknownMnemonic(m.to_string());
    match m {
        "exit" => {
            expect_count(m, ops, 0)?;
            return Ok(Parsed::plain(Inst::Exit));
        }
        "ja" | "ja32" | "gotol" => {
            expect_count(m, ops, 1)?;
            let long = m != "ja";
            return Ok(with_target(target(ops[0], long)?, |off| Inst::Ja {
                off,
                long,
            }));
        }
        "call" => {
            expect_count(m, ops, 1)?;
            return parse_call(ops[0]);
        }
        "lddw" => {
            expect_count(m, ops, 2)?;
            return parse_lddw(parse_reg(ops[0])?, ops[1]);
        }
        "lock" => return parse_lock(ops),
        _ => {}
    }
    if let Some((op, bits)) = endian(m) {
        expect_count(m, ops, 1)?;
        let dst = parse_reg(ops[0])?;
        return Ok(Parsed::plain(Inst::Endian { op, dst, bits }));
    }
    if let Some(rest) = m.strip_prefix("ldabs") {
        let size = size_suffix(rest)
            .filter(|s| *s != Size::DW)
            .ok_or_else(unknown)?;
        expect_count(m, ops, 1)?;
        let imm = parse_imm32(ops[0])?;
        return Ok(Parsed::plain(Inst::LoadPacket {
            size,
            index: None,
            imm,
        }));
    }
    if let Some(rest) = m.strip_prefix("ldind") {
        let size = size_suffix(rest)
            .filter(|s| *s != Size::DW)
            .ok_or_else(unknown)?;
        expect_count(m, ops, 2)?;
        let index = Some(parse_reg(ops[0])?);
        let imm = parse_imm32(ops[1])?;
        return Ok(Parsed::plain(Inst::LoadPacket { size, index, imm }));
    }
    if let Some(rest) = m.strip_prefix("ldx") {
        let (signed, rest) = match rest.strip_prefix('s') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let size = size_suffix(rest).ok_or_else(unknown)?;
        if signed && size == Size::DW {
            return Err(unknown());
        }
        expect_count(m, ops, 2)?;
        let dst = parse_reg(ops[0])?;
        let (src, off) = parse_mem(ops[1])?;
        return Ok(Parsed::plain(Inst::Load {
            size,
            signed,
            dst,
            src,
            off,
        }));
    }
    if let Some(rest) = m.strip_prefix("stx") {
        let size = size_suffix(rest).ok_or_else(unknown)?;
        expect_count(m, ops, 2)?;
        let (dst, off) = parse_mem(ops[0])?;
        let src = Operand::Reg(parse_reg(ops[1])?);
        return Ok(Parsed::plain(Inst::Store {
            size,
            dst,
            off,
            src,
        }));
    }
    if let Some(rest) = m.strip_prefix("st") {
        if let Some(size) = size_suffix(rest) {
            expect_count(m, ops, 2)?;
            let (dst, off) = parse_mem(ops[0])?;
            let src = Operand::Imm(parse_imm32(ops[1])?);
            return Ok(Parsed::plain(Inst::Store {
                size,
                dst,
                off,
                src,
            }));
        }
    }
    let (base, is32) = match m.strip_suffix("32") {
        Some(b) => (b, true),
        None => (m.strip_suffix("64").unwrap_or(m), false),
    };
    if let Some(c) = cond(base) {
        expect_count(m, ops, 3)?;
        let dst = parse_reg(ops[0])?;
        let src = operand(ops[1])?;
        return Ok(with_target(target(ops[2], false)?, |off| Inst::Jump {
            is32,
            cond: c,
            dst,
            src,
            // `target(.., false)` only yields 16-bit offsets.
            off: off as i16,
        }));
    }
    if let Some(width) = base.strip_prefix("movsx") {
        let op = match width {
            "8" => AluOp::Movsx8,
            "16" => AluOp::Movsx16,
            "32" if !is32 => AluOp::Movsx32,
            _ => return Err(unknown()),
        };
        // `movsx8` alone has no class suffix; require one (`movsx832`/`movsx864`).
        if base.len() == m.len() {
            return Err(unknown());
        }
        expect_count(m, ops, 2)?;
        let dst = parse_reg(ops[0])?;
        let src = Operand::Reg(parse_reg(ops[1])?);
        return Ok(Parsed::plain(Inst::Alu {
            is64: !is32,
            op,
            dst,
            src,
        }));
    }
    let op = alu_op(base).ok_or_else(unknown)?;
    if op == AluOp::Neg {
        expect_count(m, ops, 1)?;
        let dst = parse_reg(ops[0])?;
        return Ok(Parsed::plain(Inst::Alu {
            is64: !is32,
            op,
            dst,
            src: Operand::Imm(0),
        }));
    }
    expect_count(m, ops, 2)?;
    let dst = parse_reg(ops[0])?;
    let src = operand(ops[1])?;
    Ok(Parsed::plain(Inst::Alu {
        is64: !is32,
        op,
        dst,
        src,
    }))
}

fn endian(m: &str) -> Option<(EndianOp, u8)> {
    let (op, bits) = if let Some(b) = m.strip_prefix("le") {
        (EndianOp::Le, b)
    } else if let Some(b) = m.strip_prefix("be") {
        (EndianOp::Be, b)
    } else if let Some(b) = m.strip_prefix("bswap").or_else(|| m.strip_prefix("swap")) {
        (EndianOp::Swap, b)
    } else {
        return None;
    };
    match bits {
        "16" => Some((op, 16)),
        "32" => Some((op, 32)),
        "64" => Some((op, 64)),
        _ => None,
    }
}

fn parse_call(operand: &str) -> Result<Parsed, AsmErrorKind> {
    let words: Vec<&str> = operand.split_whitespace().collect();
    let (mode, arg) = match words[..] {
        [arg] => ("helper", arg),
        [mode, arg] => (mode, arg),
        _ => return Err(AsmErrorKind::BadCall(operand.to_string())),
    };
    match mode {
        "helper" if is_reg(arg) => Ok(Parsed::plain(Inst::Callx {
            reg: parse_reg(arg)?,
        })),
        "helper" => Ok(Parsed::plain(Inst::Call(CallTarget::Helper(parse_imm32(
            arg,
        )?)))),
        "local" => Ok(with_target(target(arg, true)?, |off| {
            Inst::Call(CallTarget::Local(off))
        })),
        "runtime" | "kfunc" => Ok(Parsed::plain(Inst::Call(CallTarget::Kfunc(
            parse_imm32(arg)? as u32,
        )))),
        _ => Err(AsmErrorKind::BadCall(operand.to_string())),
    }
}

fn parse_lddw(dst: Reg, value: &str) -> Result<Parsed, AsmErrorKind> {
    let index = |s: &str| -> Result<u32, AsmErrorKind> { Ok(parse_imm32(s)? as u32) };
    let kind = if let Some(m) = value.strip_prefix("map:") {
        LddwKind::Map { map: index(m)? }
    } else if let Some(mv) = value.strip_prefix("map_value:") {
        let (m, off) = mv
            .split_once('+')
            .ok_or_else(|| AsmErrorKind::BadNumber(value.to_string()))?;
        LddwKind::MapValue {
            map: index(m)?,
            offset: index(off)?,
        }
    } else if let Some(t) = value.strip_prefix("func:") {
        return Ok(with_target(target(t, true)?, |offset| Inst::Lddw {
            dst,
            kind: LddwKind::Func { offset },
        }));
    } else {
        LddwKind::Imm(parse_imm64(value)?)
    };
    Ok(Parsed::plain(Inst::Lddw { dst, kind }))
}

/// `lock [fetch] OP[32] [%rD+off], %rS` (also `fetch_OP`).
fn parse_lock(ops: &[&str]) -> Result<Parsed, AsmErrorKind> {
    let bad_count = || AsmErrorKind::OperandCount {
        mnemonic: "lock".to_string(),
        expected: 2,
        found: ops.len(),
    };
    if ops.len() != 2 {
        return Err(bad_count());
    }
    let head = ops[0];
    let bracket = head.find('[').ok_or_else(bad_count)?;
    let words: Vec<&str> = head[..bracket].split_whitespace().collect();
    let (fetch, name) = match words[..] {
        ["fetch", name] => (true, name),
        [name] => match name.strip_prefix("fetch_") {
            Some(n) => (true, n),
            None => (false, name),
        },
        _ => return Err(AsmErrorKind::BadAtomic(head.to_string())),
    };
    let (base, size) = match name.strip_suffix("32") {
        Some(b) => (b, Size::W),
        None => (name.strip_suffix("64").unwrap_or(name), Size::DW),
    };
    let op = match base {
        "add" => AtomicOp::Add,
        "or" => AtomicOp::Or,
        "and" => AtomicOp::And,
        "xor" => AtomicOp::Xor,
        "xchg" => AtomicOp::Xchg,
        "cmpxchg" => AtomicOp::Cmpxchg,
        _ => return Err(AsmErrorKind::BadAtomic(head.to_string())),
    };
    // xchg and cmpxchg always return the old value.
    let fetch = fetch || matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg);
    let (dst, off) = parse_mem(&head[bracket..])?;
    let src = parse_reg(ops[1])?;
    Ok(Parsed::plain(Inst::Atomic {
        size,
        op,
        fetch,
        dst,
        src,
        off,
    }))
}
