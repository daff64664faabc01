//! Program discovery and libbpf-style static linking.
//!
//! Every global function in an executable section other than `.text` is a
//! program. Every function in `.text` (static or global) is a subprogram.
//! A program is linked by appending, after its own instructions, every
//! `.text` subprogram it reaches (transitively), in `.text` order, and then
//! rewriting each call / function-address immediate to
//! `callee_pc - (pc + 1)` in the linked layout:
//!
//! ```text
//!   section `tc`          .text                     linked `tc_first`
//!   +-----------+        +--------------+          +----------------+ 0
//!   | tc_first  |--call->| global_mid   |          | tc_first       |
//!   +-----------+        | static_leaf  |   ==>    | global_mid     | 8
//!   | tc_second |        | static_twice |          | static_leaf    | 13
//!   +-----------+        +--------------+          | static_twice   | 17
//!                                                  +----------------+
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::btf::Btf;
use crate::insn::INSN_SIZE;
use crate::object::{FuncInfo, ProgKind, Program};

use super::error::{LoadError, LoadErrorKind};
use super::relocate::{CodeSection, FuncRef};
use super::sections::{ElfView, SymKind};

/// A function symbol with its extent in instruction indices.
#[derive(Clone, Debug)]
struct Function {
    name: String,
    section: usize,
    start: usize,
    end: usize,
    is_global: bool,
}

/// Builds every program of the object, in section order then offset order.
pub(crate) fn link_programs(
    view: &ElfView<'_>,
    code: &BTreeMap<usize, CodeSection>,
    btf: Option<&Btf>,
) -> Result<Vec<Program>, LoadError> {
    let functions = collect_functions(view, code)?;
    let text = view.section_by_name(".text").map(|s| s.index);
    let subprogs: BTreeMap<usize, &Function> = functions
        .iter()
        .filter(|f| Some(f.section) == text)
        .map(|f| (f.start, f))
        .collect();
    let linker = Linker {
        view,
        code,
        subprogs,
        text,
        btf,
    };
    let mut programs = Vec::new();
    for f in functions.iter().filter(|f| Some(f.section) != text) {
        if !f.is_global {
            return Err(view.error(
                f.section,
                LoadErrorKind::StaticProgram {
                    name: f.name.clone(),
                },
            ));
        }
        programs.push(linker.link(f)?);
    }
    Ok(programs)
}

/// Reads the function symbols of all code sections, checking their extents.
/// A symbol without a size extends to the next function or the section end.
fn collect_functions(
    view: &ElfView<'_>,
    code: &BTreeMap<usize, CodeSection>,
) -> Result<Vec<Function>, LoadError> {
    let mut out = Vec::new();
    for s in view.symbols.iter().filter(|s| s.kind == SymKind::Func) {
        let Some(section) = s.section.filter(|i| code.contains_key(i)) else {
            continue;
        };
        let len = code[&section].insns.len() as u64 * INSN_SIZE as u64;
        let fits = s.value.is_multiple_of(INSN_SIZE as u64)
            && s.size.is_multiple_of(INSN_SIZE as u64)
            && s.value < len
            && s.value.checked_add(s.size).is_some_and(|end| end <= len);
        if !fits {
            let kind = LoadErrorKind::BadFunctionSymbol {
                name: s.name.clone(),
                offset: s.value,
                size: s.size,
            };
            return Err(view.error(section, kind));
        }
        let start = (s.value / INSN_SIZE as u64) as usize;
        let end = if s.size == 0 {
            0
        } else {
            start + (s.size / INSN_SIZE as u64) as usize
        };
        out.push(Function {
            name: s.name.clone(),
            section,
            start,
            end,
            is_global: s.is_global,
        });
    }
    out.sort_by_key(|f| (f.section, f.start));
    out.dedup_by_key(|f| (f.section, f.start));
    for i in 0..out.len() {
        if out[i].end == 0 {
            let next = out
                .get(i + 1)
                .filter(|n| n.section == out[i].section)
                .map(|n| n.start);
            out[i].end = next.unwrap_or(code[&out[i].section].insns.len());
        }
    }
    Ok(out)
}

