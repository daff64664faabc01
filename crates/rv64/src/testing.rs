//! `proptest` strategies generating arbitrary valid instructions, for this
//! crate's round-trip tests and for other crates' random-program tests
//! (enable the `proptest` feature).

use crate::imm::{BranchOffset, Imm12, Imm20, JumpOffset, Shamt, ShamtW};
use crate::inst::Inst;
use crate::op::{
    AluImmOp, AluOp, AmoOp, AmoWidth, BranchOp, FenceSet, LoadOp, Ordering, ShiftOp, ShiftWOp,
    StoreOp, UnaryOp,
};
use crate::reg::Reg;
use proptest::prelude::*;
use proptest::sample::select;

/// Any register `x0..=x31`, biased towards the compressible set `x8..=x15`
/// and the special registers (`zero`, `ra`, `sp`) so RVC forms are exercised.
pub fn reg() -> impl Strategy<Value = Reg> {
    prop_oneof![
        2 => 0u8..32,
        2 => 8u8..16,
        1 => select(vec![0u8, 1, 2]),
    ]
    .prop_map(|i| Reg::new(i).expect("index < 32"))
}

/// Any 12-bit signed immediate, biased to small values and the extremes.
pub fn imm12() -> impl Strategy<Value = Imm12> {
    prop_oneof![
        2 => Imm12::MIN..=Imm12::MAX,
        2 => -40i64..40,
        1 => select(vec![Imm12::MIN, Imm12::MAX, 0, -1]),
        1 => (0i64..64).prop_map(|x| x * 8),
    ]
    .prop_map(|v| Imm12::new(v).expect("in range"))
}

/// Any 20-bit upper immediate.
pub fn imm20() -> impl Strategy<Value = Imm20> {
    prop_oneof![Imm20::MIN..=Imm20::MAX, -40i64..40].prop_map(|v| Imm20::new(v).expect("in range"))
}

/// Any branch offset.
pub fn branch_offset() -> impl Strategy<Value = BranchOffset> {
    prop_oneof![BranchOffset::MIN / 2..=BranchOffset::MAX / 2, -200i64..200]
        .prop_map(|v| BranchOffset::new(v * 2).expect("in range"))
}

/// Any `jal` offset.
pub fn jump_offset() -> impl Strategy<Value = JumpOffset> {
    prop_oneof![JumpOffset::MIN / 2..=JumpOffset::MAX / 2, -1100i64..1100]
        .prop_map(|v| JumpOffset::new(v * 2).expect("in range"))
}

fn shamt() -> impl Strategy<Value = Shamt> {
    (0u32..=63).prop_map(|v| Shamt::new(v).expect("in range"))
}

fn shamt_w() -> impl Strategy<Value = ShamtW> {
    (0u32..=31).prop_map(|v| ShamtW::new(v).expect("in range"))
}

fn fence_set() -> impl Strategy<Value = FenceSet> {
    (0u32..16).prop_map(|v| FenceSet::new(v).expect("4 bits"))
}

/// Register-only computation that cannot trap or transfer control:
/// `lui`/`auipc`, ALU (incl. M, Zba, Zbb), immediate ALU, shifts, unary ops.
/// Handy for straight-line random programs (emulator differential tests).
pub fn alu_inst() -> impl Strategy<Value = Inst> {
    prop_oneof![
        1 => (reg(), imm20()).prop_map(|(rd, imm)| Inst::Lui { rd, imm }),
        1 => (reg(), imm20()).prop_map(|(rd, imm)| Inst::Auipc { rd, imm }),
        3 => (select(AluImmOp::ALL), reg(), reg(), imm12())
            .prop_map(|(op, rd, rs1, imm)| Inst::AluImm { op, rd, rs1, imm }),
        1 => (select(ShiftOp::ALL), reg(), reg(), shamt())
            .prop_map(|(op, rd, rs1, shamt)| Inst::Shift { op, rd, rs1, shamt }),
        1 => (select(ShiftWOp::ALL), reg(), reg(), shamt_w())
            .prop_map(|(op, rd, rs1, shamt)| Inst::ShiftW { op, rd, rs1, shamt }),
        4 => (select(AluOp::ALL), reg(), reg(), reg())
            .prop_map(|(op, rd, rs1, rs2)| Inst::Alu { op, rd, rs1, rs2 }),
        1 => (select(UnaryOp::ALL), reg(), reg()).prop_map(|(op, rd, rs1)| Inst::Unary { op, rd, rs1 }),
    ]
}

/// Any instruction this crate models (the decoder's whole output space).
pub fn inst() -> impl Strategy<Value = Inst> {
    prop_oneof![
        1 => (reg(), imm20()).prop_map(|(rd, imm)| Inst::Lui { rd, imm }),
        1 => (reg(), imm20()).prop_map(|(rd, imm)| Inst::Auipc { rd, imm }),
        1 => (reg(), jump_offset()).prop_map(|(rd, offset)| Inst::Jal { rd, offset }),
        1 => (reg(), reg(), imm12()).prop_map(|(rd, rs1, offset)| Inst::Jalr { rd, rs1, offset }),
        1 => (select(BranchOp::ALL), reg(), reg(), branch_offset())
            .prop_map(|(op, rs1, rs2, offset)| Inst::Branch { op, rs1, rs2, offset }),
        1 => (select(LoadOp::ALL), reg(), reg(), imm12())
            .prop_map(|(op, rd, rs1, offset)| Inst::Load { op, rd, rs1, offset }),
        1 => (select(StoreOp::ALL), reg(), reg(), imm12())
            .prop_map(|(op, rs1, rs2, offset)| Inst::Store { op, rs1, rs2, offset }),
        3 => (select(AluImmOp::ALL), reg(), reg(), imm12())
            .prop_map(|(op, rd, rs1, imm)| Inst::AluImm { op, rd, rs1, imm }),
        1 => (select(ShiftOp::ALL), reg(), reg(), shamt())
            .prop_map(|(op, rd, rs1, shamt)| Inst::Shift { op, rd, rs1, shamt }),
        1 => (select(ShiftWOp::ALL), reg(), reg(), shamt_w())
            .prop_map(|(op, rd, rs1, shamt)| Inst::ShiftW { op, rd, rs1, shamt }),
        3 => (select(AluOp::ALL), reg(), reg(), reg())
            .prop_map(|(op, rd, rs1, rs2)| Inst::Alu { op, rd, rs1, rs2 }),
        1 => (select(UnaryOp::ALL), reg(), reg()).prop_map(|(op, rd, rs1)| Inst::Unary { op, rd, rs1 }),
        1 => (select(AmoOp::ALL), select(AmoWidth::ALL), select(Ordering::ALL), reg(), reg(), reg())
            .prop_map(|(op, width, ordering, rd, rs1, rs2)| Inst::Amo {
                op,
                width,
                ordering,
                rd,
                rs1,
                rs2
            }),
        1 => (select(AmoWidth::ALL), select(Ordering::ALL), reg(), reg())
            .prop_map(|(width, ordering, rd, rs1)| Inst::Lr { width, ordering, rd, rs1 }),
        1 => (select(AmoWidth::ALL), select(Ordering::ALL), reg(), reg(), reg())
            .prop_map(|(width, ordering, rd, rs1, rs2)| Inst::Sc { width, ordering, rd, rs1, rs2 }),
        1 => (fence_set(), fence_set()).prop_map(|(pred, succ)| Inst::Fence { pred, succ }),
        1 => Just(Inst::FenceTso),
        1 => Just(Inst::FenceI),
        1 => Just(Inst::Ecall),
        1 => Just(Inst::Ebreak),
    ]
}
