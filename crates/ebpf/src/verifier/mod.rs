//! The verifier: the only way to turn an [`Object`]'s program into a
//! [`VerifiedProgram`], the type every engine (interpreter, JIT) accepts.
//!
//! # What it checks
//!
//! * the instruction stream decodes strictly ([`crate::inst::decode_program`]),
//!   is not empty and has at most [`MAX_INSNS`] slots;
//! * functions: pc 0 and every bpf2bpf call target (and every subprogram
//!   whose address a `lddw` takes) start a function, which runs to the next
//!   start; jumps stay inside their function and never land on the second
//!   half of a `lddw`; no path runs off the end of a function;
//! * helpers and kfuncs are known to the runtime, map references in `lddw`
//!   are in range; r10 is never written;
//! * no register is read before it is written on every path (forward
//!   dataflow, in `dataflow.rs`); after any call r1..r5 are unreadable and
//!   r0 holds the result, except after `bpf_tail_call`, which returns
//!   nothing (as in Linux: a failed tail call leaves r0 engine-specific).
//!   Every program of the bpf_conformance and ubpf suites that is meant to
//!   run passes under these Linux rules, so they are not relaxed;
//! * stack accesses at a static offset from r10 (directly or through a
//!   register holding r10 ± constant) stay inside `[r10-512, r10)`;
//! * the call graph has no recursion, at most [`MAX_FRAMES`] frames and at
//!   most [`MAX_STACK`] bytes of stack along any chain, and a subprogram with
//!   a tail call is only entered while the frames above it use less than
//!   [`TAIL_CALL_STACK_LIMIT`] bytes (in `callgraph.rs`); a callback whose
//!   address a function takes counts as called from that function;
//! * `bpf_tail_call` gets a prog-array map in r2 wherever r2 is statically
//!   known, and a subprogram containing one returns an int according to its
//!   BTF prototype (when there is one).
//!
//! # What it deliberately does not do
//!
//! Unlike Linux it does not track pointer types, value ranges or packet
//! bounds, and it does not prove termination. rvbpf's runtime makes that
//! unnecessary for safety: every load and store an engine executes through a
//! pointer that is not a static stack offset is bounds-checked at run time
//! against the memory regions the program may touch, and every run has an
//! instruction budget that stops runaway loops. A stack access through a
//! pointer derived from r10 whose offset is not static makes the function's
//! `stack_depth` the whole 512 bytes, so such accesses stay inside the frame
//! the engines reserve. Helper arity is unknown here, so helper arguments are
//! not checked for initialisation (the runtime's helpers validate them).
//! Unreachable instructions are allowed (Linux rejects them); they are
//! decoded and checked structurally but never executed.

mod callgraph;
mod dataflow;
mod effects;
mod error;
mod layout;

pub use callgraph::{MAX_FRAMES, MAX_STACK, TAIL_CALL_STACK_LIMIT};
pub use dataflow::MAX_FRAME_STACK;
pub use effects::TAIL_CALL_HELPER;
pub use error::{VerifyError, VerifyErrorKind};
pub use layout::MAX_INSNS;

use crate::insn::Insn;
use crate::inst::{CallTarget, Inst};
use crate::object::{KfuncProto, MapDef, Object, ProgKind};
use callgraph::CallSites;
use effects::{arg_bits, effects};
use std::sync::Arc;

/// What the runtime offers the program being verified.
pub struct VerifyEnv<'a> {
    /// Is helper number n known to the runtime?
    pub helper_known: &'a dyn Fn(i32) -> bool,
    /// Is a kfunc with this name registered?
    pub kfunc_known: &'a dyn Fn(&str) -> bool,
    /// How many argument registers (r1..) the entry function receives
    /// initialised (1 for ELF programs: ctx; 2 for conformance tests: memory
    /// pointer and length). Values above 5 count as 5.
    pub entry_args: u8,
}

/// Facts about one function of a verified program, for the engines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionFacts {
    /// Name from the object's function table, else `sub_<pc>` (the entry
    /// function falls back to the program name).
    pub name: String,
    /// First pc of the function.
    pub start: usize,
    /// One past its last pc.
    pub end: usize,
    /// Bytes below r10 the function uses (deepest static access), rounded up
    /// to 16; 512 if it accesses the stack at offsets that are not static.
    pub stack_depth: u32,
    /// From BTF if known, else the highest r1..r5 read before being written;
    /// for the entry function `VerifyEnv::entry_args`.
    pub arg_count: u8,
    /// Indices of the functions it calls (bpf2bpf), sorted, without repeats.
    pub callees: Vec<usize>,
    /// Indices of the functions whose address it takes with `lddw` (callbacks
    /// for helpers), sorted, without repeats. They count as called from this
    /// function for the recursion, frame and stack limits.
    pub callbacks: Vec<usize>,
    /// Contains any call: helper, kfunc, local or callx.
    pub makes_calls: bool,
    /// Contains a call that leaves BPF code: helper, kfunc or callx.
    pub makes_helper_calls: bool,
    /// Contains `call 12` (`bpf_tail_call`).
    pub has_tail_call: bool,
    /// `has_tail_call`, or calls (transitively) a function that has one.
    pub tail_call_reachable: bool,
    /// Registers the function's instructions read (bit n = rn), including
    /// implicit uses: r0 by `exit` and `cmpxchg`, r1..r5 by helper, kfunc and
    /// callx calls (their arity is unknown), by local calls the argument
    /// registers the callee reads before writing them, r1..r3 by tail calls.
    pub regs_read: u16,
    /// Registers the function's instructions write, including r0 for calls
    /// other than tail calls. (Registers calls clobber are not counted.)
    pub regs_written: u16,
}

