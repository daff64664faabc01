//! `proptest` strategies generating arbitrary *valid* typed instructions
//! (every generated [`Inst`] survives `decode(encode(i)) == i`), for this
//! crate's round-trip tests and other crates' random-program tests
//! (enable the `proptest` feature).

use crate::inst::{
    AluOp, AtomicOp, CallTarget, Cond, EndianOp, Inst, LddwKind, Operand, Reg, Size,
};
use proptest::prelude::*;
use proptest::sample::select;

/// Any register r0..r10.
pub fn reg() -> impl Strategy<Value = Reg> {
    (0u8..=10).prop_map(|n| Reg::new(n).expect("n <= 10"))
}

/// 32-bit immediates biased towards small values and the extremes.
pub fn imm32() -> impl Strategy<Value = i32> {
    prop_oneof![
        2 => any::<i32>(),
        2 => -64i32..64,
        1 => select(vec![i32::MIN, i32::MAX, 0, -1, 0x7fff, 0x8000]),
    ]
}

/// 16-bit offsets biased towards small values and the extremes.
pub fn off16() -> impl Strategy<Value = i16> {
    prop_oneof![
        2 => any::<i16>(),
        2 => -64i16..64,
        1 => select(vec![i16::MIN, i16::MAX, 0, -1]),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![reg().prop_map(Operand::Reg), imm32().prop_map(Operand::Imm)]
}

fn size() -> impl Strategy<Value = Size> {
    select(vec![Size::B, Size::H, Size::W, Size::DW])
}

fn cond() -> impl Strategy<Value = Cond> {
    select(vec![
        Cond::Eq,
        Cond::Gt,
        Cond::Ge,
        Cond::Set,
        Cond::Ne,
        Cond::Sgt,
        Cond::Sge,
        Cond::Lt,
        Cond::Le,
        Cond::Slt,
        Cond::Sle,
    ])
}

/// ALU instructions, including `neg` and the v4 signed/sign-extending forms,
/// restricted to their valid operand shapes.
pub fn alu() -> impl Strategy<Value = Inst> {
    let binary = select(vec![
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Div,
        AluOp::Sdiv,
        AluOp::Or,
        AluOp::And,
        AluOp::Lsh,
        AluOp::Rsh,
        AluOp::Mod,
        AluOp::Smod,
        AluOp::Xor,
        AluOp::Mov,
        AluOp::Arsh,
    ]);
    prop_oneof![
        4 => (any::<bool>(), binary, reg(), operand())
            .prop_map(|(is64, op, dst, src)| Inst::Alu { is64, op, dst, src }),
        1 => (any::<bool>(), reg()).prop_map(|(is64, dst)| Inst::Alu {
            is64,
            op: AluOp::Neg,
            dst,
            src: Operand::Imm(0),
        }),
        1 => (select(vec![(false, AluOp::Movsx8), (false, AluOp::Movsx16),
                          (true, AluOp::Movsx8), (true, AluOp::Movsx16), (true, AluOp::Movsx32)]),
              reg(), reg())
            .prop_map(|((is64, op), dst, src)| Inst::Alu { is64, op, dst, src: Operand::Reg(src) }),
        1 => (select(vec![EndianOp::Le, EndianOp::Be, EndianOp::Swap]), reg(), select(vec![16u8, 32, 64]))
            .prop_map(|(op, dst, bits)| Inst::Endian { op, dst, bits }),
    ]
}

/// Loads, stores, atomics, `lddw` (all kinds) and legacy packet loads.
pub fn memory() -> impl Strategy<Value = Inst> {
    let atomic_op = prop_oneof![
        (
            select(vec![
                AtomicOp::Add,
                AtomicOp::Or,
                AtomicOp::And,
                AtomicOp::Xor
            ]),
            any::<bool>()
        ),
        select(vec![AtomicOp::Xchg, AtomicOp::Cmpxchg]).prop_map(|op| (op, true)),
    ];
    let lddw_kind = prop_oneof![
        3 => any::<u64>().prop_map(LddwKind::Imm),
        1 => any::<u32>().prop_map(|map| LddwKind::Map { map }),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(map, offset)| LddwKind::MapValue { map, offset }),
        1 => imm32().prop_map(|offset| LddwKind::Func { offset }),
    ];
    prop_oneof![
        2 => (size(), any::<bool>(), reg(), reg(), off16()).prop_map(|(size, signed, dst, src, off)| {
            Inst::Load { size, signed: signed && size != Size::DW, dst, src, off }
        }),
        2 => (size(), reg(), off16(), operand())
            .prop_map(|(size, dst, off, src)| Inst::Store { size, dst, off, src }),
        1 => (select(vec![Size::W, Size::DW]), atomic_op, reg(), reg(), off16())
            .prop_map(|(size, (op, fetch), dst, src, off)| Inst::Atomic { size, op, fetch, dst, src, off }),
        1 => (reg(), lddw_kind).prop_map(|(dst, kind)| Inst::Lddw { dst, kind }),
        1 => (select(vec![Size::B, Size::H, Size::W]), proptest::option::of(reg()), imm32())
            .prop_map(|(size, index, imm)| Inst::LoadPacket { size, index, imm }),
    ]
}

/// Jumps, calls and `exit`, with arbitrary (not necessarily in-bounds) offsets.
pub fn control() -> impl Strategy<Value = Inst> {
    prop_oneof![
        1 => off16().prop_map(|o| Inst::Ja { off: o as i32, long: false }),
        1 => imm32().prop_map(|off| Inst::Ja { off, long: true }),
        3 => (any::<bool>(), cond(), reg(), operand(), off16())
            .prop_map(|(is32, cond, dst, src, off)| Inst::Jump { is32, cond, dst, src, off }),
        1 => imm32().prop_map(|n| Inst::Call(CallTarget::Helper(n))),
        1 => imm32().prop_map(|o| Inst::Call(CallTarget::Local(o))),
        1 => any::<u32>().prop_map(|k| Inst::Call(CallTarget::Kfunc(k))),
        1 => reg().prop_map(|reg| Inst::Callx { reg }),
        1 => Just(Inst::Exit),
    ]
}

/// Any valid instruction (never `LddwHigh`).
pub fn inst() -> impl Strategy<Value = Inst> {
    prop_oneof![3 => alu(), 3 => memory(), 2 => control()]
}

/// A program in slot form (each `lddw` followed by `LddwHigh`), as produced
/// by `decode_program` and the assembler. Jump targets are arbitrary.
pub fn program(max_len: usize) -> impl Strategy<Value = Vec<Inst>> {
    proptest::collection::vec(inst(), 0..=max_len).prop_map(|insts| {
        insts
            .into_iter()
            .flat_map(|i| {
                if i.slots() == 2 {
                    vec![i, Inst::LddwHigh]
                } else {
                    vec![i]
                }
            })
            .collect()
    })
}
