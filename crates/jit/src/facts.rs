//! The JIT's view of a verified program: the verifier's per-function facts
//! plus two things derived here by explicit scans (map kinds, and which
//! functions call out of BPF code other than through `bpf_tail_call`).

use crate::regmap::HELPER_TAIL_CALL;
use rvbpf_ebpf::inst::{CallTarget, Inst};
use rvbpf_ebpf::object::{ArgWidening, MapKind};
use rvbpf_ebpf::verifier::{FunctionFacts, VerifiedProgram};

/// Everything lowering and layout read about the program.
#[derive(Clone, Debug)]
pub struct ProgramFacts<'a> {
    /// One typed instruction per slot (`LddwHigh` for second slots).
    pub insts: &'a [Inst],
    /// Entry first, sorted by start pc, tiling the program.
    pub functions: &'a [FunctionFacts],
    /// Kind of each map, by map index.
    pub map_kinds: Vec<MapKind>,
    /// Per function: it calls a helper (other than `bpf_tail_call`), a kfunc
    /// or callx, or loads from the packet the legacy way (`ldabs`/`ldind`),
    /// i.e. code that clobbers ra (and, except the packet load, the
    /// caller-saved registers).
    /// (The verifier's `makes_helper_calls` also counts the tail call, which
    /// needs neither ra nor a parked count.)
    pub calls_host: Vec<bool>,
    /// Per kfunc (index of `CallTarget::Kfunc`): how its argument registers
    /// are widened before the call (psABI); empty without a BTF prototype.
    pub kfunc_args: Vec<&'a [ArgWidening]>,
}

impl<'a> ProgramFacts<'a> {
    pub fn from_verified(prog: &'a VerifiedProgram) -> ProgramFacts<'a> {
        let insts = prog.insts();
        let functions = prog.functions();
        let calls_host = functions
            .iter()
            .map(|f| {
                // The verifier's facts settle most functions without a scan
                // of their instructions: no helper, kfunc or callx call (and
                // no legacy packet load: the verifier rejects those in a
                // program with subprograms), or such calls and no tail call
                // among them.
                if !f.makes_helper_calls && functions.len() > 1 {
                    return false;
                }
                if f.makes_helper_calls && !f.has_tail_call {
                    return true;
                }
                insts[f.start..f.end].iter().any(|i| {
                    matches!(
                        i,
                        Inst::Call(CallTarget::Kfunc(_))
                            | Inst::Callx { .. }
                            | Inst::LoadPacket { .. }
                    ) || matches!(i, Inst::Call(CallTarget::Helper(n)) if *n != HELPER_TAIL_CALL)
                })
            })
            .collect();
        ProgramFacts {
            insts,
            functions,
            map_kinds: prog.maps().iter().map(|m| m.kind).collect(),
            calls_host,
            kfunc_args: (0..prog.kfuncs().len())
                .map(|k| prog.kfunc_proto(k).map_or(&[][..], |p| &p.args[..]))
                .collect(),
        }
    }

    /// Index of the function starting at `pc`. Lowering checks first that
    /// the functions tile the program in order, so their starts are sorted
    /// and distinct: a binary search (a call per instruction must not scan
    /// every function).
    pub fn function_starting_at(&self, pc: usize) -> Option<usize> {
        self.functions.binary_search_by_key(&pc, |f| f.start).ok()
    }

    /// Does function `f` call anything (host code or another function)?
    pub fn calls_out(&self, f: usize) -> bool {
        self.calls_host[f] || !self.functions[f].callees.is_empty()
    }
}
