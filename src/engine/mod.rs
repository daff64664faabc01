//! The emulated JIT engine: programs compiled by `rvbpf-jit` run as RV64
//! code in the `rvbpf-rv64` emulator, against the same memory, maps and
//! helpers as the interpreter.
//!
//! # Address space of a JIT run
//!
//! ```text
//!  0x1000_0000 ..           ctx, packet, map descriptors, stack, map values:
//!                           the runtime's own regions (crate::memory), their
//!                           `Vec<u8>` storage lent to the emulator for the
//!                           run (zero-copy) and taken back afterwards
//!  JIT_DATA_BASE            RW: run counters (successful tail calls, tracer
//!                           runs)
//!   + VIEWS_OFFSET          R: one prog-array view per prog array (BPF code
//!                           must not forge a tail call's jump target)
//!  HOST_CALL_BASE           host-call slots: helper n = slot n, kfunc k =
//!                           slot KFUNC_SLOT0 + k, `callx` dispatcher
//!  CODE_BASE                X: every loaded program's image (16-aligned),
//!                           then one tail-call thunk per program
//! ```
//!
//! # Tail calls
//!
//! The JIT's inline tail-call sequence jumps to `entry[index] + 12`. A view
//! entry is not the target's image but its *thunk*: 12 bytes of padding,
//! then code that increments the run's tail-call counter (for
//! `Stats::tail_calls`, exact and scheme-independent) and jumps to the
//! target's `TAIL_CALL_ENTRY_OFFSET`. The thunk only uses t0 and t2, which
//! the tail-call sequence no longer needs; a6 (the count or pointer) passes
//! through untouched, so the budget semantics are exactly the JIT's.
//!
//! Views are filled at the start of every run from the runtime's prog
//! arrays (BPF code cannot modify a prog array; a host thread rewriting a
//! slot during a run is seen by the next run, which always sees whole
//! programs).
//!
//! # Errors
//!
//! Emulator faults become the interpreter's `RunError`s: the faulting RV64
//! address is mapped back to (program, BPF pc) with `Image::pc_at`, the
//! access address and size are the emulator's, and a write into a read-only
//! runtime region is `ReadOnly`. Two checks are the interpreter's alone:
//! per-frame stack bounds (JIT frames are laid out differently; the JIT
//! relies on the verifier and only the stack region's ends fault) and the
//! pc at which the budget runs out (budgets are counted in different units).
//!
//! # Budget and statistics
//!
//! The Vm's instruction budget is charged in **RV64 instructions** on this
//! engine (helpers are free, like on the interpreter). `Stats::insns_executed`
//! and `Stats::bpf2bpf_calls` stay 0 (interpreter-only); `insns_retired`,
//! `loads`, `stores` and `code_bytes` are the emulator's exact counters.
//!
//! # Trampolines
//!
//! fentry/fexit attachments are applied by patching the compiled code before
//! a run (`attach.rs`, code generation in `rvbpf_jit::trampoline`): the
//! traced function's patch site for direct entries, its bpf2bpf call sites
//! for calls. A trampoline builds the tracer's ctx array in its stack frame
//! and publishes it through a host call into a read-only region at
//! `TRACE_CTX_BASE`, so tracers see the interpreter's ctx address and a
//! write to it faults the same way. (That region is always 48 bytes: a
//! read past the array, which the verifier rejects, is not caught.)
//!
//! # Legacy packet loads
//!
//! `ldabs`/`ldind` call the host-call slot [`PACKET_LOAD_SLOT`], served with
//! the interpreter's own packet load (`interp::load_packet_at`), so the
//! bounds, byte order and "out of range ends the program with R0 = 0" are
//! the interpreter's by construction.
//!
//! # Not supported
//!
//! * programs the JIT cannot compile (legacy `ldabs`/`ldind` in a program
//!   with bpf2bpf functions): a run fails with `RunError::EngineUnavailable`;
//!   as a tail-call target such a program is an empty slot.

mod attach;
mod code;
mod host;
#[cfg(all(target_arch = "riscv64", target_os = "linux"))]
#[allow(unsafe_code)] // mmap, signals, calling generated code: see its docs
mod native;
pub(crate) mod run;

/// Whether this build has the native engine ([`crate::Engine::Native`]):
/// riscv64 Linux only.
pub const NATIVE_AVAILABLE: bool = cfg!(all(target_arch = "riscv64", target_os = "linux"));

