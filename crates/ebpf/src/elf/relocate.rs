//! Per-section relocation of executable sections: turns each `lddw` and
//! `call` relocation into the conventions of [`crate::object`] and records
//! which instructions reference functions, for the linker.
//!
//! | relocation            | instruction | symbol                     | result                                   |
//! |-----------------------|-------------|----------------------------|------------------------------------------|
//! | `R_BPF_64_64` (1)     | `lddw`      | map in `.maps`             | `src = MAP_FD`, `imm = map index`        |
//! | `R_BPF_64_64` (1)     | `lddw`      | global var / data section  | `src = MAP_VALUE`, imm = map, imm2 = off |
//! | `R_BPF_64_64` (1)     | `lddw`      | function (callback)        | `src = FUNC`, edge to the function       |
//! | `R_BPF_64_32` (10)    | `call`      | undefined (`__ksym`)       | `src = CALL_KFUNC`, `imm = kfunc index`  |
//! | `R_BPF_64_32` (10)    | `call`      | function                   | edge to the function                     |
//!
//! Edges are fixed up by `link.rs` once the final layout is known. Call
//! targets: a relocated call goes to `sym.value / 8 + imm + 1` (clang puts
//! `-1` for global functions and the callee's pc for `.text`-section
//! symbols); an unrelocated `src = 1` call goes to `pc + imm + 1` in its own
//! section. A relocated function `lddw` points at byte `sym.value + imm`.

use std::collections::BTreeMap;

use crate::insn::{insns_from_bytes, op, pseudo, Insn, INSN_SIZE};

use super::error::{LoadError, LoadErrorKind};
use super::maps::{MapRef, MapTable};
use super::sections::{rtype, ElfView, SymKind, Symbol};

/// A function start referenced from code: section index and pc within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct FuncRef {
    pub section: usize,
    pub pc: usize,
}

/// An executable section with its relocations applied.
pub(crate) struct CodeSection {
    pub insns: Vec<Insn>,
    /// Instruction index → function it calls or takes the address of.
    pub edges: BTreeMap<usize, FuncRef>,
}

const CALL: u8 = op::JMP | op::CALL;

/// Relocates executable section `index`; kfunc names are appended to
/// `kfuncs` (deduplicated) as they are met.
pub(crate) fn relocate_section(
    view: &ElfView<'_>,
    index: usize,
    maps: &MapTable,
    kfuncs: &mut Vec<String>,
) -> Result<CodeSection, LoadError> {
    let err = |kind| view.error(index, kind);
    let bytes = view.section_data(index)?;
    let mut insns = insns_from_bytes(bytes).map_err(|_| {
        err(LoadErrorKind::CodeSizeNotMultipleOf8 {
            size: bytes.len() as u64,
        })
    })?;
    let mut edges = BTreeMap::new();
    for r in view.relocations_for(index)? {
        if r.r_type == rtype::NONE {
            continue;
        }
        let pc = (r.offset / INSN_SIZE as u64) as usize;
        if !r.offset.is_multiple_of(INSN_SIZE as u64) || pc >= insns.len() {
            return Err(err(LoadErrorKind::RelocOutOfBounds { offset: r.offset }));
        }
        let sym = &view.symbols[r.sym];
        let insn = insns[pc];
        match r.r_type {
            rtype::R64_64 if insn.is_lddw() => {
                if pc + 1 >= insns.len() {
                    return Err(err(LoadErrorKind::TruncatedLddw { pc }));
                }
                relocate_lddw(view, maps, &mut insns, &mut edges, pc, sym).map_err(err)?;
            }
            rtype::R64_32 if insn.opc == CALL => {
                if sym.is_undefined {
                    insns[pc].src = pseudo::CALL_KFUNC;
                    insns[pc].imm = kfunc_index(kfuncs, &sym.name);
                } else {
                    let target =
                        function_target(view, sym, i64::from(insn.imm) + 1, pc).map_err(err)?;
                    edges.insert(pc, target);
                }
            }
            rtype::R64_64 | rtype::R64_32 => {
                return Err(err(LoadErrorKind::RelocOnWrongInsn { pc, opc: insn.opc }));
            }
            r_type => {
                return Err(err(LoadErrorKind::UnknownRelocType {
                    offset: r.offset,
                    r_type,
                }))
            }
        }
    }
    // Calls inside one section arrive already resolved, without relocation.
    let mut pc = 0;
    while pc < insns.len() {
        let insn = insns[pc];
        if insn.opc == CALL && insn.src == pseudo::CALL_LOCAL && !edges.contains_key(&pc) {
            let target = pc as i64 + i64::from(insn.imm) + 1;
            if target < 0 || target >= insns.len() as i64 {
                return Err(err(LoadErrorKind::BadCallTarget { pc, target }));
            }
            edges.insert(
                pc,
                FuncRef {
                    section: index,
                    pc: target as usize,
                },
            );
        }
        pc += if insn.is_lddw() { 2 } else { 1 };
    }
    Ok(CodeSection { insns, edges })
}

