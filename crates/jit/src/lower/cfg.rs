//! Control flow inside one function: successors and jump targets.

use rvbpf_ebpf::inst::Inst;
use std::collections::HashSet;

/// Successor pcs of `pc` that lie before `end` (calls fall through).
pub fn successors(insts: &[Inst], pc: usize, end: usize) -> impl Iterator<Item = usize> {
    let jump = |off: i64| usize::try_from(pc as i64 + 1 + off).ok();
    let (next, taken) = match insts[pc] {
        Inst::Ja { off, .. } => (None, jump(off as i64)),
        Inst::Jump { off, .. } => (Some(pc + 1), jump(off as i64)),
        Inst::Exit => (None, None),
        _ => (Some(pc + 1), None),
    };
    [next, taken]
        .into_iter()
        .flatten()
        .filter(move |&t| t < end)
}

/// pcs inside `[start, end)` that some jump lands on.
pub fn jump_targets(insts: &[Inst], start: usize, end: usize) -> HashSet<usize> {
    (start..end)
        .filter_map(|pc| match insts[pc] {
            Inst::Ja { off, .. } => Some(pc as i64 + 1 + off as i64),
            Inst::Jump { off, .. } => Some(pc as i64 + 1 + off as i64),
            _ => None,
        })
        .filter_map(|t| usize::try_from(t).ok())
        .collect()
}
