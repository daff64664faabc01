//! bpf2bpf frames and BPF stack allocation.
//!
//! The stack region grows down. A frame's area is `[r10 - stack_size, r10)`;
//! a callee's r10 is its caller's frame bottom. The region's floor is kept at
//! the innermost frame's bottom, so accesses below the current frame fault
//! while pointers into callers' frames stay valid.
//!
//! ```text
//!  STACK_TOP ─┬──────────────┐ ← r10 of the outermost frame
//!             │ frame 0 area │
//!             ├──────────────┤ ← r10 of frame 1
//!             │ frame 1 area │
//!             ├──────────────┤ ← floor (innermost bottom)
//!             │  (unusable)  │
//!  STACK_BASE ┴──────────────┘
//! ```

use super::{Interp, MAX_FRAMES};
use crate::memory::STACK_BASE;
use crate::vm::RunError;

/// What returning from a bpf2bpf call restores.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    /// Program the caller was running (it may differ from the callee's after tail calls).
    pub prog: u32,
    /// pc to continue at in the caller.
    pub ret_pc: u32,
    /// The caller's r6..r10.
    pub saved: [u64; 5],
    /// The caller's stack floor.
    pub floor: u64,
}

impl Interp<'_> {
    /// Makes a stack area of `size` bytes whose top is the current floor;
    /// returns the new frame's r10.
    #[inline]
    pub(super) fn alloc_stack(&mut self, size: u64, pc: usize) -> Result<u64, RunError> {
        let top = self.m.mem.stack_floor();
        self.place_stack(top, size, pc)
    }

    /// Makes the stack area `[top - size, top)` the innermost one; returns `top`.
    #[inline]
    pub(super) fn place_stack(&mut self, top: u64, size: u64, pc: usize) -> Result<u64, RunError> {
        match top.checked_sub(size).filter(|&f| f >= STACK_BASE) {
            Some(floor) => {
                self.m.mem.set_stack_floor(floor);
                Ok(top)
            }
            None => Err(RunError::StackOverflow {
                pc,
                needed: size - (top - STACK_BASE).min(size),
            }),
        }
    }

    /// Fails when one more frame would exceed [`MAX_FRAMES`].
    #[inline]
    pub(super) fn check_depth(&self, pc: usize) -> Result<(), RunError> {
        let depth = self.frames.len() + self.depth;
        if depth >= MAX_FRAMES {
            Err(RunError::CallDepth {
                pc,
                depth: depth + 1,
            })
        } else {
            Ok(())
        }
    }
}
