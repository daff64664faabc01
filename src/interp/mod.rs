//! The reference interpreter: defines rvbpf's semantics and is the oracle
//! for every other engine.
//!
//! * [`decode`] — programs are pre-decoded once at load into compact [`decode::Op`]s.
//! * [`alu`] — pure arithmetic/comparison/byte-order semantics.
//! * `exec` — the execution loop (one `match` per instruction, no allocation).
//! * `frames` — bpf2bpf frames and stack allocation.
//! * `tail_call` — the tail-call rule and its budget.
//! * `trampoline` — fentry/fexit around traced functions.
//!
//! ## Execution model
//!
//! A top-level run starts with ONE tail-call budget of 33. `exec` runs one
//! *activation*: a function and every untraced bpf2bpf callee below it,
//! using an explicit frame stack (r6–r9 and r10 saved per frame; each frame
//! gets its own stack area of its function's stack size, just below its
//! caller's). The budget is passed by reference — like the x86/arm64
//! `tail_call_cnt_ptr` — to everything that shares it.
//!
//! * A successful tail call replaces the *current frame* in place: the
//!   caller frames stay, the new program starts at pc 0 with r1 unchanged
//!   and its stack area at the same position; when it exits, control
//!   returns to the replaced function's caller with its r0. Budget spent
//!   inside a subprogram is gone for its callers too (one counter).
//! * A failed tail call (index ≥ max_entries, empty slot, budget spent)
//!   falls through and consumes nothing.
//! * A call of a function with tracers attached goes through the
//!   trampoline: fentry tracers, then the function as a nested activation
//!   sharing the caller's budget (so the traced function keeps its tail-call
//!   context), then fexit tracers. Every tracer run gets its own fresh
//!   budget of 33. Tail-call entry never fires tracers.
//!
//! ## Performance notes
//!
//! Measured with `cargo run --release --example interp_speed` against
//! solana-sbpf's interpreter. What pays: hot operations flattened into their
//! own [`decode::Code`] variants (one dispatch each; `Code` is `repr(u8)` so
//! the tag is one byte), registers as `[u64; 16]` indexed with `& 15`,
//! r10-based accesses checking the stack region first, rare arms outlined
//! as `#[cold]` functions, taken jumps as real branches (`continue`; a
//! conditional move makes the next fetch wait for the compare), an ALU op +
//! `ja` fused into one op, and effective addresses computed only in the
//! memory arms (eagerly, they cost every instruction 10-20%). Tried and
//! measured *slower* (LLVM then spills `pc`/the budget counter of the big
//! `match` loop to the stack):
//! charging the budget once per straight-line run (with an exact stepping
//! fallback), fusing an add/sub-immediate with a following conditional
//! jump (branchy −10% time, but memory +15% and calls +25%: the second
//! budget charge in the fused arm spills the counter; charging per op via
//! an `insns` field, a `left < 2` pre-check or a separate "extra" count
//! were all worse still), and counting fused second halves outside the
//! budget counter. Fetching ops unchecked (`op_at`) paid ~5%, but needs
//! `unsafe` in the sandbox of untrusted code, so it was left out. Any change to
//! the loop should be re-measured on all four programs.

pub mod alu;
pub mod decode;
mod exec;
mod frames;
mod tail_call;
mod trampoline;

pub(crate) use exec::load_packet_at;

pub(crate) use frames::Frame;

use crate::helpers::Registry;
use crate::memory::STACK_TOP;
use crate::vm::{LoadedProg, Machine, Outcome, ProgId, RunError, Stats, Vm, MAX_TAIL_CALLS};

/// Most frames (bpf2bpf calls plus trampoline activations) alive at once.
///
/// Verified programs stay below this by construction, so hitting it means a
/// broken invariant, not a program error: one program's call chain is at
/// most `verifier::MAX_FRAMES` (8) deep; a tail call replaces only the
/// current frame, so each of the 33 successful tail calls can stack a new
/// chain on the live callers (Linux has no run-time frame limit either);
/// a trampoline activation can sit beside every frame, and a tracer runs a
/// chain of the same bound of its own (tracers are never traced).
pub const MAX_FRAMES: usize =
    2 * 2 * rvbpf_ebpf::verifier::MAX_FRAMES * (MAX_TAIL_CALLS as usize + 1);

/// One top-level run's interpreter state.
pub(crate) struct Interp<'a> {
    progs: &'a [LoadedProg],
    registry: &'a Registry,
    m: &'a mut Machine,
    frames: &'a mut Vec<Frame>,
    /// Instructions the run may still execute.
    insns_left: u64,
    stats: Stats,
    /// Nested activations (trampolines, tracers) currently running.
    depth: usize,
    /// Program executing right now (names the location of a fault).
    cur_prog: u32,
}

/// Runs `prog` from its entry with `args` in r1..r5. On failure, also
/// returns the program that was executing (a tail-called or tracing program
/// may differ from `prog`).
pub(crate) fn run(
    vm: &mut Vm,
    prog: ProgId,
    args: [u64; 5],
) -> Result<Outcome, (RunError, ProgId)> {
    let budget = vm.insn_budget();
    vm.frames.clear();
    let mut it = Interp {
        progs: &vm.progs,
        registry: &vm.registry,
        m: &mut vm.machine,
        frames: &mut vm.frames,
        insns_left: budget,
        stats: Stats::default(),
        depth: 0,
        cur_prog: prog.0,
    };
    it.m.mem.set_stack_floor(STACK_TOP);
    let mut tail_calls_left = MAX_TAIL_CALLS;
    let ret = it
        .call_function(prog.0, 0, args, &mut tail_calls_left, 0)
        .map_err(|e| (e, ProgId(it.cur_prog)))?;
    it.stats.insns_executed = budget - it.insns_left;
    Ok(Outcome {
        ret,
        stats: it.stats,
    })
}
