//! The native JIT engine (riscv64 Linux only): programs compiled by
//! `rvbpf-jit` run as real machine code in this process, against the same
//! memory, maps and helpers as the interpreter and the emulated engine.
//!
//! # Address space
//!
//! Code is always compiled with `Sandbox::Masked` (the engine forces it):
//! every load, store and atomic not based on R10 reaches
//! `(addr) mod 2^36`. On first use the engine reserves
//! `[SANDBOX_LOW = 64 KiB, 2^36)` for the rest of the process (`PROT_NONE`,
//! `MAP_NORESERVE`, `MAP_FIXED_NOREPLACE`); for each run it maps the
//! runtime's regions (`crate::memory`: ctx, packet, map descriptors, stack,
//! map values) **at their VM addresses** inside it, so pointer values are
//! the interpreter's and the images need no change. Anything else a masked
//! pointer can reach is `PROT_NONE` and faults. The code, the literal
//! pools, the prog-array views and all host data lie above `2^36`.
//!
//! ```text
//!  [64 KiB, 2^36)   reserved PROT_NONE; per run, at their VM addresses:
//!                   ctx, packet, map descriptors (read-only), the VM
//!                   stack region (the BPF stack), map values
//!  2^36 + [STACK_BASE, STACK_TOP)
//!                   the native stack (sp starts at its top): control data
//!                   only; the prologue's masked R10 mirrors it into the
//!                   VM stack region, out of reach of return addresses
//!  mmap(NULL) high  code.rs: images (linked at their real addresses),
//!                   tail-call thunks, host-call stubs (RX); counters and
//!                   prog-array views (RW, next page)
//! ```
//!
//! Region bytes are **copied**: into the mappings before the run, back
//! after it, and around every host call (helpers and kfuncs are the
//! interpreter's Rust functions over `Memory`): out before the call, in
//! after it. Only the live part of the BPF stack (`[sp mod 2^36, top)`) is
//! copied; the other regions are copied whole, so a host call costs O(size
//! of the writable regions) (a smarter scheme, e.g. sharing the pages with
//! `Memory`, is future work). Measured under qemu-riscv64 on a shared
//! 2-core x86 host (100k `bpf_get_prandom_u32` calls, small regions): about
//! 2 µs per host call natively vs 1.4 µs in the emulator; the one-time 64
//! GiB reservation costs ~0.7 s under qemu (which tracks guest pages), a
//! single `mmap` on hardware. Regions end on a page boundary natively, so
//! an access just past a region's end, within its last page, reads the
//! page's padding instead of faulting as on the other engines.
//!
//! # Calls into the host (`arch.rs`, `dispatch.rs`)
//!
//! `rvbpf_native_enter` (assembly) saves the host's callee-saved registers
//! and sp, switches sp to the native stack's top and calls the entry
//! function. Each helper/kfunc/`callx` literal-pool slot points at a
//! 32-byte stub that puts its host-call slot number (the emulated engine's
//! numbering) in t0 and jumps to one routine, which switches back to the
//! host stack and calls the Rust dispatcher (`engine::host::serve`, shared
//! with the emulated engine). `ldabs`/`ldind` call a routine that keeps its
//! own convention (every register but a5/t0 preserved) and runs the
//! interpreter's packet load. A failing host call records its `RunError`
//! and calls `rvbpf_native_abort`, which restores the saved registers and
//! returns from `rvbpf_native_enter`: a hand-written longjmp that never
//! unwinds through JIT frames (the Rust frames it skips hold nothing to
//! drop).
//!
//! Host calls follow the C ABI: caller-saved registers, a6 (the tail-call
//! count) included, may come back changed. (An earlier version preserved
//! a6 and hid a JIT bug that `tests/diff_random.rs` found under qemu: an
//! entry function did not park the count across a helper call although a
//! tail call from another program's subprogram may have entered it. The
//! JIT now parks it, and the emulated engine clobbers caller-saved
//! registers on host calls so the emulator catches such bugs too.)
//!
//! # Faults (`fault.rs`)
//!
//! While a run is in progress a SIGSEGV/SIGBUS/SIGILL handler turns a fault
//! whose pc lies in the code mapping into a resume at `rvbpf_native_abort`;
//! the run then fails with `OutOfBounds` / `ReadOnly` (the BPF pc from
//! `Image::pc_at`, the kernel's fault address and the size and direction
//! decoded from the faulting instruction), or `EngineUnavailable` for an
//! illegal instruction (a target extension the CPU lacks). Signals from
//! elsewhere go to the previous handler. The address is the masked one.
//!
//! # Runs
//!
//! Regions live at fixed addresses, so native runs are serialised by a
//! process-wide lock (runs of different `Vm`s on different threads wait
//! for each other). Tail calls go through prog-array views whose entries
//! are counting thunks (`engine::code::thunk_code`), as on the emulated
//! engine.
//!
//! # Trampolines (`attach.rs`)
//!
//! fentry/fexit work as on the emulated engine: per traced function two
//! trampolines (direct entry through the patch site, bpf2bpf calls through
//! retargeted call sites) written into the code mapping before it becomes
//! executable; tracers' ctx arrays are published into a read-only page at
//! `TRACE_CTX_BASE` through the host-call slot `TRACE_CTX_SLOT`.
//!
//! # Engines (`cpu.rs`)
//!
//! `Engine::all()` lists rv64gc with every tail-call scheme and rv64g, and
//! the same with Zba/Zbb when a one-time probe finds them (one Zba and one
//! Zbb instruction run through this engine's entry; SIGILL means no). Code
//! for an extension the CPU lacks ends a run with `EngineUnavailable`.
//!
//! # Not supported natively
//!
//! * **No instruction count**: the Vm's budget becomes a limit on the
//!   run's thread CPU time (`budget.rs`: 200 ms + 50 ns per budgeted
//!   instruction), so `BudgetExhausted` comes late and at whatever pc the
//!   timer hit (so two runs of the same looping program may report
//!   different pcs).
//! * `Stats::insns_retired`, `loads`, `stores` (emulator counters) stay 0;
//!   `helper_calls`, `kfunc_calls`, `tail_calls` and `code_bytes` are exact.
//! * Per-frame stack bounds are the verifier's (as on the emulated engine).

