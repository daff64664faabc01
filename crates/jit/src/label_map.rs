//! Where each [`Label`] was bound: dense arrays indexed by label number (one
//! per label kind), so binding and resolving are plain array accesses.
//! Labels are bound to stream positions ([`Pos`]), which do not move
//! during layout; layout turns a position into an offset.

use crate::items::Label;
use crate::stream::Pos;

/// Marks a label that was never bound.
const UNBOUND: Pos = Pos {
    at: u32::MAX,
    frag: u32::MAX,
};

/// Stream positions of bound labels.
#[derive(Clone, Debug, Default)]
pub(crate) struct LabelMap {
    pc: Vec<Pos>,
    func_start: Vec<Pos>,
    func_tc_entry: Vec<Pos>,
    epilogue: Vec<Pos>,
    local: Vec<Pos>,
}

impl LabelMap {
    /// An empty map with room for the labels of `pcs` BPF instructions.
    pub fn with_pcs(pcs: usize) -> LabelMap {
        LabelMap {
            pc: vec![UNBOUND; pcs],
            ..LabelMap::default()
        }
    }

    fn slot(&self, l: Label) -> (&Vec<Pos>, usize) {
        match l {
            Label::Pc(i) => (&self.pc, i),
            Label::FuncStart(i) => (&self.func_start, i),
            Label::FuncTcEntry(i) => (&self.func_tc_entry, i),
            Label::Epilogue(i) => (&self.epilogue, i),
            Label::Local(i) => (&self.local, i as usize),
        }
    }

    /// Binds `l` at `at`; false if it was bound already.
    pub fn insert(&mut self, l: Label, at: Pos) -> bool {
        let (table, i) = match l {
            Label::Pc(i) => (&mut self.pc, i),
            Label::FuncStart(i) => (&mut self.func_start, i),
            Label::FuncTcEntry(i) => (&mut self.func_tc_entry, i),
            Label::Epilogue(i) => (&mut self.epilogue, i),
            Label::Local(i) => (&mut self.local, i as usize),
        };
        if table.len() <= i {
            // Local labels are numbered in creation order: grow by doubling.
            table.resize((i + 1).max(2 * table.len()), UNBOUND);
        }
        let fresh = table[i] == UNBOUND;
        table[i] = at;
        fresh
    }

    /// Binds `Label::Pc(pc)` at `at` (see [`LabelMap::insert`]).
    pub fn insert_pc(&mut self, pc: usize, at: Pos) -> bool {
        match self.pc.get_mut(pc) {
            Some(slot) => std::mem::replace(slot, at) == UNBOUND,
            None => self.insert(Label::Pc(pc), at),
        }
    }

    /// Where each `Label::Pc` is bound, by pc (`None`: not bound).
    pub fn pcs(&self) -> impl Iterator<Item = Option<Pos>> + '_ {
        self.pc.iter().map(|&at| (at != UNBOUND).then_some(at))
    }

    /// Where `l` is bound, if it is.
    pub fn get(&self, l: Label) -> Option<Pos> {
        let (table, i) = self.slot(l);
        table.get(i).copied().filter(|&at| at != UNBOUND)
    }
}
