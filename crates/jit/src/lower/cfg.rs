//! Control flow inside one function, from one scan of its instructions:
//! each pc's successors, how many jumps land on each pc, the backward
//! jumps, and (decoded in the same scan) each instruction's register
//! [`Effects`] and the constant operand lowering will need in a register
//! ([`super::consts`]). Every analysis of the function walks these dense
//! tables instead of decoding instructions again.

use super::effects::Effects;
use rvbpf_ebpf::inst::Inst;

/// No edge.
const NONE: u32 = u32::MAX;

/// The successors of one pc inside the function (absolute pcs, or
/// [`NONE`]): the next instruction and a jump's target. Calls fall through.
#[derive(Clone, Copy, Debug)]
struct Succ {
    next: u32,
    taken: u32,
}

/// The control-flow graph of the function `[start, end)`.
#[derive(Clone, Debug)]
pub struct Cfg {
    pub start: usize,
    pub end: usize,
    /// Indexed from `start`.
    succ: Vec<Succ>,
    /// Jumps of the function landing on each pc (indexed from `start`).
    landings: Vec<u32>,
    /// What each instruction does to registers (indexed from `start`).
    effects: Vec<Effects>,
    /// `(pc, value)` of every instruction with an operand constant that
    /// lowering builds in a register, in pc order.
    pub constant_operands: Vec<(u32, i64)>,
    /// `(target, pc)` of every backward jump inside the function: the pcs
    /// `target..=pc` form a loop.
    pub back_edges: Vec<(u32, u32)>,
    /// pcs of the conditional jumps, in order (for [`super::thread`],
    /// which looks at nothing else).
    pub conditional_jumps: Vec<u32>,
    /// Some jump goes backwards (to itself or an earlier pc). Without one,
    /// a backward dataflow pass in reverse pc order (or a forward one in pc
    /// order) sees every successor's (predecessor's) final value, so one
    /// pass reaches the fixpoint.
    pub has_backward_jump: bool,
}

/// Where the jump at `pc` (a `ja` or conditional jump) goes, if it is one.
pub fn jump_target(inst: &Inst, pc: usize) -> Option<i64> {
    match *inst {
        Inst::Ja { off, .. } => Some(pc as i64 + 1 + off as i64),
        Inst::Jump { off, .. } => Some(pc as i64 + 1 + off as i64),
        _ => None,
    }
}

impl Cfg {
    /// Scans `insts[start..end]` once. Edges leaving the function are left
    /// out (lowering rejects such jumps).
    pub fn new(insts: &[Inst], start: usize, end: usize) -> Cfg {
        let n = end - start;
        let mut succ = Vec::with_capacity(n);
        let mut landings = vec![0u32; n];
        let mut effects = Vec::with_capacity(n);
        // Typically a third of the instructions have one.
        let mut constant_operands = Vec::with_capacity(n / 2);
        let mut back_edges = Vec::new();
        let mut conditional_jumps = Vec::new();
        let mut has_backward_jump = false;
        let inside = |t: i64| (start as i64..end as i64).contains(&t);
        for (pc, inst) in insts[start..end]
            .iter()
            .enumerate()
            .map(|(i, x)| (start + i, x))
        {
            let (e, flow) = Effects::of(inst);
            effects.push(e);
            // Recorded, then dropped again when there is none: no branch
            // on it (see `operand_constant`).
            let (has, v) = flow.operand;
            constant_operands.push((pc as u32, v));
            constant_operands.truncate(constant_operands.len() - !has as usize);
            let next = if flow.falls && pc + 1 < end {
                (pc + 1) as u32
            } else {
                NONE
            };
            let taken = match flow.jump {
                Some(off) => {
                    if flow.falls {
                        conditional_jumps.push(pc as u32);
                    }
                    let t = pc as i64 + 1 + off as i64;
                    has_backward_jump |= t <= pc as i64;
                    if inside(t) {
                        if t <= pc as i64 {
                            back_edges.push((t as u32, pc as u32));
                        }
                        landings[t as usize - start] += 1;
                        t as u32
                    } else {
                        NONE
                    }
                }
                None => NONE,
            };
            succ.push(Succ { next, taken });
        }
        Cfg {
            start,
            end,
            succ,
            landings,
            effects,
            constant_operands,
            back_edges,
            conditional_jumps,
            has_backward_jump,
        }
    }

    /// What the instruction at `pc` does to registers.
    pub fn effects(&self, pc: usize) -> &Effects {
        &self.effects[pc - self.start]
    }

    /// The successors of `pc`: whether control falls through to `pc + 1`,
    /// and the jump target inside the function, if any.
    #[inline]
    pub fn edges(&self, pc: usize) -> (bool, Option<usize>) {
        let s = self.succ[pc - self.start];
        (
            s.next != NONE,
            (s.taken != NONE).then_some(s.taken as usize),
        )
    }

    /// Does a jump of the function land on `pc`? (False outside it.)
    pub fn is_target(&self, pc: usize) -> bool {
        pc.checked_sub(self.start)
            .and_then(|i| self.landings.get(i))
            .is_some_and(|&n| n > 0)
    }

    /// Jumps of the function landing on a pc of `from..=to`.
    pub fn landings_in(&self, from: usize, to: usize) -> u32 {
        self.landings[from - self.start..=to - self.start]
            .iter()
            .sum()
    }
}
