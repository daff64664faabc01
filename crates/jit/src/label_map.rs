//! Where each [`Label`] landed: dense arrays indexed by label number (one
//! per label kind), so binding and resolving are plain array accesses
//! during every layout round.

use crate::items::Label;

/// Marks a label that was never bound.
const UNBOUND: usize = usize::MAX;

/// Code offsets of bound labels.
#[derive(Clone, Debug, Default)]
pub(crate) struct LabelMap {
    pc: Vec<usize>,
    func_start: Vec<usize>,
    func_tc_entry: Vec<usize>,
    epilogue: Vec<usize>,
    local: Vec<usize>,
}

impl LabelMap {
    /// An empty map with room for labels of `pcs` BPF instructions.
    pub fn with_pcs(pcs: usize) -> LabelMap {
        LabelMap {
            pc: Vec::with_capacity(pcs),
            ..LabelMap::default()
        }
    }

    fn slot(&self, l: Label) -> (&Vec<usize>, usize) {
        match l {
            Label::Pc(i) => (&self.pc, i),
            Label::FuncStart(i) => (&self.func_start, i),
            Label::FuncTcEntry(i) => (&self.func_tc_entry, i),
            Label::Epilogue(i) => (&self.epilogue, i),
            Label::Local(i) => (&self.local, i as usize),
        }
    }

    /// Unbinds every label, keeping the tables' memory (layout places the
    /// same labels again each round).
    pub fn unbind_all(&mut self) {
        for table in [
            &mut self.pc,
            &mut self.func_start,
            &mut self.func_tc_entry,
            &mut self.epilogue,
            &mut self.local,
        ] {
            table.fill(UNBOUND);
        }
    }

    /// Binds `l` at `at`; false if it was bound already.
    pub fn insert(&mut self, l: Label, at: usize) -> bool {
        let (table, i) = match l {
            Label::Pc(i) => (&mut self.pc, i),
            Label::FuncStart(i) => (&mut self.func_start, i),
            Label::FuncTcEntry(i) => (&mut self.func_tc_entry, i),
            Label::Epilogue(i) => (&mut self.epilogue, i),
            Label::Local(i) => (&mut self.local, i as usize),
        };
        if table.len() <= i {
            table.resize(i + 1, UNBOUND);
        }
        let fresh = table[i] == UNBOUND;
        table[i] = at;
        fresh
    }

    /// Where `l` is bound, if it is.
    pub fn get(&self, l: Label) -> Option<usize> {
        let (table, i) = self.slot(l);
        table.get(i).copied().filter(|&at| at != UNBOUND)
    }
}

impl std::ops::Index<&Label> for LabelMap {
    type Output = usize;

    fn index(&self, l: &Label) -> &usize {
        let (table, i) = self.slot(*l);
        match table.get(i) {
            Some(at) if *at != UNBOUND => at,
            _ => panic!("label {l:?} never bound"),
        }
    }
}
