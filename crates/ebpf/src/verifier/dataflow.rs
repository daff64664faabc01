//! Forward dataflow over one function's control-flow graph.
//!
//! The abstract state at each pc records which registers are initialised on
//! *every* path to it (meet = intersection) and, per register, a small value:
//! a constant, `r10 + constant` (a pointer into the current frame), a stack
//! pointer whose offset is not static, or a map handle. That is enough to
//!
//! * reject reads of registers some path leaves unwritten,
//! * bound every stack access whose offset is static to `[r10-512, r10)` and
//!   measure the function's stack depth (including stack buffers passed to
//!   calls),
//! * check that `bpf_tail_call` gets a prog-array map where r2 is known,
//! * infer how many argument registers a subprogram without BTF reads, and
//! * reject code paths that run off the end of the function.

use super::effects::{bit, effects, is_call, Effects, ARG_REGS, TAIL_CALL_HELPER};
use super::error::VerifyErrorKind;
use super::layout::{rel_target, successors};
use super::Reject;
use crate::inst::{AluOp, CallTarget, Inst, LddwKind, Operand, Reg};
use crate::object::{MapDef, MapKind};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Bytes of stack one frame may use below r10.
pub const MAX_FRAME_STACK: u32 = 512;

/// What is statically known about a register's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Unknown,
    Const(i64),
    /// r10 + offset: a pointer into the current frame.
    Frame(i64),
    /// A pointer derived from r10 whose offset differs between paths or
    /// depends on run-time data.
    StackDyn,
    /// Handle of map number n (from `lddw` MAP_FD).
    Map(u32),
}

impl Val {
    fn join(self, other: Val) -> Val {
        match (self, other) {
            (a, b) if a == b => a,
            (Val::Frame(_) | Val::StackDyn, Val::Frame(_) | Val::StackDyn) => Val::StackDyn,
            _ => Val::Unknown,
        }
    }
    fn is_stack(self) -> bool {
        matches!(self, Val::Frame(_) | Val::StackDyn)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    /// Registers written on every path (bit n = rn).
    init: u16,
    /// Argument registers not yet overwritten on some path since entry.
    untouched: u16,
    vals: [Val; 11],
}

impl State {
    /// Joins `other` into `self`; true if `self` changed.
    fn join_from(&mut self, other: &State) -> bool {
        let before = self.clone();
        self.init &= other.init;
        self.untouched |= other.untouched;
        for r in 0..11 {
            self.vals[r] = if self.init & (1 << r) == 0 {
                Val::Unknown
            } else {
                self.vals[r].join(other.vals[r])
            };
        }
        *self != before
    }
}

/// One function to analyse.
pub struct FunctionInput<'a> {
    pub insts: &'a [Inst],
    pub name: &'a str,
    pub start: usize,
    pub end: usize,
    /// Registers initialised on entry (r10 is added).
    pub entry_init: u16,
    /// How many argument registers (r1..rn) the function starting at a
    /// given pc reads before writing them: what a call to it must provide.
    pub callee_args: &'a dyn Fn(usize) -> u8,
    /// Argument count of kfunc `i` from its BTF prototype, if known.
    pub kfunc_args: &'a dyn Fn(u32) -> Option<u8>,
    pub maps: &'a [MapDef],
}

/// What the dataflow learned about a function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionFlow {
    /// Deepest byte below r10 accessed at a static offset.
    pub max_stack: u32,
    /// Some access goes through a stack pointer with a non-static offset.
    pub dynamic_stack: bool,
    /// Highest n in 1..=5 such that rn is read while it may still hold the
    /// value the function was entered with (0 if none).
    pub highest_arg_read: u8,
}

