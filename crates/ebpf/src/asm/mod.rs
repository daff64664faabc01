//! Text assembler for the bpf_conformance / ubpf syntax (see [`mnemonic`]
//! for the full instruction syntax).
//!
//! ```
//! use rvbpf_ebpf::asm::assemble;
//! use rvbpf_ebpf::inst::{Inst, AluOp, Operand, Reg};
//! let p = assemble("mov %r0, 1\nexit").unwrap();
//! assert_eq!(p[0], Inst::Alu { is64: true, op: AluOp::Mov, dst: Reg::R0, src: Operand::Imm(1) });
//! assert_eq!(p[1], Inst::Exit);
//! ```
//!
//! Labels are `name:` (alone or before an instruction); jumps and calls take
//! `+N`/`-N` offsets or label names. As in the reference assembler, the name
//! `exit` refers to the first `exit` instruction unless a label of that name
//! is declared.

mod lex;
mod mnemonic;

use crate::inst::{encode_program, CallTarget, Inst, LddwKind};
use crate::object::{FuncInfo, Object, ProgKind, Program};
use std::collections::HashMap;

/// Why a line could not be assembled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AsmErrorKind {
    #[error("unknown mnemonic `{0}`")]
    UnknownMnemonic(String),
    #[error("`{mnemonic}` takes {expected} operand(s), found {found}")]
    OperandCount {
        mnemonic: String,
        expected: usize,
        found: usize,
    },
    #[error("invalid register `{0}` (expected %r0..%r10)")]
    BadRegister(String),
    #[error("invalid number `{0}`")]
    BadNumber(String),
    #[error("`{text}` does not fit in {bits} bits")]
    OutOfRange { text: String, bits: u8 },
    #[error("invalid memory operand `{0}` (expected [%rN], [%rN+off] or [%rN-off])")]
    BadMemoryOperand(String),
    #[error("empty operand")]
    EmptyOperand,
    #[error("invalid label name `{0}`")]
    BadLabel(String),
    #[error("invalid jump target `{0}`")]
    BadTarget(String),
    #[error("invalid call `call {0}` (expected N, %rN, helper N, local TARGET or runtime N)")]
    BadCall(String),
    #[error("invalid atomic operation `lock {0}`")]
    BadAtomic(String),
    #[error("label `{0}` is not defined")]
    UndefinedLabel(String),
    #[error("label `{name}` is already defined on line {first_line}")]
    DuplicateLabel { name: String, first_line: usize },
    #[error("jump to `{label}` needs offset {offset}, which does not fit the instruction")]
    TargetOutOfRange { label: String, offset: i64 },
    #[error("program has no instructions")]
    EmptyProgram,
}

/// An assembly error with its 1-based line number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct AsmError {
    pub line: usize,
    pub kind: AsmErrorKind,
}

/// A parsed instruction waiting for its label to be resolved.
struct Pending {
    pc: usize,
    line: usize,
    label: String,
}

/// The assembled program before object construction.
struct Assembled {
    insts: Vec<Inst>,
    /// Label name for each `call local` / `lddw func:` target pc.
    call_targets: Vec<(usize, Option<String>)>,
}

/// Assembles `text` into typed instructions, one entry per 8-byte slot
/// (a `lddw` is followed by [`Inst::LddwHigh`], exactly like
/// [`crate::inst::decode_program`]), so jump offsets index this vector.
pub fn assemble(text: &str) -> Result<Vec<Inst>, AsmError> {
    Ok(assemble_full(text)?.insts)
}

fn assemble_full(text: &str) -> Result<Assembled, AsmError> {
    let mut insts = Vec::new();
    let mut labels: HashMap<String, (usize, usize)> = HashMap::new();
    let mut first_exit = None;
    let mut pending = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let err = |kind| AsmError { line, kind };
        let parts = lex::split_line(raw).map_err(err)?;
        if let Some(name) = parts.label {
            if let Some(&(_, first_line)) = labels.get(name) {
                return Err(err(AsmErrorKind::DuplicateLabel {
                    name: name.to_string(),
                    first_line,
                }));
            }
            labels.insert(name.to_string(), (insts.len(), line));
        }
        let Some(m) = parts.mnemonic else { continue };
        let parsed = mnemonic::parse_insn(m, &parts.operands).map_err(err)?;
        if parsed.inst == Inst::Exit && first_exit.is_none() {
            first_exit = Some(insts.len());
        }
        if let Some(label) = parsed.label {
            pending.push(Pending {
                pc: insts.len(),
                line,
                label,
            });
        }
        insts.push(parsed.inst);
        if parsed.inst.slots() == 2 {
            insts.push(Inst::LddwHigh);
        }
    }
    let resolve = |name: &str| {
        labels
            .get(name)
            .map(|&(pc, _)| pc)
            .or(if name == "exit" { first_exit } else { None })
    };
    let mut call_targets = Vec::new();
    for p in pending {
        let err = |kind| AsmError { line: p.line, kind };
        let target =
            resolve(&p.label).ok_or_else(|| err(AsmErrorKind::UndefinedLabel(p.label.clone())))?;
        let offset = target as i64 - p.pc as i64 - 1;
        insts[p.pc] = set_offset(insts[p.pc], offset).ok_or_else(|| {
            err(AsmErrorKind::TargetOutOfRange {
                label: p.label.clone(),
                offset,
            })
        })?;
        if is_function_reference(&insts[p.pc]) {
            call_targets.push((target, Some(p.label)));
        }
    }
    Ok(Assembled {
        insts,
        call_targets,
    })
}

