//! rvbpf runtime: maps, helpers, memory model, engines (interpreter, JIT in
//! the emulator, native) behind one `Vm` API.
#![deny(unsafe_op_in_unsafe_fn)]

pub use rvbpf_ebpf as ebpf;
pub use rvbpf_rv64 as rv64;
