//! Frame planning (an explicit analysis of a function's facts) and the
//! prologue/epilogue built from the plan. Layout (see the crate docs):
//!
//! ```text
//!  caller sp ─▶ +------------------------+ size
//!               | counter home, pad      | ptr scheme, entry function: [size-8] = counter
//!               | ra, s1..s11 (used only)| descending from the top
//!               | tcc slot               | stack scheme, tail-call reachable
//!               | pad to 16              |
//!   s5 = R10 ─▶ +------------------------+ bpf_stack
//!               | BPF stack              |
//!         sp ─▶ +------------------------+ 0
//! ```

use crate::items::{Item, Label};
use crate::regmap::{MAX_TAIL_CALL_CNT, T0, TCC, TCC_SAVED};
use crate::{JitError, TccScheme};
use rvbpf_ebpf::verifier::FunctionFacts;
use rvbpf_rv64::{BranchOp, Imm12, Inst, LoadOp, Reg, StoreOp};

/// Where a function keeps the tail-call count or pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TccPlan {
    pub scheme: TccScheme,
    /// The function or a callee may tail call: the count matters here.
    pub needed: bool,
    /// `reg`: park a6 in s6 around calls; `ptr`: keep the pointer in s6.
    pub uses_saved_reg: bool,
    /// `stack`: sp offset of the count slot.
    pub slot: Option<i32>,
    /// `ptr`, entry function: sp offset of the counter home.
    pub home: Option<i32>,
    /// `ptr`: initialise the counter when entered with a6 = 0.
    pub init_fresh: bool,
    /// `reg`, an entry function that calls out but cannot tail call: the
    /// count lives in s6 from the prologue to the epilogue (copied back to
    /// a6 there), so no call inside needs parking.
    pub resident: bool,
}

/// The frame of one function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameLayout {
    /// Saved registers and their sp offsets, in save order.
    pub saved: Vec<(Reg, i32)>,
    /// Total bytes subtracted from sp (multiple of 16).
    pub size: i32,
    /// Bytes of BPF stack at the bottom of the frame.
    pub bpf_stack: i32,
    /// The function uses R10, so s5 is set to `sp + bpf_stack`.
    pub sets_r10: bool,
    pub tcc: TccPlan,
}

fn imm(v: i32) -> Imm12 {
    Imm12::new(v as i64).expect("frame offsets are checked to fit 12 bits in plan()")
}

impl FrameLayout {
    /// Plans the frame of function `index` from its facts alone.
    /// `calls_out`: it calls host code or another function (so ra and,
    /// for the count, a callee-saved home are needed). `constant_regs`: the
    /// callee-saved registers holding hoisted constants.
    pub fn plan(
        f: &FunctionFacts,
        index: usize,
        calls_out: bool,
        constant_regs: &[Reg],
        scheme: TccScheme,
        program_has_tail_calls: bool,
    ) -> Result<FrameLayout, JitError> {
        let used = f.regs_read | f.regs_written;
        let sets_r10 = used & (1 << 10) != 0 || f.stack_depth > 0;
        // The count matters where the function or a callee may tail call,
        // and also in an entry function that calls out under `reg`/`stack`:
        // any program can be the target of a tail call made in another
        // program's subprogram, and then it returns in that subprogram's
        // place, handing the count back in a6 to the subprogram's caller.
        // A helper (C code) may clobber a6 on the way, so the count must be
        // parked (`reg`) or kept in the frame's slot (`stack`). `ptr` keeps
        // the count in memory and re-derives a6 from s6 after calls.
        let returns_count = index == 0 && calls_out && scheme != TccScheme::Ptr;
        let needed = f.tail_call_reachable || returns_count;
        let resident = returns_count && !f.tail_call_reachable && scheme == TccScheme::Reg;
        let uses_saved_reg = needed && calls_out && scheme != TccScheme::Stack;
        let mut regs = Vec::new();
        if calls_out {
            regs.push(Reg::RA);
        }
        for (bpf, rv) in [(6, Reg::S1), (7, Reg::S2), (8, Reg::S3), (9, Reg::S4)] {
            if used & (1 << bpf) != 0 {
                regs.push(rv);
            }
        }
        if sets_r10 {
            regs.push(Reg::S5);
        }
        if uses_saved_reg {
            regs.push(TCC_SAVED);
        }
        regs.extend_from_slice(constant_regs);
        let has_home = scheme == TccScheme::Ptr && index == 0;
        let home_bytes = if has_home { 16 } else { 0 };
        let has_slot = scheme == TccScheme::Stack && needed;
        let save_bytes = 8 * regs.len() as i32 + if has_slot { 8 } else { 0 };
        let bpf_stack = (f.stack_depth as i32 + 15) / 16 * 16;
        let upper = (home_bytes + save_bytes + 15) / 16 * 16;
        let size = upper + bpf_stack;
        if size > 2032 {
            return Err(JitError::FrameTooLarge {
                function: f.name.clone(),
                size: size as usize,
            });
        }
        let mut at = size - home_bytes;
        let saved = regs
            .into_iter()
            .map(|r| {
                at -= 8;
                (r, at)
            })
            .collect();
        let slot = has_slot.then(|| at - 8);
        let home = has_home.then_some(size - 8);
        Ok(FrameLayout {
            saved,
            size,
            bpf_stack,
            sets_r10,
            tcc: TccPlan {
                scheme,
                needed,
                uses_saved_reg,
                slot,
                home,
                init_fresh: has_home && program_has_tail_calls,
                resident,
            },
        })
    }