/// Whether this CPU runs code compiled for `target` natively: always for
/// rv64g/rv64gc, for Zba/Zbb when a one-time probe finds them.
#[cfg(all(target_arch = "riscv64", target_os = "linux"))]
pub(crate) fn native_supports(target: Target) -> bool {
    native::cpu_supports(target)
}

/// Runs `prog` on the native engine (the JIT'd code called directly; see
/// `engine/native/mod.rs`). On other hosts: `RunError::EngineUnavailable`.
pub(crate) fn native_run(
    vm: &mut crate::vm::Vm,
    prog: crate::vm::ProgId,
    args: [u64; 5],
    cfg: JitConfig,
) -> Result<crate::vm::Outcome, (crate::vm::RunError, crate::vm::ProgId)> {
    #[cfg(all(target_arch = "riscv64", target_os = "linux"))]
    return native::run(vm, prog, args, cfg);
    #[cfg(not(all(target_arch = "riscv64", target_os = "linux")))]
    {
        let _ = (vm, args, cfg);
        let why = "the native engine runs on riscv64 Linux only".to_string();
        Err((crate::vm::RunError::EngineUnavailable(why), prog))
    }
}

pub(crate) use code::JitCache;

use rvbpf_jit::{Sandbox, TccScheme};
use rvbpf_rv64::Target;

/// Base of the JIT's data region (counters, prog-array views).
pub const JIT_DATA_BASE: u64 = 0x6000_0000;
/// Base of the host-call slots.
pub const HOST_CALL_BASE: u64 = 0x7000_0000;
/// Base of the code region.
pub const CODE_BASE: u64 = 0x8000_0000;
/// Host-call slot of kfunc registry id 0.
pub const KFUNC_SLOT0: u32 = 0x1_0000;
/// Host-call slot of the `callx` dispatcher (helper number in a5).
pub const DISPATCH_SLOT: u32 = 0x2_0000;
/// Host-call slot trampolines use to publish a tracer's ctx array into the
/// read-only trace-ctx region (`a0` = array, `a1` = u64 count → address).
pub const TRACE_CTX_SLOT: u32 = 0x2_0001;
/// Host-call slot of the legacy packet-load routine (`ldabs`/`ldind`,
/// `rvbpf_jit::RelocKind::LoadPacket`): offset in t0, size in t2; sets a5 =
/// value (0 when out of range) and t0 = ok flag, nothing else.
pub const PACKET_LOAD_SLOT: u32 = 0x2_0002;
/// Bytes of the trace-ctx region (5 arguments and a return value).
pub const TRACE_CTX_SIZE: u64 = 48;

/// One JIT configuration: target ISA, tail-call counter scheme, memory
/// confinement and compiler tier. With [`Tier::Baseline`](rvbpf_jit::Tier)
/// a program the baseline compiler reports `JitError::Unsupported` for
/// (other tail-call schemes, masking, `ldabs`/`ldind`, ...; see
/// `rvbpf_jit::compile_baseline`) is compiled by the optimizing JIT
/// instead, so every program still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JitConfig {
    pub target: Target,
    pub tcc: TccScheme,
    /// `Sandbox::Masked` code runs on this engine too: the emulator's
    /// regions still check every access, so the masking must not change
    /// any result (every BPF region lies below `2^SANDBOX_BITS`, see
    /// `crate::memory`).
    pub sandbox: Sandbox,
    /// Which compiler produces the code (the optimizing one by default).
    pub tier: rvbpf_jit::Tier,
}

impl Default for JitConfig {
    fn default() -> Self {
        let o = rvbpf_jit::JitOptions::default();
        JitConfig {
            target: o.target,
            tcc: o.tcc,
            sandbox: o.sandbox,
            tier: rvbpf_jit::Tier::Optimizing,
        }
    }
}

impl JitConfig {
    /// The compiler options of this configuration.
    pub fn options(self) -> rvbpf_jit::JitOptions {
        rvbpf_jit::JitOptions {
            target: self.target,
            tcc: self.tcc,
            sandbox: self.sandbox,
        }
    }
}

/// The four targets every JIT test runs on.
pub const TARGETS: [Target; 4] = [
    Target::RV64G,
    Target::RV64GC,
    Target {
        c: false,
        zba: true,
        zbb: true,
    },
    Target::RV64GC_ZBA_ZBB,
];

/// The three tail-call counter schemes.
pub const SCHEMES: [TccScheme; 3] = [TccScheme::Reg, TccScheme::Stack, TccScheme::Ptr];
