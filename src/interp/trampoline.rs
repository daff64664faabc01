//! fentry/fexit trampolines.
//!
//! When a traced function is entered by a direct run or a bpf2bpf call:
//! 1. each fentry tracer runs with ctx = the function's arguments as an
//!    array of u64 (`arg_count` of them, from the function's facts);
//! 2. the function runs as a nested activation sharing the *caller's*
//!    tail-call budget — its tail-call context is untouched by the tracers;
//! 3. each fexit tracer runs with ctx = the arguments followed by the
//!    function's return value.
//!
//! Every tracer run starts with its own fresh budget of 33, shared by its
//! own subprogram calls and tail calls. The ctx lives in the read-only
//! TRACE_CTX region; its previous contents are restored afterwards so a
//! (theoretical) nested tracer cannot clobber an outer one's ctx. Tail-call
//! entry never reaches this code, so fentry on a program's entry fires only
//! on direct runs. Tracing programs cannot themselves be traced
//! (`Vm::attach` refuses), so trampolines never nest inside a tracer.

use super::Interp;
use crate::memory::{REGION_TRACE_CTX, TRACE_CTX_BASE};
use crate::vm::{ProgId, RunError, MAX_TAIL_CALLS};

impl Interp<'_> {
    /// Calls traced function `func` of `prog` through its trampoline.
    pub(super) fn call_traced(
        &mut self,
        prog: u32,
        func: usize,
        args: [u64; 5],
        tail_calls_left: &mut u32,
        pc: usize,
    ) -> Result<u64, RunError> {
        let f = &self.progs[prog as usize].funcs[func];
        let n = (f.arg_count as usize).min(args.len());
        let (fentry, fexit) = (&f.fentry, &f.fexit);
        for &t in fentry.iter() {
            self.run_tracer(t, &args[..n], None, pc)?;
        }
        let ret = self.exec(prog, func, args, tail_calls_left, pc)?;
        self.cur_prog = prog;
        for &t in fexit.iter() {
            self.run_tracer(t, &args[..n], Some(ret), pc)?;
        }
        Ok(ret)
    }

    fn run_tracer(
        &mut self,
        tracer: ProgId,
        args: &[u64],
        ret: Option<u64>,
        pc: usize,
    ) -> Result<(), RunError> {
        let region = &mut self.m.mem.region_mut(REGION_TRACE_CTX).data;
        let saved = std::mem::take(region);
        region.extend(args.iter().chain(ret.iter()).flat_map(|v| v.to_le_bytes()));
        self.stats.tracer_runs += 1;
        let mut fresh_budget = MAX_TAIL_CALLS;
        let r = self.exec(
            tracer.0,
            0,
            [TRACE_CTX_BASE, 0, 0, 0, 0],
            &mut fresh_budget,
            pc,
        );
        self.m.mem.region_mut(REGION_TRACE_CTX).data = saved;
        r.map(|_| ())
    }
}
