//! Control flow inside one function: successors and jump targets.

use rvbpf_ebpf::inst::Inst;

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

/// The pcs of one function that some jump lands on, as a per-pc table.
#[derive(Clone, Debug)]
pub struct JumpTargets {
    start: usize,
    is_target: Vec<bool>,
}

impl JumpTargets {
    /// Does a jump of the function land on `pc`? (False outside it.)
    pub fn contains(&self, pc: &usize) -> bool {
        pc.checked_sub(self.start)
            .and_then(|i| self.is_target.get(i))
            .copied()
            .unwrap_or(false)
    }
}

/// pcs inside `[start, end)` that some jump of `[start, end)` lands on.
pub fn jump_targets(insts: &[Inst], start: usize, end: usize) -> JumpTargets {
    let mut is_target = vec![false; end - start];
    for (pc, inst) in insts.iter().enumerate().take(end).skip(start) {
        let t = match *inst {
            Inst::Ja { off, .. } => pc as i64 + 1 + off as i64,
            Inst::Jump { off, .. } => pc as i64 + 1 + off as i64,
            _ => continue,
        };
        if (start as i64..end as i64).contains(&t) {
            is_target[t as usize - start] = true;
        }
    }
    JumpTargets { start, is_target }
}

/// Does some jump of `[start, end)` go backwards (to itself or an earlier
/// pc)? Without one, a backward dataflow pass in reverse pc order sees
/// every successor's final value, so one pass reaches the fixpoint.
pub fn has_backward_jump(insts: &[Inst], start: usize, end: usize) -> bool {
    (start..end).any(|pc| match insts[pc] {
        Inst::Ja { off, .. } => off < 0,
        Inst::Jump { off, .. } => off < 0,
        _ => false,
    })
}