/// A program that passed verification. Only [`verify`] constructs one.
#[derive(Clone, Debug)]
pub struct VerifiedProgram {
    name: String,
    kind: ProgKind,
    section: String,
    insns: Vec<Insn>,
    /// Shared so that compiled images keep them for listings without a copy.
    insts: Arc<[Inst]>,
    functions: Vec<FunctionFacts>,
    maps: Vec<MapDef>,
    kfuncs: Vec<String>,
    kfunc_protos: Vec<Option<KfuncProto>>,
    object_name: String,
    entry_args: u8,
}

impl VerifiedProgram {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn kind(&self) -> &ProgKind {
        &self.kind
    }
    /// ELF section the program came from.
    pub fn section(&self) -> &str {
        &self.section
    }
    /// The raw, linked instruction slots.
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }
    /// Typed instructions, one per slot (`LddwHigh` for second `lddw` slots).
    pub fn insts(&self) -> &[Inst] {
        &self.insts
    }
    /// The typed instructions as a shared handle (cloning it is O(1)).
    pub fn shared_insts(&self) -> Arc<[Inst]> {
        Arc::clone(&self.insts)
    }
    /// The functions, sorted by start pc; index 0 is the entry function.
    pub fn functions(&self) -> &[FunctionFacts] {
        &self.functions
    }
    /// Index of the function containing `pc` (pcs past the end map to the last function).
    pub fn function_at(&self, pc: usize) -> usize {
        self.functions
            .partition_point(|f| f.start <= pc)
            .saturating_sub(1)
    }
    /// The object's maps; `lddw` map immediates index these.
    pub fn maps(&self) -> &[MapDef] {
        &self.maps
    }
    /// The object's kfunc names; `CallTarget::Kfunc(i)` indexes these.
    pub fn kfuncs(&self) -> &[String] {
        &self.kfuncs
    }
    /// The BTF prototype of kfunc `index`, if the object had one (its
    /// arguments are then widened per the psABI at every call).
    pub fn kfunc_proto(&self, index: usize) -> Option<&KfuncProto> {
        self.kfunc_protos.get(index).and_then(Option::as_ref)
    }
    pub fn object_name(&self) -> &str {
        &self.object_name
    }
    /// Whether any tail call can run while this program is on the stack.
    pub fn tail_call_reachable(&self) -> bool {
        self.functions[0].tail_call_reachable
    }
    /// Argument registers the entry function was verified with (`VerifyEnv::entry_args`, at most 5).
    pub fn entry_args(&self) -> u8 {
        self.entry_args
    }
}

/// A rejection before the program name is attached.
#[derive(Clone, Debug)]
pub(crate) struct Reject {
    pub pc: Option<usize>,
    pub kind: VerifyErrorKind,
}

impl Reject {
    pub fn at(pc: usize, kind: VerifyErrorKind) -> Reject {
        Reject { pc: Some(pc), kind }
    }
    pub fn program(kind: VerifyErrorKind) -> Reject {
        Reject { pc: None, kind }
    }
}

/// Verifies program number `prog_index` of `obj`.
pub fn verify(
    obj: &Object,
    prog_index: usize,
    env: &VerifyEnv,
) -> Result<VerifiedProgram, VerifyError> {
    let Some(prog) = obj.programs.get(prog_index) else {
        return Err(VerifyError {
            program: format!("#{prog_index}"),
            pc: None,
            kind: VerifyErrorKind::NoSuchProgram {
                index: prog_index,
                count: obj.programs.len(),
            },
        });
    };
    let (insts, functions) = check(obj, prog, env).map_err(|r| VerifyError {
        program: prog.name.clone(),
        pc: r.pc,
        kind: r.kind,
    })?;
    Ok(VerifiedProgram {
        name: prog.name.clone(),
        kind: prog.kind.clone(),
        section: prog.section.clone(),
        insns: prog.insns.clone(),
        insts: insts.into(),
        functions,
        maps: obj.maps.clone(),
        kfuncs: obj.kfuncs.clone(),
        kfunc_protos: obj.kfunc_protos.clone(),
        object_name: obj.name.clone(),
        entry_args: env.entry_args.min(5),
    })
}