/// Runs the dataflow to a fixed point, rejecting the first violation found.
///
/// States are kept only at join points (the function start and every jump
/// target); straight-line code between them is walked with one running
/// state, so memory stays proportional to the number of jump targets.
pub fn analyse(f: &FunctionInput) -> Result<FunctionFlow, Reject> {
    let len = f.end - f.start;
    let mut is_join = vec![false; len];
    is_join[0] = true;
    for pc in f.start..f.end {
        if let (_, Some(t)) = successors(f.insts, pc) {
            // Jump targets were checked to lie inside the function already.
            is_join[t as usize - f.start] = true;
        }
    }
    let mut vals = [Val::Unknown; 11];
    vals[10] = Val::Frame(0);
    let entry = State {
        init: f.entry_init | bit(Reg::R10),
        untouched: ARG_REGS,
        vals,
    };
    let mut states: HashMap<usize, State> = HashMap::from([(f.start, entry)]);
    // Lowest pc first: forward code reaches its fixed point in few rounds.
    let mut queue = BinaryHeap::from([Reverse(f.start)]);
    let mut queued = vec![false; len];
    queued[0] = true;
    let mut flow = FunctionFlow::default();
    while let Some(Reverse(leader)) = queue.pop() {
        queued[leader - f.start] = false;
        let mut pc = leader;
        let mut state = states[&leader].clone();
        loop {
            let out = step(f, pc, &state, &mut flow)?;
            let (fall, jump) = successors(f.insts, pc);
            if fall.is_some_and(|n| n >= f.end) {
                return Err(Reject::at(
                    pc,
                    VerifyErrorKind::FallsOffEnd {
                        function: f.name.to_string(),
                    },
                ));
            }
            if let Some(t) = jump {
                merge_into(
                    &mut states,
                    &mut queue,
                    &mut queued,
                    f.start,
                    t as usize,
                    &out,
                );
            }
            match fall {
                Some(n) if is_join[n - f.start] => {
                    merge_into(&mut states, &mut queue, &mut queued, f.start, n, &out);
                    break;
                }
                Some(n) => {
                    pc = n;
                    state = out;
                }
                None => break,
            }
        }
    }
    Ok(flow)
}

/// Joins `out` into the state at join point `pc`, queueing it if it changed.
fn merge_into(
    states: &mut HashMap<usize, State>,
    queue: &mut BinaryHeap<Reverse<usize>>,
    queued: &mut [bool],
    start: usize,
    pc: usize,
    out: &State,
) {
    let changed = match states.get_mut(&pc) {
        Some(s) => s.join_from(out),
        None => {
            states.insert(pc, out.clone());
            true
        }
    };
    if changed && !queued[pc - start] {
        queued[pc - start] = true;
        queue.push(Reverse(pc));
    }
}

/// Checks the instruction at `pc` against `s` and returns the state after it.
fn step(f: &FunctionInput, pc: usize, s: &State, flow: &mut FunctionFlow) -> Result<State, Reject> {
    let inst = &f.insts[pc];
    let callee_args = match *inst {
        Inst::Call(CallTarget::Local(off)) => {
            Some((f.callee_args)(rel_target(pc, off.into()) as usize))
        }
        Inst::Call(CallTarget::Kfunc(k)) => (f.kfunc_args)(k),
        _ => None,
    };
    let Effects {
        reads,
        writes,
        clobbers,
        ..
    } = effects(inst, callee_args);
    let missing = reads & !s.init;
    if missing != 0 {
        let reg = Reg::new(missing.trailing_zeros() as u8).expect("register bits are 0..=10");
        return Err(Reject::at(
            pc,
            VerifyErrorKind::UninitializedRegister { reg },
        ));
    }
    let entry_reads = reads & s.untouched & ARG_REGS;
    if entry_reads != 0 {
        flow.highest_arg_read = flow
            .highest_arg_read
            .max(15 - entry_reads.leading_zeros() as u8);
    }
    match *inst {
        Inst::Load {
            size,
            src: base,
            off,
            ..
        }
        | Inst::Store {
            size,
            dst: base,
            off,
            ..
        }
        | Inst::Atomic {
            size,
            dst: base,
            off,
            ..
        } => {
            check_stack_access(pc, s.vals[base.index()], off, size.bytes(), flow)?;
        }
        Inst::Call(CallTarget::Helper(TAIL_CALL_HELPER)) => {
            check_tail_call_map(pc, s.vals[2], f.maps)?
        }
        _ => {}
    }
    if is_call(inst) {
        note_stack_arguments(s, flow);
    }
    let mut out = s.clone();
    out.init = (out.init & !clobbers) | writes;
    out.untouched &= !(writes | clobbers);
    for r in 0..11 {
        if (writes | clobbers) & (1 << r) != 0 {
            out.vals[r] = Val::Unknown;
        }
    }
    match *inst {
        Inst::Alu { is64, op, dst, src } => {
            let src_val = match src {
                Operand::Imm(k) => Val::Const(k.into()),
                Operand::Reg(r) => s.vals[r.index()],
            };
            out.vals[dst.index()] = alu_value(is64, op, s.vals[dst.index()], src_val);
        }
        Inst::Lddw { dst, kind } => {
            out.vals[dst.index()] = match kind {
                LddwKind::Imm(v) => Val::Const(v as i64),
                LddwKind::Map { map } => Val::Map(map),
                _ => Val::Unknown,
            };
        }
        _ => {}
    }
    Ok(out)
}

