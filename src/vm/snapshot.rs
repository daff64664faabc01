//! Snapshots of a VM's mutable run state, so differential tests can run the
//! same program on every engine from the same starting point and compare
//! what each run left behind.

use super::{Machine, Vm};
use crate::memory::{REGION_STACK, REGION_TRACE_CTX};

/// A copy of everything a run can change: VM memory (ctx, packet, stack,
/// map values, globals), hash-map bookkeeping and host state (trace log,
/// PRNG, clock). Prog-array slots are shared with the live VM, not copied
/// (BPF code cannot modify them; the host can, through handles).
#[derive(Clone, Debug)]
pub struct Snapshot(Machine);

impl Snapshot {
    /// Whether two snapshots hold the same observable results: every memory
    /// region but the stack (whose layout is engine-specific) and the trace
    /// ctx, byte for byte, and the same trace log.
    pub fn same_results(&self, other: &Snapshot) -> bool {
        let (a, b) = (&self.0, &other.0);
        let regions_equal = a.mem.regions().len() == b.mem.regions().len()
            && a.mem
                .regions()
                .iter()
                .zip(b.mem.regions())
                .enumerate()
                .filter(|(i, _)| *i != REGION_STACK && *i != REGION_TRACE_CTX)
                .all(|(_, (x, y))| x.data == y.data);
        regions_equal && a.host.trace_log == b.host.trace_log
    }
}

impl Vm {
    /// Copies the VM's mutable run state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot(self.machine.clone())
    }

    /// Puts the run state of `s` back (programs, objects, attachments and
    /// compiled code are unaffected).
    pub fn restore(&mut self, s: &Snapshot) {
        self.machine = s.0.clone();
    }
}