/// Runs every check; returns the typed instructions and the function facts.
fn check(
    obj: &Object,
    prog: &crate::object::Program,
    env: &VerifyEnv,
) -> Result<(Vec<Inst>, Vec<FunctionFacts>), Reject> {
    let insts = layout::decode(&prog.insns)?;
    let starts = layout::check_insts(&insts, obj, env)?;
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .copied()
        .chain([insts.len()])
        .collect();

    let mut names = Vec::with_capacity(starts.len());
    let mut btf_args = Vec::with_capacity(starts.len());
    let mut returns_int = Vec::with_capacity(starts.len());
    for &start in &starts {
        let info = prog.functions.iter().find(|f| f.start == start);
        names.push(match info {
            Some(f) => f.name.clone(),
            None if start == 0 => prog.name.clone(),
            None => format!("sub_{start}"),
        });
        btf_args.push(info.and_then(|f| f.arg_count));
        returns_int.push(info.and_then(|f| f.returns_int));
    }
    for (f, &start) in starts.iter().enumerate() {
        layout::check_jumps(&insts, &names[f], start, ends[f])?;
    }
    // Linux's rule: legacy packet loads end the *program* on failure, which
    // has no meaning inside a bpf2bpf callee, so they may not be mixed with
    // subprograms.
    if starts.len() > 1 {
        if let Some(pc) = insts
            .iter()
            .position(|i| matches!(i, Inst::LoadPacket { .. }))
        {
            return Err(Reject {
                pc: Some(pc),
                kind: VerifyErrorKind::LegacyPacketLoadWithCalls,
            });
        }
    }

    let functions = callgraph::Functions {
        insts: &insts,
        starts: &starts,
        ends: &ends,
        names: &names,
        returns_int: &returns_int,
    };
    let scan = callgraph::scan(&functions)?;
    let calls = &scan.calls;
    // For recursion, frame and stack limits a function's callbacks (helpers
    // run them on top of its frame) count like the functions it calls.
    let edges: Vec<CallSites> = calls
        .iter()
        .zip(&scan.callbacks)
        .map(|(c, b)| c.iter().chain(b).copied().collect())
        .collect();
    let order = callgraph::postorder(&edges, &names)?;

    // Dataflow, callees first so that callers know their argument counts.
    let entry_args = env.entry_args.min(5);
    let mut arg_count = vec![0u8; starts.len()];
    // What callers must provide: the argument registers a callee actually
    // reads before writing them. Not the BTF count: clang drops arguments of
    // static functions that it constant-propagates, while BTF keeps the
    // source prototype.
    let mut args_read = vec![0u8; starts.len()];
    // A kfunc with a BTF prototype reads exactly its declared arguments
    // (Linux checks each one is initialised, too).
    let kfunc_args = |k: u32| {
        obj.kfunc_proto(k as usize)
            .map(|p| p.args.len().min(5) as u8)
    };
    let mut stack_depth = vec![0u32; starts.len()];
    for &f in &order {
        let entry_init = if f == 0 {
            arg_bits(entry_args)
        } else {
            arg_bits(btf_args[f].unwrap_or(5))
        };
        let callee_args = |pc: usize| args_read[functions.index_of(pc)];
        let flow = dataflow::analyse(&dataflow::FunctionInput {
            kfunc_args: &kfunc_args,
            insts: &insts,
            name: &names[f],
            start: starts[f],
            end: ends[f],
            entry_init,
            callee_args: &callee_args,
            maps: &obj.maps,
        })?;
        args_read[f] = flow.highest_arg_read;
        arg_count[f] = if f == 0 {
            entry_args
        } else {
            btf_args[f].map_or(flow.highest_arg_read, |n| n.min(5))
        };
        stack_depth[f] = if flow.dynamic_stack {
            MAX_FRAME_STACK
        } else {
            flow.max_stack.div_ceil(16) * 16
        };
    }
    let has_tail_call = &scan.has_tail_call;
    callgraph::check_chains(&edges, &names, &stack_depth, has_tail_call, &order)?;
    let reachable = callgraph::tail_call_reachable(calls, has_tail_call, &order);

    let facts = (0..starts.len())
        .map(|f| {
            let (mut regs_read, mut regs_written) = (0u16, 0u16);
            for (pc, inst) in insts.iter().enumerate().take(ends[f]).skip(starts[f]) {
                let callee_args = match *inst {
                    Inst::Call(CallTarget::Local(off)) => Some(
                        args_read[functions.index_of(layout::rel_target(pc, off.into()) as usize)],
                    ),
                    Inst::Call(CallTarget::Kfunc(k)) => kfunc_args(k),
                    _ => None,
                };
                let e = effects(inst, callee_args);
                regs_read |= e.reads | e.may_read;
                regs_written |= e.writes;
            }
            let targets = |sites: &CallSites| {
                let mut v: Vec<usize> = sites.iter().map(|&(_, g)| g).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            FunctionFacts {
                name: names[f].clone(),
                start: starts[f],
                end: ends[f],
                stack_depth: stack_depth[f],
                arg_count: arg_count[f],
                callees: targets(&calls[f]),
                callbacks: targets(&scan.callbacks[f]),
                makes_calls: scan.makes_calls[f],
                makes_helper_calls: scan.makes_helper_calls[f],
                has_tail_call: has_tail_call[f],
                tail_call_reachable: reachable[f],
                regs_read,
                regs_written,
            }
        })
        .collect();
    Ok((insts, facts))
}
