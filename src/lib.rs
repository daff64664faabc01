//! rvbpf runtime: everything between a verified program and its [`Outcome`].
//!
//! | module | job |
//! |---|---|
//! | [`memory`] | the VM address space: regions at fixed VM addresses, bounds-checked access |
//! | [`maps`] | array, hash, prog-array and global-data maps with values in VM memory |
//! | [`helpers`] | helper registry (by Linux number), kfuncs (by name), `trace_printk` |
//! | [`vm`] | the [`Vm`] API: load, lookup, maps, globals, attach, run on an [`Engine`] |
//! | [`interp`] | the reference interpreter (pre-decoded ops, frames, tail calls, trampolines) |
//! | [`conformance`] | runner for the `.data` conformance suites on every engine |
//!
//! The CLI lives in `src/cli/` and `src/main.rs`; the BPF language (ELF
//! loader, verifier, assembler) in the `rvbpf-ebpf` crate, re-exported as [`ebpf`].
#![deny(unsafe_op_in_unsafe_fn)]
// Only the native engine (engine/native, riscv64 Linux) may use unsafe.
#![deny(unsafe_code)]

pub mod conformance;
pub mod engine;
pub mod helpers;
pub mod interp;
pub mod maps;
pub mod memory;
pub mod vm;

pub use rvbpf_ebpf as ebpf;
pub use rvbpf_rv64 as rv64;

pub use engine::JitConfig;
pub use helpers::{HelperEnv, HelperError};
pub use maps::{MapError, MapId, ProgArrayHandle};
pub use memory::Access;
pub use vm::{
    AttachId, Ctx, CtxLayout, Engine, Error, GlobalEntry, GlobalValue, LoadOptions, ObjectId,
    Outcome, ProgId, RunError, Stats, Vm,
};
