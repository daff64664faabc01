//! The Rust side of host calls from JIT'd code: the state of the run in
//! progress, the helper/kfunc dispatcher and the packet-load routine.
//! Both sync memory around the call (the native mappings hold the truth
//! while JIT'd code runs, the runtime's `Memory` while host code runs) and
//! end the run through `rvbpf_native_abort` on error.

use super::arch::{rvbpf_native_abort, PacketLoad};
use super::code::CodeMap;
use super::memory::Mapped;
use crate::engine::code::CodeSpace;
use crate::engine::host::serve;
use crate::engine::TRACE_CTX_SLOT;
use crate::helpers::Registry;
use crate::vm::{Machine, ProgId, RunError, Stats};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, Ordering};

/// Everything a host call needs, for the run in progress.
pub(super) struct RunState<'a> {
    pub registry: &'a Registry,
    pub machine: &'a mut Machine,
    pub space: &'a CodeSpace,
    pub code: &'a CodeMap,
    pub mapped: &'a Mapped,
    pub stats: Stats,
    /// Why a host call ended the run (and the program it was called from).
    pub error: Option<(RunError, Option<ProgId>)>,
    /// Whether the runtime's `Memory` is newer than the native mappings
    /// (a host call failed after syncing memory out).
    pub memory_is_current: bool,
}

/// The run in progress (null between runs). Set and cleared by
/// `native::run` while it holds the engine's lock.
static CURRENT: AtomicPtr<RunState<'static>> = AtomicPtr::new(std::ptr::null_mut());

/// Makes `state` the run in progress until the returned guard is dropped;
/// the caller keeps `state` alive and untouched until then.
pub(super) fn set_current(state: &mut RunState<'_>) -> CurrentGuard {
    CURRENT.store((state as *mut RunState<'_>).cast(), Ordering::SeqCst);
    CurrentGuard
}

/// Clears the run in progress when dropped.
pub(super) struct CurrentGuard;

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.store(std::ptr::null_mut(), Ordering::SeqCst);
    }
}

/// Runs `f` on the run in progress, with memory synced out before and in
/// after; records an error and returns `None` when it (or the sync) fails.
fn with_state<T>(
    jit_sp: u64,
    ra: u64,
    f: impl FnOnce(&mut RunState<'_>, usize) -> Result<T, RunError>,
) -> Option<T> {
    let ptr = CURRENT.load(Ordering::SeqCst);
    // SAFETY: `ptr` was set by `set_current` from a `&mut RunState` that
    // outlives the run (its guard is dropped only after
    // `rvbpf_native_enter` returned), nobody else touches that state during
    // the run, and host calls happen only during the run, on its thread.
    let state = unsafe { ptr.as_mut() }?;
    // ra points just past the `jalr` of the call: ra - 2 lies inside it.
    let at = state.code.bpf_pc(state.space, ra.wrapping_sub(2));
    let pc = at.map_or(0, |a| a.1);
    let prog = at.map(|a| ProgId(a.0));
    // The BPF stack is the native stack's mirror in the sandbox.
    let stack_low = jit_sp % rvbpf_jit::SANDBOX_SIZE;
    state
        .mapped
        .sync_to_runtime(&mut state.machine.mem, stack_low);
    let r = catch_unwind(AssertUnwindSafe(|| f(state, pc))).unwrap_or_else(|_| {
        Err(RunError::EngineUnavailable(
            "a host function panicked during a native run".into(),
        ))
    });
    let r = r.and_then(|v| {
        state
            .mapped
            .sync_from_runtime(&state.machine.mem, stack_low)
            .map(|()| v)
    });
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            state.error = Some((e, prog));
            state.memory_is_current = true;
            None
        }
    }
}

/// The host-call dispatcher (`rvbpf_native_host_call` calls it on the host
/// stack): serves helper/kfunc `slot` with the C arguments at `args`, like
/// the emulated engine (`engine::host::serve`).
pub(super) extern "C" fn host_call(slot: u64, args: *const [u64; 8], jit_sp: u64, ra: u64) -> u64 {
    // SAFETY: the assembly passes a pointer to the 8 argument registers it
    // stored on the host stack just before the call.
    let args = unsafe { *args };
    if slot == u64::from(TRACE_CTX_SLOT) {
        // A trampoline publishing a tracer's ctx array (a0 = array on the
        // native stack, a1 = number of u64s); no memory to sync.
        return with_state(jit_sp, ra, |s, _| {
            Ok(s.mapped.publish_trace_ctx(args[0], args[1]))
        })
        // SAFETY: as below.
        .unwrap_or_else(|| unsafe { rvbpf_native_abort() });
    }
    let r = with_state(jit_sp, ra, |s, pc| {
        let views = &s.code.views;
        serve(
            slot as u32,
            args,
            pc,
            views,
            s.registry,
            s.machine,
            &mut s.stats,
        )
    });
    match r {
        Some(v) => v,
        // SAFETY: a run is in progress (we were called from JIT code) and
        // this frame holds nothing that needs dropping.
        None => unsafe { rvbpf_native_abort() },
    }
}

/// The legacy packet-load routine (`rvbpf_native_load_packet` calls it):
/// the interpreter's own load, so bounds and byte order are its.
pub(super) extern "C" fn load_packet(off: u64, size: u64, jit_sp: u64, ra: u64) -> PacketLoad {
    let r = with_state(jit_sp, ra, |s, pc| {
        crate::interp::load_packet_at(&mut s.machine.mem, size as u8, off as i64)
            .map_err(|f| RunError::from_fault(pc, f))
    });
    match r {
        Some(v) => PacketLoad {
            value: v.unwrap_or(0),
            ok: u64::from(v.is_some()),
        },
        // SAFETY: as in `host_call`.
        None => unsafe { rvbpf_native_abort() },
    }
}
