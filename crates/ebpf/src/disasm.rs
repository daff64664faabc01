//! Disassembler: typed [`Inst`]s back to the assembler's text syntax, and an
//! annotated listing (pc numbers, resolved targets, map/kfunc/function names)
//! for `rvbpf disasm`.
//!
//! [`disassemble`] is the exact inverse of [`crate::asm::assemble`]:
//! `assemble(&disassemble(p)) == p` for every decodable program `p`. Targets
//! are printed as numeric offsets (`+N`/`-N`) so the text stands alone.

use crate::inst::{
    decode_program, AluOp, AtomicOp, CallTarget, Cond, DecodeError, EndianOp, Inst, LddwKind,
    Operand, Reg, Size,
};
use crate::object::{Object, Program};
use std::fmt::Write as _;

fn reg(r: Reg) -> String {
    format!("%r{}", r.num())
}

fn operand(o: Operand) -> String {
    match o {
        Operand::Reg(r) => reg(r),
        Operand::Imm(v) => v.to_string(),
    }
}

fn mem(base: Reg, off: i16) -> String {
    match off {
        0 => format!("[{}]", reg(base)),
        o if o < 0 => format!("[{}{}]", reg(base), o),
        o => format!("[{}+{}]", reg(base), o),
    }
}

/// A `u32` index in a form `parse_imm32` reads back (decimal while it fits `i32`).
fn u32_lit(v: u32) -> String {
    if v <= i32::MAX as u32 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

fn rel(off: i64) -> String {
    if off < 0 {
        off.to_string()
    } else {
        format!("+{off}")
    }
}

fn size_suffix(s: Size) -> &'static str {
    match s {
        Size::B => "b",
        Size::H => "h",
        Size::W => "w",
        Size::DW => "dw",
    }
}

/// Mnemonic stem of a condition (`jeq`, `jsgt`, ...).
pub fn cond_name(c: Cond) -> &'static str {
    match c {
        Cond::Eq => "jeq",
        Cond::Gt => "jgt",
        Cond::Ge => "jge",
        Cond::Set => "jset",
        Cond::Ne => "jne",
        Cond::Sgt => "jsgt",
        Cond::Sge => "jsge",
        Cond::Lt => "jlt",
        Cond::Le => "jle",
        Cond::Slt => "jslt",
        Cond::Sle => "jsle",
    }
}

fn alu_name(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Div => "div",
        AluOp::Sdiv => "sdiv",
        AluOp::Or => "or",
        AluOp::And => "and",
        AluOp::Lsh => "lsh",
        AluOp::Rsh => "rsh",
        AluOp::Neg => "neg",
        AluOp::Mod => "mod",
        AluOp::Smod => "smod",
        AluOp::Xor => "xor",
        AluOp::Mov => "mov",
        AluOp::Movsx8 => "movsx8",
        AluOp::Movsx16 => "movsx16",
        AluOp::Movsx32 => "movsx32",
        AluOp::Arsh => "arsh",
    }
}

fn atomic_name(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "add",
        AtomicOp::Or => "or",
        AtomicOp::And => "and",
        AtomicOp::Xor => "xor",
        AtomicOp::Xchg => "xchg",
        AtomicOp::Cmpxchg => "cmpxchg",
    }
}

