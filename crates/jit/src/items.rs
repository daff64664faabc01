//! The lowering's output: rv64 instructions plus pseudo-items whose final
//! form depends on layout (branches, jumps, calls to labels, pool loads).

use rvbpf_rv64::{BranchOp, Inst, Reg};

/// A position in the code, resolved by layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// The first instruction lowered for BPF pc `pc`.
    Pc(usize),
    /// Offset 0 of function `i` (its header).
    FuncStart(usize),
    /// Function `i` + `TAIL_CALL_ENTRY_OFFSET`.
    FuncTcEntry(usize),
    /// The epilogue of function `i`.
    Epilogue(usize),
    /// A label private to one lowering (numbered per program).
    Local(u32),
}

/// Which part of the program an item belongs to (for the listing and the
/// pc map). Indices are function numbers or BPF pcs, kept in 32 bits: an
/// owner is stored per instruction (owner runs, spans), and BPF programs
/// have at most a million instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    Header(u32),
    Prologue(u32),
    Insn(u32),
    Epilogue(u32),
}

/// One element of the lowered program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// An instruction whose encoding does not depend on layout; encoded in
    /// its shortest form for the target.
    Fixed(Inst),
    /// An instruction always encoded in 4 bytes (header words whose size
    /// must be constant).
    Wide(Inst),
    /// Defines `Label` at the current offset.
    Bind(Label),
    /// Pads with `c.nop` to a 4-byte boundary, so that each function's
    /// patch site is a naturally aligned word (trampoline attach rewrites
    /// it in place).
    Align4,
    /// `b<op> rs1, rs2, target`, relaxable.
    Branch {
        op: BranchOp,
        rs1: Reg,
        rs2: Reg,
        target: Label,
    },
    /// Unconditional jump, relaxable (`c.j` → `jal zero` → `auipc+jalr`).
    Jump { target: Label },
    /// `jal ra, target`, relaxable to `auipc t1; jalr ra, lo(t1)`.
    Call { target: Label },
    /// `rd = *(u64 *)pool[slot]`: `auipc rd; ld rd, lo(rd)` (8 bytes).
    PoolLoad { rd: Reg, slot: usize },
    /// `rd = address of target`: `auipc rd; addi rd, rd, lo` (8 bytes).
    AddrOf { rd: Reg, target: Label },
}

/// An item with its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tagged {
    pub owner: Owner,
    pub item: Item,
}
