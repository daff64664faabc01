//! Prog-array slots, shared between threads.
//!
//! Concurrency choice: each slot is an `AtomicU32` holding `program id + 1`
//! (0 = empty) inside an `Arc<[AtomicU32]>`. A [`ProgArrayHandle`] clones the
//! `Arc`, so one thread can rewrite slots while another thread (owning the
//! `Vm`) loads and runs programs that tail-call through the map — the
//! `tailcall_poke` scenario. Updates are single stores (`Release`) and the
//! tail-call path does a single load (`Acquire`), so a tail call sees either
//! the old or the new program, never a torn value; no lock is ever held
//! while BPF code runs. The handle cannot check that a program id exists:
//! ids are only minted by the `Vm`, and an unknown id behaves like an empty
//! slot at tail-call time.

use super::{MapError, MapId};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// A cloneable, `Send + Sync` handle on the slots of one prog array.
#[derive(Clone, Debug)]
pub struct ProgArrayHandle {
    map: MapId,
    name: Arc<str>,
    slots: Arc<[AtomicU32]>,
}

/// Slot errors before the map name is attached.
#[derive(Debug)]
pub(crate) enum SlotError {
    OutOfRange { index: u32, max_entries: u32 },
    Empty,
    BadProgram(u32),
}

impl SlotError {
    pub(crate) fn with_name(self, map: &str) -> MapError {
        let map = map.to_string();
        match self {
            SlotError::OutOfRange { index, max_entries } => MapError::IndexOutOfRange {
                map,
                index,
                max_entries,
            },
            SlotError::Empty => MapError::NotFound { map },
            SlotError::BadProgram(prog) => MapError::BadProgram { map, prog },
        }
    }
}

impl ProgArrayHandle {
    pub(crate) fn new(map: MapId, name: &str, max_entries: u32) -> ProgArrayHandle {
        ProgArrayHandle {
            map,
            name: name.into(),
            slots: (0..max_entries).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// The map these slots belong to.
    pub fn map(&self) -> MapId {
        self.map
    }
    pub fn max_entries(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Program id in slot `index`, `None` if empty or out of range.
    #[inline]
    pub fn get(&self, index: u32) -> Option<u32> {
        let v = self.slots.get(index as usize)?.load(Ordering::Acquire);
        v.checked_sub(1)
    }

    pub(crate) fn set(&self, index: u32, prog: u32) -> Result<(), SlotError> {
        let stored = prog.checked_add(1).ok_or(SlotError::BadProgram(prog))?;
        let slot = self.slot(index)?;
        slot.store(stored, Ordering::Release);
        Ok(())
    }

    pub(crate) fn clear(&self, index: u32) -> Result<(), SlotError> {
        let slot = self.slot(index)?;
        if slot.swap(0, Ordering::AcqRel) == 0 {
            return Err(SlotError::Empty);
        }
        Ok(())
    }

    fn slot(&self, index: u32) -> Result<&AtomicU32, SlotError> {
        self.slots.get(index as usize).ok_or(SlotError::OutOfRange {
            index,
            max_entries: self.slots.len() as u32,
        })
    }

    /// Puts program `prog` (a `ProgId`) into slot `index`.
    pub fn set_prog(&self, index: u32, prog: crate::vm::ProgId) -> Result<(), MapError> {
        self.set(index, prog.0).map_err(|e| e.with_name(&self.name))
    }

    /// Empties slot `index` (`NotFound` if it was already empty).
    pub fn delete(&self, index: u32) -> Result<(), MapError> {
        self.clear(index).map_err(|e| e.with_name(&self.name))
    }
}
