//! The single call site of the verifier: turns a program of an [`Object`]
//! into the per-function facts the runtime needs (stack size, argument
//! count). Everything verifier-specific stays in this file.
//!
//! Until the verifier lands this is a stand-in: every function gets the
//! maximum BPF stack (512 bytes) and its BTF argument count (5 when
//! unknown); the structural checks the engines rely on are done by
//! `interp::decode` in any case.

use super::RejectReason;
use crate::helpers::Registry;
use rvbpf_ebpf::object::Object;

/// BPF's per-call-chain stack limit, used as the stand-in frame size.
pub(crate) const MAX_BPF_STACK: u32 = 512;

/// What the runtime needs to know about one function.
#[derive(Clone, Debug)]
pub(crate) struct FuncFacts {
    pub name: String,
    pub start: usize,
    pub stack_depth: u32,
    pub arg_count: u8,
}

/// Verifies program `index` of `obj` against the registered helpers/kfuncs.
pub(crate) fn verify(
    obj: &Object,
    index: usize,
    _registry: &Registry,
) -> Result<Vec<FuncFacts>, RejectReason> {
    let prog = &obj.programs[index];
    Ok(prog
        .functions
        .iter()
        .map(|f| FuncFacts {
            name: f.name.clone(),
            start: f.start,
            stack_depth: MAX_BPF_STACK,
            arg_count: f.arg_count.unwrap_or(5).min(5),
        })
        .collect())
}
