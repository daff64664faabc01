//! The tail-call rule (`bpf_tail_call(ctx, map, index)` = helper 12).
//!
//! A tail call succeeds when all of these hold, and only then consumes one
//! unit of the shared budget (Linux ≥ 2026 / x86 / arm64 "count only
//! successful transfers"):
//! 1. `map` is a prog-array handle and `index` (low 32 bits) < max_entries;
//! 2. the budget is not spent (33 successful tail calls per top-level run,
//!    see [`crate::vm::MAX_TAIL_CALLS`]);
//! 3. the slot holds a program.
//!
//! Otherwise execution falls through to the next instruction. Whether the
//! callee may sit in the array at all (same program class as the array's
//! users) is checked when a slot is written, not here.

use super::Interp;

impl Interp<'_> {
    /// The program to transfer to, consuming one unit of `tail_calls_left`,
    /// or `None` for a failed tail call (which consumes nothing).
    #[inline]
    pub(super) fn take_tail_call(
        &mut self,
        map_handle: u64,
        index: u64,
        tail_calls_left: &mut u32,
    ) -> Option<u32> {
        let map = self.m.maps.from_handle(map_handle)?;
        if *tail_calls_left == 0 {
            return None;
        }
        let target = self.m.maps.prog_in_slot(map, index as u32)?;
        if target as usize >= self.progs.len() {
            return None; // a handle wrote an id this VM never issued
        }
        *tail_calls_left -= 1;
        self.stats.tail_calls += 1;
        Some(target)
    }
}
