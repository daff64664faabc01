//! Trampolines on the JIT engine: before each run the code space's patches
//! are brought in line with the Vm's attachments — previous patches are
//! reverted (original bytes written back), trampolines regenerated after
//! the thunks, and every traced function's patch site and bpf2bpf call
//! sites rewritten to reach them. The traced code itself is never
//! recompiled (see `rvbpf_jit::trampoline`).

use super::code::{CodeSpace, TRACER_RUN_COUNTER};
use super::{CODE_BASE, HOST_CALL_BASE, JIT_DATA_BASE, TRACE_CTX_SLOT};
use crate::vm::{ProgId, RunError, Vm};
use rvbpf_jit::trampoline::{
    local_call_sites, patch_site, retarget_call, trampoline, TrampolineSpec,
};
use rvbpf_jit::TAIL_CALL_ENTRY_OFFSET;

/// Offset of the tail-call counter init inside a function header.
const TCC_INIT_OFFSET: u64 = 8;

impl CodeSpace {
    /// Writes `bytes` at code offset `at`, remembering what was there.
    fn patch(&mut self, at: usize, bytes: &[u8]) {
        let old = self.code[at..at + bytes.len()].to_vec();
        self.code[at..at + bytes.len()].copy_from_slice(bytes);
        self.patches.push((at, old));
    }

    /// Reverts every patch (newest first) and drops the trampolines.
    fn unpatch(&mut self) {
        while let Some((at, old)) = self.patches.pop() {
            self.code[at..at + old.len()].copy_from_slice(&old);
        }
        self.code.truncate(self.base_len);
    }

    /// Appends `bytes` at the next 16-byte boundary; returns their address.
    fn append(&mut self, bytes: &[u8]) -> u64 {
        let at = self.code.len().next_multiple_of(16);
        self.code.resize(at, 0);
        self.code.extend_from_slice(bytes);
        CODE_BASE + at as u64
    }

    /// Where the next appended code will start.
    fn next_addr(&self) -> u64 {
        CODE_BASE + self.code.len().next_multiple_of(16) as u64
    }
}

/// Brings `space`'s trampolines in line with `vm`'s attachments.
pub(crate) fn sync_trampolines(vm: &Vm, space: &mut CodeSpace) -> Result<(), (RunError, ProgId)> {
    space.unpatch();
    let counter = Some(JIT_DATA_BASE + TRACER_RUN_COUNTER);
    for (p, lp) in vm.progs.iter().enumerate() {
        let Ok(img) = &space.images[p] else { continue };
        if !lp.funcs.iter().any(|f| f.traced()) {
            continue;
        }
        let sites = local_call_sites(img);
        let func_offsets: Vec<usize> = img.functions.iter().map(|f| f.offset).collect();
        for (i, f) in lp.funcs.iter().enumerate().filter(|(_, f)| f.traced()) {
            let Some(&offset) = func_offsets.get(i) else {
                continue;
            };
            let func_addr = space.image_at[p] + offset as u64;
            let entry_of = |t: &ProgId| match space.images.get(t.0 as usize) {
                Some(Ok(ti)) => Ok(space.image_at[t.0 as usize] + ti.entry() as u64),
                _ => Err((
                    RunError::EngineUnavailable("the JIT cannot compile a tracer".into()),
                    *t,
                )),
            };
            let fentry = f
                .fentry
                .iter()
                .map(entry_of)
                .collect::<Result<Vec<_>, _>>()?;
            let fexit = f
                .fexit
                .iter()
                .map(entry_of)
                .collect::<Result<Vec<_>, _>>()?;
            let fail = |e: rvbpf_jit::trampoline::TrampolineError| {
                (RunError::EngineUnavailable(e.to_string()), ProgId(p as u32))
            };
            let mut spec = TrampolineSpec {
                at: space.next_addr(),
                original: func_addr + TCC_INIT_OFFSET,
                fentry,
                fexit,
                arg_count: f.arg_count,
                run_counter: counter,
                ctx_publisher: Some(HOST_CALL_BASE + 4 * TRACE_CTX_SLOT as u64),
            };
            // Direct entry: through the patch site, into the header's tcc init.
            let direct = space.append(&trampoline(&spec).map_err(fail)?);
            let site = patch_site(func_addr, direct).map_err(fail)?;
            space.patch((func_addr - CODE_BASE) as usize, &site);
            // bpf2bpf calls: retargeted, into the tail-call entry.
            spec.at = space.next_addr();
            spec.original = func_addr + TAIL_CALL_ENTRY_OFFSET as u64;
            let call = space.append(&trampoline(&spec).map_err(fail)?);
            for s in sites.iter().filter(|s| s.callee == i) {
                let at = space.image_at[p] + s.offset as u64;
                let bytes = retarget_call(s, at, call).map_err(fail)?;
                space.patch((at - CODE_BASE) as usize, &bytes);
            }
        }
    }
    Ok(())
}