fn is_function_reference(inst: &Inst) -> bool {
    function_offset(inst).is_some()
}

/// The pc-relative offset of a `call local` or `lddw func:` instruction.
fn function_offset(inst: &Inst) -> Option<i32> {
    match *inst {
        Inst::Call(CallTarget::Local(off)) => Some(off),
        Inst::Lddw {
            kind: LddwKind::Func { offset },
            ..
        } => Some(offset),
        _ => None,
    }
}

/// Stores a resolved pc-relative offset into the instruction's target field;
/// `None` if it does not fit that field.
fn set_offset(inst: Inst, offset: i64) -> Option<Inst> {
    let off32 = i32::try_from(offset).ok();
    Some(match inst {
        Inst::Ja { long: false, .. } => Inst::Ja {
            off: i16::try_from(offset).ok()? as i32,
            long: false,
        },
        Inst::Ja { long: true, .. } => Inst::Ja {
            off: off32?,
            long: true,
        },
        Inst::Jump {
            is32,
            cond,
            dst,
            src,
            ..
        } => Inst::Jump {
            is32,
            cond,
            dst,
            src,
            off: i16::try_from(offset).ok()?,
        },
        Inst::Call(CallTarget::Local(_)) => Inst::Call(CallTarget::Local(off32?)),
        Inst::Lddw {
            dst,
            kind: LddwKind::Func { .. },
        } => Inst::Lddw {
            dst,
            kind: LddwKind::Func { offset: off32? },
        },
        other => other,
    })
}

/// Assembles `text` into an [`Object`] named `name` holding one program
/// `"main"` (kind [`ProgKind::Other`]). Its `functions` list the entry at pc 0
/// plus one function per `call local` (or `lddw func:`) target, named after the
/// target's label (`sub_<pc>` for numeric targets), sorted by start pc.
pub fn assemble_object(name: &str, text: &str) -> Result<Object, AsmError> {
    let Assembled {
        insts,
        call_targets,
    } = assemble_full(text)?;
    if insts.is_empty() {
        return Err(AsmError {
            line: text.lines().count().max(1),
            kind: AsmErrorKind::EmptyProgram,
        });
    }
    Ok(build_object(name, &insts, call_targets))
}

/// Wraps already-typed instructions (slot form, e.g. from
/// [`crate::inst::decode_program`]) into an [`Object`] like
/// [`assemble_object`] does; functions found through `call local` /
/// `lddw func` targets are named `sub_<pc>`.
pub fn object_from_insts(name: &str, insts: &[Inst]) -> Object {
    build_object(name, insts, Vec::new())
}

fn build_object(
    name: &str,
    insts: &[Inst],
    mut call_targets: Vec<(usize, Option<String>)>,
) -> Object {
    // Numeric `call local +N` targets are functions too.
    for (pc, inst) in insts.iter().enumerate() {
        if let Some(off) = function_offset(inst) {
            let target = pc as i64 + 1 + off as i64;
            if target >= 0 && !call_targets.iter().any(|(t, _)| *t as i64 == target) {
                call_targets.push((target as usize, None));
            }
        }
    }
    let mut functions = vec![FuncInfo {
        name: "main".to_string(),
        start: 0,
        arg_count: None,
        returns_int: None,
    }];
    for (start, label) in call_targets {
        // Out-of-range targets are left for the verifier to report.
        if start == 0 || start >= insts.len() || functions.iter().any(|f| f.start == start) {
            continue;
        }
        functions.push(FuncInfo {
            name: label.unwrap_or_else(|| format!("sub_{start}")),
            start,
            arg_count: None,
            returns_int: None,
        });
    }
    functions.sort_by_key(|f| f.start);
    let program = Program {
        name: "main".to_string(),
        section: String::new(),
        kind: ProgKind::Other,
        insns: encode_program(insts),
        functions,
    };
    Object {
        name: name.to_string(),
        programs: vec![program],
        maps: vec![],
        kfuncs: vec![],
        kfunc_protos: vec![],
    }
}
