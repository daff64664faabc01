//! fentry/fexit natively: the emulated engine's scheme (`engine::attach`)
//! applied to the native code mapping while it is still writable. Per
//! traced function two trampolines (`rvbpf_jit::trampoline`) are written
//! after the stubs — one for direct entries, reached through the
//! function's patch site, one for bpf2bpf calls, reached by retargeting
//! its call sites — and tracers get their ctx array published into the
//! read-only trace-ctx page through the host-call slot `TRACE_CTX_SLOT`.

use crate::engine::code::CodeSpace;
use crate::vm::{RunError, Vm};
use rvbpf_jit::trampoline::{
    local_call_sites, patch_site, retarget_call, trampoline, TrampolineSpec,
};
use rvbpf_jit::TAIL_CALL_ENTRY_OFFSET;

/// Offset of the tail-call counter init inside a function header.
const TCC_INIT_OFFSET: u64 = 8;

/// Bytes reserved for one trampoline with `tracers` fentry + fexit
/// programs (4-byte instructions: a fixed part, and per tracer at most a
/// publish call, the call and the run count; checked when writing).
pub(super) fn trampoline_bound(tracers: usize) -> u64 {
    256 + 96 * tracers as u64
}

/// Bytes to reserve for all trampolines of `vm`'s attachments.
pub(super) fn trampolines_bound(vm: &Vm) -> u64 {
    vm.progs
        .iter()
        .flat_map(|p| &p.funcs)
        .filter(|f| f.traced())
        .map(|f| 2 * trampoline_bound(f.fentry.len() + f.fexit.len()))
        .sum()
}

/// Where things are in the code mapping being built.
pub(super) struct Layout<'a> {
    /// Address of the mapping's first byte (`mem[0]`).
    pub base: u64,
    /// Per program: address of its image.
    pub image_at: &'a [u64],
    /// Where trampolines may be written: `[start, end)` (addresses).
    pub free: std::ops::Range<u64>,
    /// The tracer-run counter.
    pub run_counter: u64,
    /// The stub of `TRACE_CTX_SLOT`.
    pub ctx_publisher: u64,
}

/// Writes the trampolines of `vm`'s attachments into `mem` (the mapping
/// at `layout.base`) and patches the traced functions to reach them;
/// returns the bytes of trampoline code written.
pub(super) fn apply(
    vm: &Vm,
    space: &CodeSpace,
    layout: &Layout<'_>,
    mem: &mut [u8],
) -> Result<u64, RunError> {
    let fail = |e: rvbpf_jit::trampoline::TrampolineError| {
        RunError::EngineUnavailable(format!("native trampoline: {e}"))
    };
    let mut next = layout.free.start;
    let mut written = 0u64;
    let write = |mem: &mut [u8], at: u64, bytes: &[u8]| {
        let o = (at - layout.base) as usize;
        mem[o..o + bytes.len()].copy_from_slice(bytes);
    };
    for (p, lp) in vm.progs.iter().enumerate() {
        let Ok(img) = &space.images[p] else { continue };
        if !lp.funcs.iter().any(|f| f.traced()) {
            continue;
        }
        let sites = local_call_sites(img);
        for (i, f) in lp.funcs.iter().enumerate().filter(|(_, f)| f.traced()) {
            let Some(func) = img.functions.get(i) else {
                continue;
            };
            let func_addr = layout.image_at[p] + func.offset as u64;
            let entry_of = |t: &crate::vm::ProgId| match space.images.get(t.0 as usize) {
                Some(Ok(ti)) => Ok(layout.image_at[t.0 as usize] + ti.entry() as u64),
                _ => Err(RunError::EngineUnavailable(
                    "the JIT cannot compile a tracer".into(),
                )),
            };
            let mut spec = TrampolineSpec {
                at: next,
                original: func_addr + TCC_INIT_OFFSET,
                fentry: f.fentry.iter().map(entry_of).collect::<Result<_, _>>()?,
                fexit: f.fexit.iter().map(entry_of).collect::<Result<_, _>>()?,
                arg_count: f.arg_count,
                run_counter: Some(layout.run_counter),
                ctx_publisher: Some(layout.ctx_publisher),
            };
            let bound = trampoline_bound(spec.fentry.len() + spec.fexit.len());
            for direct in [true, false] {
                spec.at = next;
                spec.original = func_addr
                    + if direct {
                        TCC_INIT_OFFSET
                    } else {
                        TAIL_CALL_ENTRY_OFFSET as u64
                    };
                let code = trampoline(&spec).map_err(fail)?;
                if code.len() as u64 > bound || next + bound > layout.free.end {
                    return Err(RunError::EngineUnavailable(format!(
                        "native trampoline of {} bytes exceeds its reserved {bound}",
                        code.len()
                    )));
                }
                write(mem, next, &code);
                written += code.len() as u64;
                if direct {
                    write(mem, func_addr, &patch_site(func_addr, next).map_err(fail)?);
                } else {
                    for s in sites.iter().filter(|s| s.callee == i) {
                        let at = layout.image_at[p] + s.offset as u64;
                        write(mem, at, &retarget_call(s, at, next).map_err(fail)?);
                    }
                }
                next += bound;
            }
        }
    }
    Ok(written)
}
