//! Prog-array slots, shared between threads, and the owner-type rule.
//!
//! Concurrency choice: each slot is an `AtomicU32` holding `program id + 1`
//! (0 = empty) inside an `Arc<[AtomicU32]>`. A [`ProgArrayHandle`] clones the
//! `Arc`, so one thread can rewrite slots while another thread (owning the
//! `Vm`) loads and runs programs that tail-call through the map — the
//! `tailcall_poke` scenario. Updates are single stores (`Release`) and the
//! tail-call path does a single load (`Acquire`), so a tail call sees either
//! the old or the new program, never a torn value; no lock is ever held
//! while BPF code runs.
//!
//! Compatibility (Linux rule, spec 3.4): a tail callee inherits its caller's
//! ctx, so every program reachable through one prog array must have the
//! same [`ProgClass`]. The first program that uses the map (at load) or is
//! stored into it fixes the map's owner class (an `AtomicU8`, claimed with a
//! compare-exchange); later programs of another class are refused. The
//! class of every program id lives in a table shared by the VM and all
//! handles ([`ProgClasses`], an `RwLock` only written when a program is
//! loaded), so a handle can check ids and classes on its own.

use super::{MapError, MapId};
use rvbpf_ebpf::object::ProgKind;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

/// What must match between a prog array's users and its programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ProgClass {
    SchedCls = 1,
    Xdp = 2,
    SocketFilter = 3,
    Fentry = 4,
    Fexit = 5,
    Other = 6,
}

impl ProgClass {
    pub fn of(kind: &ProgKind) -> ProgClass {
        match kind {
            ProgKind::SchedCls => ProgClass::SchedCls,
            ProgKind::Xdp => ProgClass::Xdp,
            ProgKind::SocketFilter => ProgClass::SocketFilter,
            ProgKind::Fentry { .. } => ProgClass::Fentry,
            ProgKind::Fexit { .. } => ProgClass::Fexit,
            ProgKind::Other => ProgClass::Other,
        }
    }
    fn from_u8(v: u8) -> Option<ProgClass> {
        [
            ProgClass::SchedCls,
            ProgClass::Xdp,
            ProgClass::SocketFilter,
            ProgClass::Fentry,
            ProgClass::Fexit,
            ProgClass::Other,
        ]
        .into_iter()
        .find(|c| *c as u8 == v)
    }
}

/// Class of every loaded program, indexed by program id.
pub type ProgClasses = Arc<RwLock<Vec<ProgClass>>>;

/// A cloneable, `Send + Sync` handle on the slots of one prog array.
#[derive(Clone, Debug)]
pub struct ProgArrayHandle {
    map: MapId,
    name: Arc<str>,
    slots: Arc<[AtomicU32]>,
    /// `ProgClass as u8`, 0 while no program has used the map.
    owner: Arc<AtomicU8>,
    classes: ProgClasses,
}

/// Slot errors before the map name is attached.
#[derive(Debug)]
pub(crate) enum SlotError {
    OutOfRange {
        index: u32,
        max_entries: u32,
    },
    Empty,
    BadProgram(u32),
    Incompatible {
        prog: u32,
        owner: ProgClass,
        class: ProgClass,
    },
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
            SlotError::Incompatible { prog, owner, class } => MapError::Incompatible {
                map,
                prog,
                owner,
                class,
            },
        }
    }
}

impl ProgArrayHandle {
    pub(crate) fn new(
        map: MapId,
        name: &str,
        max_entries: u32,
        classes: ProgClasses,
    ) -> ProgArrayHandle {
        ProgArrayHandle {
            map,
            name: name.into(),
            slots: (0..max_entries).map(|_| AtomicU32::new(0)).collect(),
            owner: Arc::new(AtomicU8::new(0)),
            classes,
        }
    }

    /// The map these slots belong to.
    pub fn map(&self) -> MapId {
        self.map
    }
    pub fn max_entries(&self) -> u32 {
        self.slots.len() as u32
    }
    /// The class every program of this map must have, once fixed.
    pub fn owner(&self) -> Option<ProgClass> {
        ProgClass::from_u8(self.owner.load(Ordering::Acquire))
    }

    /// Program id in slot `index`, `None` if empty or out of range.
    #[inline]
    pub fn get(&self, index: u32) -> Option<u32> {
        let v = self.slots.get(index as usize)?.load(Ordering::Acquire);
        v.checked_sub(1)
    }

    /// Fixes the owner class to `class`, or checks it matches (program `prog`
    /// is only named in the error).
    pub(crate) fn claim(&self, class: ProgClass, prog: u32) -> Result<(), SlotError> {
        match self
            .owner
            .compare_exchange(0, class as u8, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            Err(cur) if cur == class as u8 => Ok(()),
            Err(cur) => Err(SlotError::Incompatible {
                prog,
                owner: ProgClass::from_u8(cur).unwrap_or(ProgClass::Other),
                class,
            }),
        }
    }

    /// [`Self::claim`] with the error named after the map.
    pub(crate) fn claim_for(&self, class: ProgClass, prog: u32) -> Result<(), MapError> {
        self.claim(class, prog).map_err(|e| e.with_name(&self.name))
    }

    pub(crate) fn set(&self, index: u32, prog: u32) -> Result<(), SlotError> {
        let slot = self.slot(index)?;
        let class = {
            let classes = self.classes.read().unwrap_or_else(|p| p.into_inner());
            *classes
                .get(prog as usize)
                .ok_or(SlotError::BadProgram(prog))?
        };
        self.claim(class, prog)?;
        slot.store(prog + 1, Ordering::Release);
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

    /// Puts program `prog` into slot `index` (refused for an unknown program
    /// or one whose class differs from the map's owner class).
    pub fn set_prog(&self, index: u32, prog: crate::vm::ProgId) -> Result<(), MapError> {
        self.set(index, prog.0).map_err(|e| e.with_name(&self.name))
    }

    /// Empties slot `index` (`NotFound` if it was already empty).
    pub fn delete(&self, index: u32) -> Result<(), MapError> {
        self.clear(index).map_err(|e| e.with_name(&self.name))
    }
}