/// Value of `dst` after `dst = dst op src`, for the few operations that keep
/// something worth knowing (moves, and addition/subtraction of constants).
fn alu_value(is64: bool, op: AluOp, dst: Val, src: Val) -> Val {
    use Val::*;
    if !is64 {
        // 32-bit results are zero-extended: only constants survive.
        let r = match (op, dst, src) {
            (AluOp::Mov, _, Const(k)) => k,
            (AluOp::Add, Const(a), Const(k)) => a.wrapping_add(k),
            (AluOp::Sub, Const(a), Const(k)) => a.wrapping_sub(k),
            _ => return Unknown,
        };
        return Const(r as u32 as i64);
    }
    match (op, dst, src) {
        (AluOp::Mov, _, v) => v,
        (AluOp::Add, Const(a), Const(k)) => Const(a.wrapping_add(k)),
        (AluOp::Add, Frame(a), Const(k)) | (AluOp::Add, Const(k), Frame(a)) => {
            Frame(a.wrapping_add(k))
        }
        (AluOp::Sub, Const(a), Const(k)) => Const(a.wrapping_sub(k)),
        (AluOp::Sub, Frame(a), Const(k)) => Frame(a.wrapping_sub(k)),
        (AluOp::Sub, Frame(a), Frame(b)) => Const(a.wrapping_sub(b)),
        (AluOp::Add, a, b) if a.is_stack() || b.is_stack() => StackDyn,
        (AluOp::Sub, a, _) if a.is_stack() => StackDyn,
        _ => Unknown,
    }
}

/// Bounds a stack access through a register holding `base`.
fn check_stack_access(
    pc: usize,
    base: Val,
    off: i16,
    size: usize,
    flow: &mut FunctionFlow,
) -> Result<(), Reject> {
    match base {
        Val::Frame(b) => {
            let addr = b as i128 + off as i128;
            if addr < -(MAX_FRAME_STACK as i128) || addr + size as i128 > 0 {
                let offset =
                    i64::try_from(addr).unwrap_or(if addr < 0 { i64::MIN } else { i64::MAX });
                return Err(Reject::at(
                    pc,
                    VerifyErrorKind::StackOutOfBounds { offset, size },
                ));
            }
            flow.max_stack = flow.max_stack.max((-addr) as u32);
        }
        Val::StackDyn => flow.dynamic_stack = true,
        _ => {}
    }
    Ok(())
}

/// A stack buffer handed to a call (helper, kfunc or subprogram) is used by
/// the callee from its start address upwards, towards r10: the frame must
/// reach at least down to that start. A stack pointer whose offset is not
/// static could point anywhere in the frame.
fn note_stack_arguments(s: &State, flow: &mut FunctionFlow) {
    for r in 1..=5 {
        if s.init & (1 << r) == 0 {
            continue;
        }
        match s.vals[r] {
            Val::Frame(off) if (-(MAX_FRAME_STACK as i64)..0).contains(&off) => {
                flow.max_stack = flow.max_stack.max((-off) as u32);
            }
            Val::StackDyn => flow.dynamic_stack = true,
            _ => {}
        }
    }
}

/// `bpf_tail_call(ctx, map, index)`: r2 must be a prog-array map where known.
fn check_tail_call_map(pc: usize, r2: Val, maps: &[MapDef]) -> Result<(), Reject> {
    let what = match r2 {
        Val::Unknown => return Ok(()),
        Val::Map(m) => {
            // Map indices were range-checked with the lddw that produced them.
            let def = &maps[m as usize];
            if def.kind == MapKind::ProgArray {
                return Ok(());
            }
            let kind = match def.kind {
                MapKind::Array => "array",
                MapKind::Hash => "hash",
                MapKind::ProgArray => "prog-array",
            };
            return Err(Reject::at(
                pc,
                VerifyErrorKind::TailCallMapNotProgArray {
                    map: def.name.clone(),
                    kind: kind.to_string(),
                },
            ));
        }
        Val::Const(_) => "a constant",
        Val::Frame(_) | Val::StackDyn => "a stack pointer",
    };
    Err(Reject::at(pc, VerifyErrorKind::TailCallNotAMap { what }))
}
