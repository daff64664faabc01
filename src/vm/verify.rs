//! The single call site of the verifier: turns a program of an [`Object`]
//! into the per-function facts the runtime needs (start, stack size,
//! argument count). Everything verifier-specific stays in this file.

use super::RejectReason;
use crate::helpers::Registry;
use rvbpf_ebpf::object::{Object, ProgKind};
use rvbpf_ebpf::verifier::{self, VerifyEnv};

/// What the runtime needs to know about one function.
#[derive(Clone, Debug)]
pub(crate) struct FuncFacts {
    pub name: String,
    pub start: usize,
    /// Bytes of stack below r10 (rounded up to 16 by the verifier).
    pub stack_depth: u32,
    /// Arguments (from BTF, else inferred) — what a trampoline passes on.
    pub arg_count: u8,
}

/// Argument registers a program's entry receives: the ctx, plus the input
/// length for raw programs (the conformance convention r1 = mem, r2 = len).
fn entry_args(kind: &ProgKind) -> u8 {
    match kind {
        ProgKind::Other => 2,
        _ => 1,
    }
}

/// Verifies program `index` of `obj` against the registered helpers/kfuncs.
pub(crate) fn verify(
    obj: &Object,
    index: usize,
    registry: &Registry,
) -> Result<Vec<FuncFacts>, RejectReason> {
    Ok(verified_program(obj, index, registry)?
        .functions()
        .iter()
        .map(|f| FuncFacts {
            name: f.name.clone(),
            start: f.start,
            stack_depth: f.stack_depth,
            arg_count: f.arg_count.min(5),
        })
        .collect())
}

/// Verifies program `index` of `obj` and returns the full verified program
/// (the JIT's input and the CLI's facts; the runtime keeps only
/// [`FuncFacts`], so callers verify again when they need more).
pub(crate) fn verified_program(
    obj: &Object,
    index: usize,
    registry: &Registry,
) -> Result<verifier::VerifiedProgram, RejectReason> {
    let helper_known = |id: i32| registry.helper_known(id);
    let kfunc_known = |name: &str| registry.kfunc_known(name);
    let env = VerifyEnv {
        helper_known: &helper_known,
        kfunc_known: &kfunc_known,
        entry_args: entry_args(&obj.programs[index].kind),
    };
    Ok(verifier::verify(obj, index, &env)?)
}
