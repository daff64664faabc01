//! The lowering's output as layout wants it: fixed code already encoded,
//! relaxable items kept aside.
//!
//! Most items are instructions whose encoding does not depend on where
//! anything lands (`Item::Fixed`, `Item::Wide`). They are encoded the moment
//! they are lowered and appended to one byte buffer, so layout never looks
//! at them again. Only the items whose size depends on layout (branches,
//! jumps, calls, pool loads, address-of, alignment) are kept, as
//! *fragments*, each remembering how many fixed bytes precede it. A label is
//! a [`Pos`]: fixed bytes and fragments before it. Once layout has sized
//! the fragments, every offset is `fixed bytes before + fragment bytes
//! before` (see `layout`).

use crate::items::{Item, Label, Owner};
use crate::label_map::LabelMap;
use crate::JitError;
use rvbpf_rv64::encode::encode_shortest;
use rvbpf_rv64::{encode, EncodeError, Inst, Target};

/// A position in the stream: `at` fixed bytes and `frag` fragments come
/// before it. (Code stays far below 4 GiB: BPF programs have at most a
/// million instructions, each lowered to a few dozen bytes at most.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub at: u32,
    pub frag: u32,
}

/// A relaxable item and the number of fixed bytes before it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frag {
    pub at: u32,
    pub item: Item,
}

/// Where the items of one [`Owner`] start; a run lasts until the next
/// run's start (for the listing and [`crate::Image::pc_at`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnerRun {
    pub owner: Owner,
    pub start: Pos,
}

/// Fixed bytes, fragments, label positions and owner runs of a program.
pub(crate) struct Stream {
    target: Target,
    /// Encodings of every fixed item, in program order.
    pub fixed: Vec<u8>,
    /// Relaxable items, in program order.
    pub frags: Vec<Frag>,
    /// Where each label was bound.
    pub labels: LabelMap,
    /// Maximal runs of consecutive items with the same owner.
    pub owners: Vec<OwnerRun>,
    /// The first item that could not be added (an instruction the target
    /// lacks, a label bound twice): reported once lowering is done, as
    /// layout used to report it.
    pub error: Option<JitError>,
}

impl Stream {
    /// An empty stream for `target`, with room for a program of `pcs` BPF
    /// instructions.
    pub fn new(target: Target, pcs: usize) -> Stream {
        Stream {
            target,
            // Typically five to six bytes and 0.15 fragments per BPF
            // instruction, one owner run per instruction plus a few per
            // function: room enough that these rarely grow (a grown vector
            // copies everything so far).
            fixed: Vec::with_capacity(8 * pcs + 64),
            frags: Vec::with_capacity(pcs / 4 + 16),
            labels: LabelMap::with_pcs(pcs),
            owners: Vec::with_capacity(pcs + pcs / 8 + 64),
            error: None,
        }
    }

    /// The current end of the stream.
    pub fn pos(&self) -> Pos {
        Pos {
            at: self.fixed.len() as u32,
            frag: self.frags.len() as u32,
        }
    }

    /// Appends `item`, produced for `owner`.
    /// (Inlined: the item's kind is then known where it is pushed.)
    #[inline(always)]
    pub fn push(&mut self, owner: Owner, item: Item) {
        match item {
            Item::Fixed(inst) => self.push_inst(owner, inst),
            Item::Wide(inst) => {
                self.enter(owner);
                self.fixed.extend_from_slice(&encode(&inst).to_le_bytes());
            }
            Item::Bind(label) => self.bind(owner, label),
            _ => {
                self.enter(owner);
                self.frags.push(Frag {
                    at: self.fixed.len() as u32,
                    item,
                });
            }
        }
    }

    /// Appends `Item::Fixed(inst)`: its shortest encoding for the target.
    /// (Lowering calls this directly for its most common item, so that
    /// [`Stream::push`]'s dispatch on the item kind, a poorly predicted
    /// branch, is skipped.) Inlined, like `encode_shortest`, so each
    /// emitter's instruction kind is known where it is encoded.
    #[inline(always)]
    pub fn push_inst(&mut self, owner: Owner, inst: Inst) {
        self.enter(owner);
        // `Target::encode` with one `match` on the instruction's kind
        // instead of three (each a poorly predicted branch on mixed code):
        // an instruction with an RVC form is in the base ISA, which every
        // target has, so only the others need the extension check.
        let (value, len) = encode_shortest(&inst, self.target.c);
        if len == 4 {
            let extension = inst.extension();
            if !self.target.has(extension) {
                let target = self.target;
                let e = EncodeError {
                    inst,
                    extension,
                    target,
                };
                return self.fail(JitError::Internal(e.to_string()));
            }
        }
        // Always four bytes, then the length: a copy of a fixed size
        // compiles to one store instead of a `memcpy` call.
        let end = self.fixed.len() + len;
        self.fixed.extend_from_slice(&value.to_le_bytes());
        self.fixed.truncate(end);
    }

    /// Appends `Item::Bind(label)`: binds `label` here.
    pub fn bind(&mut self, owner: Owner, label: Label) {
        self.enter(owner);
        let pos = self.pos();
        if !self.labels.insert(label, pos) {
            self.fail(JitError::Internal(format!("label {label:?} bound twice")));
        }
    }

    /// Binds `Label::Pc(pc)` here for `Owner::Insn(pc)`: what lowering
    /// does at every BPF instruction, without [`Stream::bind`]'s dispatch
    /// on the label kind.
    #[inline]
    pub fn bind_pc(&mut self, pc: usize) {
        self.enter(Owner::Insn(pc as u32));
        let pos = self.pos();
        if !self.labels.insert_pc(pc, pos) {
            self.fail(JitError::Internal(format!("label Pc({pc}) bound twice")));
        }
    }

    /// Starts a new owner run unless the last one is `owner`'s.
    fn enter(&mut self, owner: Owner) {
        if self.owners.last().is_none_or(|run| run.owner != owner) {
            let start = self.pos();
            self.owners.push(OwnerRun { owner, start });
        }
    }

    /// Appends `items`, all produced for `owner`.
    pub fn extend(&mut self, owner: Owner, items: &[Item]) {
        for &item in items {
            self.push(owner, item);
        }
    }

    fn fail(&mut self, e: JitError) {
        self.error.get_or_insert(e);
    }

    /// Label `l`'s position, if bound.
    pub fn label(&self, l: Label) -> Option<Pos> {
        self.labels.get(l)
    }
}