    /// The prologue, entered at `TAIL_CALL_ENTRY_OFFSET` with the count (or
    /// pointer) in a6. `skip` is a fresh local label for the ptr-scheme init.
    pub fn prologue(&self, skip: Label) -> Vec<Item> {
        let mut out = Vec::new();
        if self.size > 0 {
            out.push(Item::Fixed(Inst::addi(Reg::SP, Reg::SP, imm(-self.size))));
        }
        for &(r, off) in &self.saved {
            out.push(Item::Fixed(store64(r, Reg::SP, off)));
        }
        if self.sets_r10 {
            out.push(Item::Fixed(Inst::addi(
                Reg::S5,
                Reg::SP,
                imm(self.bpf_stack),
            )));
        }
        if let Some(slot) = self.tcc.slot {
            out.push(Item::Fixed(store64(TCC, Reg::SP, slot)));
        }
        if let (true, Some(home)) = (self.tcc.init_fresh, self.tcc.home) {
            // a6 != 0: entered by a tail call, the counter already exists.
            out.push(Item::Branch {
                op: BranchOp::Bne,
                rs1: TCC,
                rs2: Reg::ZERO,
                target: skip,
            });
            out.push(Item::Fixed(Inst::addi(
                T0,
                Reg::ZERO,
                imm(MAX_TAIL_CALL_CNT),
            )));
            out.push(Item::Fixed(store64(T0, Reg::SP, home)));
            out.push(Item::Fixed(Inst::addi(TCC, Reg::SP, imm(home))));
            out.push(Item::Bind(skip));
        }
        if (self.tcc.scheme == TccScheme::Ptr && self.tcc.uses_saved_reg) || self.tcc.resident {
            out.push(Item::Fixed(Inst::mv(TCC_SAVED, TCC)));
        }
        out
    }

    /// Restores saved registers and pops the frame (shared by the normal
    /// epilogue and the tail-call exit).
    pub fn restore(&self) -> Vec<Item> {
        let mut out: Vec<Item> = self
            .saved
            .iter()
            .map(|&(r, off)| Item::Fixed(load64(r, Reg::SP, off)))
            .collect();
        if self.size > 0 {
            out.push(Item::Fixed(Inst::addi(Reg::SP, Reg::SP, imm(self.size))));
        }
        out
    }

    /// The normal epilogue: hand the count back (stack scheme, resident
    /// `reg` count), restore, return R0 in a5 and a0.
    pub fn epilogue(&self) -> Vec<Item> {
        let mut out = Vec::new();
        if let Some(slot) = self.tcc.slot {
            out.push(Item::Fixed(load64(TCC, Reg::SP, slot)));
        }
        if self.tcc.resident {
            out.push(Item::Fixed(Inst::mv(TCC, TCC_SAVED)));
        }
        out.extend(self.restore());
        out.push(Item::Fixed(Inst::mv(Reg::A0, Reg::A5)));
        out.push(Item::Fixed(Inst::RET));
        out
    }
}

/// `sd rs, off(base)`.
pub fn store64(rs: Reg, base: Reg, off: i32) -> Inst {
    Inst::Store {
        op: StoreOp::Sd,
        rs1: base,
        rs2: rs,
        offset: imm(off),
    }
}

/// `ld rd, off(base)`.
pub fn load64(rd: Reg, base: Reg, off: i32) -> Inst {
    Inst::Load {
        op: LoadOp::Ld,
        rd,
        rs1: base,
        offset: imm(off),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> FunctionFacts {
        FunctionFacts {
            name: "f".into(),
            start: 0,
            end: 1,
            stack_depth: 0,
            arg_count: 1,
            callees: vec![],
            callbacks: vec![],
            makes_calls: false,
            makes_helper_calls: false,
            has_tail_call: false,
            tail_call_reachable: false,
            regs_read: 0b10,
            regs_written: 0b1,
        }
    }

    #[test]
    fn leaf_using_only_caller_saved_registers_has_no_frame() {
        let l = FrameLayout::plan(&facts(), 0, false, &[], TccScheme::Reg, false).unwrap();
        assert_eq!(l.size, 0);
        assert!(l.saved.is_empty());
        assert!(l.prologue(Label::Local(0)).is_empty());
    }

    #[test]
    fn saves_exactly_the_used_callee_saved_registers() {
        let mut f = facts();
        f.regs_written |= 1 << 7; // r7 -> s2
        f.stack_depth = 24; // rounded to 32, forces s5
        f.makes_helper_calls = true;
        f.makes_calls = true;
        let l = FrameLayout::plan(&f, 1, true, &[], TccScheme::Reg, false).unwrap();
        let regs: Vec<Reg> = l.saved.iter().map(|s| s.0).collect();
        assert_eq!(regs, [Reg::RA, Reg::S2, Reg::S5]);
        // 3 saves = 24 bytes -> 32, plus 32 bytes of BPF stack.
        assert_eq!(l.size, 64);
        assert_eq!(l.bpf_stack, 32);
        assert_eq!(l.saved[0].1, 56);
    }

    #[test]
    fn tail_call_reachable_caller_keeps_count_in_s6_except_stack_scheme() {
        let mut f = facts();
        f.makes_helper_calls = true;
        f.has_tail_call = true;
        f.tail_call_reachable = true;
        let reg = FrameLayout::plan(&f, 0, true, &[], TccScheme::Reg, true).unwrap();
        assert!(reg.saved.iter().any(|s| s.0 == Reg::S6));
        let stack = FrameLayout::plan(&f, 0, true, &[], TccScheme::Stack, true).unwrap();
        assert!(!stack.saved.iter().any(|s| s.0 == Reg::S6));
        assert!(stack.tcc.slot.is_some());
        let ptr = FrameLayout::plan(&f, 0, true, &[], TccScheme::Ptr, true).unwrap();
        assert_eq!(ptr.tcc.home, Some(ptr.size - 8));
        assert!(ptr.tcc.init_fresh);
    }
}