mod arch;
mod attach;
mod budget;
mod code;
mod cpu;
mod dispatch;
mod fault;
mod memory;

use super::code::{CodeSpace, JitCache};
use super::JitConfig;
use crate::memory::{Access, STACK_BASE};
use crate::vm::{Outcome, ProgId, RunError, Stats, Vm};
use code::CodeMap;
use dispatch::RunState;
use memory::Mapped;
use rvbpf_jit::Sandbox;
use std::sync::Mutex;

pub(crate) use cpu::supports as cpu_supports;

/// Serialises native runs (and CPU probes): their regions live at fixed
/// process addresses, the fault handlers' state is process-wide.
static NATIVE_LOCK: Mutex<()> = Mutex::new(());

/// Runs `prog` compiled with `cfg` (always masked) natively with a0..a4 =
/// `args`. On failure also returns the program executing then.
pub(crate) fn run(
    vm: &mut Vm,
    prog: ProgId,
    args: [u64; 5],
    cfg: JitConfig,
) -> Result<Outcome, (RunError, ProgId)> {
    let cfg = JitConfig {
        sandbox: Sandbox::Masked,
        ..cfg
    };
    let _lock = NATIVE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    memory::reserve_sandbox().map_err(|e| (e, prog))?;
    let stack_top = memory::reserve_native_stack().map_err(|e| (e, prog))?;
    let space = JitCache::take(vm, cfg);
    let r = run_in(vm, &space, prog, args, stack_top);
    JitCache::put(vm, cfg, space);
    r
}

fn run_in(
    vm: &mut Vm,
    space: &CodeSpace,
    prog: ProgId,
    args: [u64; 5],
    stack_top: u64,
) -> Result<Outcome, (RunError, ProgId)> {
    if let Some(Err(e)) = space.images.get(prog.0 as usize) {
        let why = format!("the JIT cannot compile this program: {e}");
        return Err((RunError::EngineUnavailable(why), prog));
    }
    let code = CodeMap::build(vm, space).map_err(|e| (e, prog))?;
    let Some(entry) = code.entry(space, prog.0 as usize) else {
        return Err((RunError::NoSuchProgram(prog.0), prog));
    };
    // JIT frames are not the interpreter's: helpers may touch the whole stack.
    vm.machine.mem.set_stack_floor(STACK_BASE);
    let mapped = Mapped::map(&vm.machine.mem).map_err(|e| (e, prog))?;
    let budget = vm.insn_budget();
    let mut state = RunState {
        registry: &vm.registry,
        machine: &mut vm.machine,
        space,
        code: &code,
        mapped: &mapped,
        stats: Stats::default(),
        error: None,
        memory_is_current: false,
    };
    let ret = {
        let _current = dispatch::set_current(&mut state);
        let _handlers = fault::install(code.code_range());
        let _timer = budget::Timer::start(budget::limit(budget));
        // SAFETY: `entry` is the entry function of an image linked into
        // the RX code mapping; the native stack is mapped RW below
        // `stack_top` (its mirror, the VM stack region, too); host calls
        // and faults during the run find their state through
        // `set_current` and the installed handlers, both alive until this
        // block ends.
        unsafe { arch::rvbpf_native_enter(entry, args.as_ptr(), stack_top) }
    };
    let fault = fault::take();
    if !state.memory_is_current {
        mapped.sync_to_runtime(&mut state.machine.mem, STACK_BASE);
    }
    let mut stats = state.stats;
    let error = state.error.take();
    stats.tail_calls = code.tail_calls();
    stats.tracer_runs = code.tracer_runs();
    stats.code_bytes = code.code_bytes;
    if let Some((e, at)) = error {
        return Err((e, at.unwrap_or(prog)));
    }
    if let Some(f) = fault {
        return Err(fault_error(f, &code, space, &mapped, prog));
    }
    Ok(Outcome { ret, stats })
}

/// Translates a fault in JIT'd code into the runtime's error, naming the
/// BPF program and pc of the faulting instruction.
fn fault_error(
    f: fault::Fault,
    code: &CodeMap,
    space: &CodeSpace,
    mapped: &Mapped,
    prog: ProgId,
) -> (RunError, ProgId) {
    let (pc, p) = code
        .bpf_pc(space, f.pc)
        .map_or((0, prog), |(p, pc)| (pc, ProgId(p)));
    let access = code.word_at(f.pc).and_then(fault::access_of);
    let err = match access {
        _ if f.signal == libc::SIGALRM => RunError::BudgetExhausted { pc },
        _ if f.signal == libc::SIGILL => RunError::EngineUnavailable(format!(
            "native engine: illegal instruction at {:#x} (BPF pc {pc}): the CPU lacks an \
             extension the code was compiled for",
            f.pc
        )),
        Some((true, size)) if mapped.is_read_only(f.addr, size) => RunError::ReadOnly {
            pc,
            addr: f.addr,
            size,
        },
        Some((write, size)) => RunError::OutOfBounds {
            pc,
            addr: f.addr,
            size,
            access: if write { Access::Write } else { Access::Read },
        },
        None => RunError::EngineUnavailable(format!(
            "native engine: signal {} at {:#x} (BPF pc {pc}), address {:#x}",
            f.signal, f.pc, f.addr
        )),
    };
    (err, p)
}