struct Linker<'v, 'a> {
    view: &'v ElfView<'a>,
    code: &'v BTreeMap<usize, CodeSection>,
    /// `.text` functions by start pc.
    subprogs: BTreeMap<usize, &'v Function>,
    text: Option<usize>,
    btf: Option<&'v Btf>,
}

impl Linker<'_, '_> {
    fn link(&self, entry: &Function) -> Result<Program, LoadError> {
        // Reachability over `.text` subprograms (BTreeSet keeps `.text` order).
        let mut reached = BTreeSet::new();
        let mut work = vec![entry];
        while let Some(f) = work.pop() {
            for (pc, target) in self.edges_of(f) {
                if *target
                    == (FuncRef {
                        section: entry.section,
                        pc: entry.start,
                    })
                {
                    continue; // recursion into the entry: left for the verifier to reject
                }
                let callee = self
                    .subprog_at(target)
                    .ok_or_else(|| self.bad_target(f.section, pc, target))?;
                if reached.insert(callee.start) {
                    work.push(callee);
                }
            }
        }
        // Layout: entry at 0, then reached subprograms in `.text` order.
        let mut layout: Vec<(&Function, usize)> = vec![(entry, 0)];
        let mut next = entry.end - entry.start;
        for start in &reached {
            let f = self.subprogs[start];
            layout.push((f, next));
            next += f.end - f.start;
        }
        let new_start = |r: &FuncRef| -> usize {
            if r.section == entry.section && r.pc == entry.start {
                0
            } else {
                layout
                    .iter()
                    .find(|(f, _)| f.section == r.section && f.start == r.pc)
                    .map_or(0, |(_, at)| *at)
            }
        };
        let mut insns = Vec::with_capacity(next);
        for (f, base) in &layout {
            let section = &self.code[&f.section];
            insns.extend_from_slice(&section.insns[f.start..f.end]);
            for (pc, target) in self.edges_of(f) {
                let new_pc = base + (pc - f.start);
                let rel = new_start(target) as i64 - (new_pc as i64 + 1);
                insns[new_pc].imm = i32::try_from(rel).map_err(|_| {
                    self.view
                        .error(f.section, LoadErrorKind::ImmOverflow { pc })
                })?;
            }
        }
        let functions = layout
            .iter()
            .map(|(f, at)| FuncInfo {
                name: f.name.clone(),
                start: *at,
                arg_count: self.arg_count(&f.name),
                returns_int: self.btf.and_then(|b| b.func_returns_int(&f.name)),
            })
            .collect();
        let section = self.view.sections[entry.section].name.clone();
        Ok(Program {
            name: entry.name.clone(),
            kind: ProgKind::from_section(&section),
            section,
            insns,
            functions,
        })
    }

    fn edges_of<'s>(&'s self, f: &Function) -> impl Iterator<Item = (usize, &'s FuncRef)> + 's {
        self.code[&f.section]
            .edges
            .range(f.start..f.end)
            .map(|(pc, t)| (*pc, t))
    }

    fn subprog_at(&self, target: &FuncRef) -> Option<&Function> {
        (Some(target.section) == self.text)
            .then(|| self.subprogs.get(&target.pc).copied())
            .flatten()
    }

    fn bad_target(&self, section: usize, pc: usize, target: &FuncRef) -> LoadError {
        self.view.error(
            section,
            LoadErrorKind::BadCallTarget {
                pc,
                target: target.pc as i64,
            },
        )
    }

    fn arg_count(&self, name: &str) -> Option<u8> {
        self.btf?
            .func_arg_count(name)
            .map(|n| n.min(u8::MAX as usize) as u8)
    }
}