/// Formats one instruction in assembler syntax. `LddwHigh` (the second
/// `lddw` slot, which has no text of its own) formats as an empty string.
pub fn format_inst(inst: &Inst) -> String {
    match *inst {
        Inst::Alu { is64, op, dst, src } => {
            let name = alu_name(op);
            let is_movsx = matches!(op, AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32);
            // Plain 64-bit ALU has no suffix; movsx always names its class.
            let suffix = match (is64, is_movsx) {
                (false, _) => "32",
                (true, true) => "64",
                (true, false) => "",
            };
            if op == AluOp::Neg {
                format!("{name}{suffix} {}", reg(dst))
            } else {
                format!("{name}{suffix} {}, {}", reg(dst), operand(src))
            }
        }
        Inst::Endian { op, dst, bits } => {
            let name = match op {
                EndianOp::Le => "le",
                EndianOp::Be => "be",
                EndianOp::Swap => "bswap",
            };
            format!("{name}{bits} {}", reg(dst))
        }
        Inst::Lddw { dst, kind } => {
            let value = match kind {
                LddwKind::Imm(v) => format!("{v:#x}"),
                LddwKind::Map { map } => format!("map:{}", u32_lit(map)),
                LddwKind::MapValue { map, offset } => {
                    format!("map_value:{}+{}", u32_lit(map), u32_lit(offset))
                }
                LddwKind::Func { offset } => format!("func:{}", rel(offset as i64)),
            };
            format!("lddw {}, {value}", reg(dst))
        }
        Inst::LddwHigh => String::new(),
        Inst::LoadPacket { size, index, imm } => match index {
            None => format!("ldabs{} {imm}", size_suffix(size)),
            Some(r) => format!("ldind{} {}, {imm}", size_suffix(size), reg(r)),
        },
        Inst::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => {
            let s = if signed { "s" } else { "" };
            format!(
                "ldx{s}{} {}, {}",
                size_suffix(size),
                reg(dst),
                mem(src, off)
            )
        }
        Inst::Store {
            size,
            dst,
            off,
            src,
        } => match src {
            Operand::Reg(r) => format!("stx{} {}, {}", size_suffix(size), mem(dst, off), reg(r)),
            Operand::Imm(v) => format!("st{} {}, {v}", size_suffix(size), mem(dst, off)),
        },
        Inst::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => {
            // xchg/cmpxchg always fetch; the keyword is only written for the others.
            let f = if fetch && !matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) {
                "fetch "
            } else {
                ""
            };
            let w = if size == Size::W { "32" } else { "" };
            format!(
                "lock {f}{}{w} {}, {}",
                atomic_name(op),
                mem(dst, off),
                reg(src)
            )
        }
        Inst::Ja { off, long } => {
            let name = if long { "ja32" } else { "ja" };
            format!("{name} {}", rel(off as i64))
        }
        Inst::Jump {
            is32,
            cond,
            dst,
            src,
            off,
        } => {
            let w = if is32 { "32" } else { "" };
            format!(
                "{}{w} {}, {}, {}",
                cond_name(cond),
                reg(dst),
                operand(src),
                rel(off as i64)
            )
        }
        Inst::Call(CallTarget::Helper(n)) => format!("call {n}"),
        Inst::Call(CallTarget::Local(off)) => format!("call local {}", rel(off as i64)),
        Inst::Call(CallTarget::Kfunc(k)) => format!("call runtime {}", u32_lit(k)),
        Inst::Callx { reg: r } => format!("call {}", reg(r)),
        Inst::Exit => "exit".to_string(),
    }
}

/// Disassembles a program (one entry per slot, as produced by
/// [`crate::asm::assemble`] or [`decode_program`]) into assembler text, one
/// instruction per line.
pub fn disassemble(insts: &[Inst]) -> String {
    let mut out = String::new();
    for inst in insts.iter().filter(|i| **i != Inst::LddwHigh) {
        out.push_str(&format_inst(inst));
        out.push('\n');
    }
    out
}

/// The pc a jump/call/func-address instruction at `pc` refers to.
fn target_pc(pc: usize, inst: &Inst) -> Option<i64> {
    let off = match *inst {
        Inst::Ja { off, .. } => off as i64,
        Inst::Jump { off, .. } => off as i64,
        Inst::Call(CallTarget::Local(off)) => off as i64,
        Inst::Lddw {
            kind: LddwKind::Func { offset },
            ..
        } => offset as i64,
        _ => return None,
    };
    Some(pc as i64 + 1 + off)
}

/// An annotated listing of `program`: function headers, `pc: insn` lines,
/// and `# comments` naming jump targets, called functions and, when
/// `object` is given, maps and kfuncs. Fails if the program does not decode.
pub fn listing(program: &Program, object: Option<&Object>) -> Result<String, DecodeError> {
    let insts = decode_program(&program.insns)?;
    let func_name = |pc: i64| {
        program
            .functions
            .iter()
            .find(|f| f.start as i64 == pc)
            .map(|f| f.name.as_str())
    };
    let mut out = String::new();
    for (pc, inst) in insts.iter().enumerate() {
        if *inst == Inst::LddwHigh {
            continue;
        }
        if let Some(name) = func_name(pc as i64) {
            let _ = writeln!(out, "{name}:");
        }
        let text = format_inst(inst);
        let mut notes = Vec::new();
        if let Some(t) = target_pc(pc, inst) {
            match (inst, func_name(t)) {
                (Inst::Call(_) | Inst::Lddw { .. }, Some(name)) => {
                    notes.push(format!("{name} (pc {t})"))
                }
                _ => notes.push(format!("-> pc {t}")),
            }
        }
        if let Some(obj) = object {
            match *inst {
                Inst::Lddw {
                    kind: LddwKind::Map { map } | LddwKind::MapValue { map, .. },
                    ..
                } => {
                    if let Some(m) = obj.maps.get(map as usize) {
                        notes.push(format!("map {}", m.name));
                    }
                }
                Inst::Call(CallTarget::Kfunc(k)) => {
                    if let Some(name) = obj.kfuncs.get(k as usize) {
                        notes.push(format!("kfunc {name}"));
                    }
                }
                _ => {}
            }
        }
        if notes.is_empty() {
            let _ = writeln!(out, "{pc:>5}: {text}");
        } else {
            let _ = writeln!(out, "{pc:>5}: {text:<36} # {}", notes.join(", "));
        }
    }
    Ok(out)
}