fn relocate_lddw(
    view: &ElfView<'_>,
    maps: &MapTable,
    insns: &mut [Insn],
    edges: &mut BTreeMap<usize, FuncRef>,
    pc: usize,
    sym: &Symbol,
) -> Result<(), LoadErrorKind> {
    let bad = |why| LoadErrorKind::BadRelocTarget {
        pc,
        symbol: sym.name.clone(),
        why,
    };
    match maps.resolve(sym) {
        Some(MapRef::Map(map)) => {
            insns[pc].src = pseudo::MAP_FD;
            insns[pc].imm = map_imm(map, pc)?;
            insns[pc + 1].imm = 0;
        }
        Some(MapRef::Value { map, offset }) => {
            // The instruction's imm is the REL addend (offset within the symbol).
            let total = i64::try_from(offset)
                .ok()
                .and_then(|o| o.checked_add(i64::from(insns[pc].imm)))
                .and_then(|t| i32::try_from(t).ok())
                .ok_or(LoadErrorKind::ImmOverflow { pc })?;
            insns[pc].src = pseudo::MAP_VALUE;
            insns[pc].imm = map_imm(map, pc)?;
            insns[pc + 1].imm = total;
        }
        None if is_code_symbol(view, sym) => {
            // A function address (e.g. a bpf_loop callback): byte offset.
            let byte = i64::from(insns[pc].imm);
            if byte % INSN_SIZE as i64 != 0 {
                return Err(bad("function address is not instruction-aligned"));
            }
            let target = function_target(view, sym, byte / INSN_SIZE as i64, pc)?;
            insns[pc].src = pseudo::FUNC;
            insns[pc + 1].imm = 0;
            edges.insert(pc, target);
        }
        None if sym.is_undefined => return Err(bad("extern variables are not supported")),
        None if sym.section == maps_section(view) => {
            return Err(bad("not the start of a map in .maps"))
        }
        None if sym.section.is_some_and(|s| view.sections[s].name == "maps") => {
            return Err(bad(
                "legacy `maps` section definitions are not supported; use BTF `.maps`",
            ))
        }
        None => return Err(bad("not a map, global variable or function")),
    }
    Ok(())
}

fn maps_section(view: &ElfView<'_>) -> Option<usize> {
    view.section_by_name(".maps").map(|s| s.index)
}

fn is_code_symbol(view: &ElfView<'_>, sym: &Symbol) -> bool {
    matches!(sym.kind, SymKind::Func | SymKind::Section | SymKind::NoType)
        && sym.section.is_some_and(|s| view.sections[s].is_exec())
}

/// The function referenced by `sym` plus `delta` instructions.
fn function_target(
    view: &ElfView<'_>,
    sym: &Symbol,
    delta: i64,
    pc: usize,
) -> Result<FuncRef, LoadErrorKind> {
    let bad = |why| LoadErrorKind::BadRelocTarget {
        pc,
        symbol: sym.name.clone(),
        why,
    };
    let section = sym
        .section
        .filter(|&s| view.sections[s].is_exec())
        .ok_or_else(|| bad("not in an executable section"))?;
    if !sym.value.is_multiple_of(INSN_SIZE as u64) {
        return Err(bad("symbol is not instruction-aligned"));
    }
    let target = i64::try_from(sym.value / INSN_SIZE as u64)
        .ok()
        .and_then(|base| base.checked_add(delta))
        .ok_or(LoadErrorKind::BadCallTarget {
            pc,
            target: i64::MAX,
        })?;
    let target =
        usize::try_from(target).map_err(|_| LoadErrorKind::BadCallTarget { pc, target })?;
    Ok(FuncRef {
        section,
        pc: target,
    })
}

fn map_imm(map: usize, pc: usize) -> Result<i32, LoadErrorKind> {
    i32::try_from(map).map_err(|_| LoadErrorKind::ImmOverflow { pc })
}

fn kfunc_index(kfuncs: &mut Vec<String>, name: &str) -> i32 {
    let idx = kfuncs.iter().position(|k| k == name).unwrap_or_else(|| {
        kfuncs.push(name.to_string());
        kfuncs.len() - 1
    });
    // At most one kfunc per relocation, and relocations are bounded by the
    // file size / 16, so this always fits.
    i32::try_from(idx).unwrap_or(i32::MAX)
}
