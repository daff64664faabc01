//! Exact execution counters.

/// Exact event counts accumulated by a [`Hart`](super::Hart) across runs.
///
/// Every count is exact (no sampling): the JIT's tests use them to check
/// instruction counts and memory traffic of generated code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Instructions retired. A faulting instruction is not retired; an
    /// `ecall`/`ebreak` that stops the run is.
    pub instructions: u64,
    /// Data loads performed (`l*`, `lr`, and the read half of an AMO).
    pub loads: u64,
    /// Data stores performed (`s*`, a successful `sc`, and the write half of
    /// an AMO). A failed `sc` writes nothing and is not counted.
    pub stores: u64,
    /// Conditional branches whose condition held.
    pub taken_branches: u64,
    /// Unconditional jumps (`jal`, `jalr` and their compressed forms).
    pub jumps: u64,
    /// Entries into the host-call slots (each `Stop::HostCall` returned).
    pub host_calls: u64,
}
