//! Differential check of ALU semantics against an independent oracle: the
//! `rbpf` crate's interpreter (a separate implementation of the same
//! instruction set). Random programs over the classic (pre-v4) ALU
//! instructions — straight-line, then mixed with stack loads/stores and
//! forward jumps — run on both; all registers are folded into r0.
//!
//! Excluded because rbpf 0.4 differs from RFC 9669 or lacks them: negative
//! immediates in unsigned 64-bit jump comparisons (rbpf zero-extends them,
//! RFC 9669 sign-extends), 32-bit
//! modulo by a register (rbpf leaves the upper half of dst untouched when
//! the divisor is 0; RFC 9669 zero-extends), division/modulo by an
//! immediate 0 (rbpf's verifier rejects it), 64-bit `neg` (rbpf's
//! `-(x as i64)` overflows on i64::MIN in debug builds), and the v4 forms
//! (sdiv, smod, movsx, bswap).

use proptest::prelude::*;
use rvbpf::ebpf::asm::object_from_insts;
use rvbpf::ebpf::inst::{
    encode_program, AluOp, Cond, EndianOp, Inst, LddwKind, Operand, Reg, Size,
};
use rvbpf::{Ctx, Engine, Vm};

fn classic_alu() -> impl Strategy<Value = Inst> {
    let op = prop::sample::select(vec![
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Div,
        AluOp::Or,
        AluOp::And,
        AluOp::Lsh,
        AluOp::Rsh,
        AluOp::Mod,
        AluOp::Xor,
        AluOp::Mov,
        AluOp::Arsh,
    ]);
    // r0..r9 only: r10 cannot be written, and as a source its value (a
    // stack address) differs between VMs.
    let reg = (0u8..10).prop_map(|n| Reg::new(n).expect("r0..r9"));
    let src_reg = reg.clone();
    let imm = prop_oneof![any::<i32>(), -70i32..70];
    let operand = prop_oneof![src_reg.prop_map(Operand::Reg), imm.prop_map(Operand::Imm)];
    let binary = (any::<bool>(), op, reg.clone(), operand).prop_filter_map(
        "rbpf-incompatible form",
        |(is64, op, dst, src)| {
            let zero_imm = src == Operand::Imm(0);
            let excluded = (matches!(op, AluOp::Div | AluOp::Mod) && zero_imm)
                || (!is64 && op == AluOp::Mod && matches!(src, Operand::Reg(_)));
            (!excluded).then_some(Inst::Alu { is64, op, dst, src })
        },
    );
    let neg = reg.clone().prop_map(|dst| Inst::Alu {
        is64: false,
        op: AluOp::Neg,
        dst,
        src: Operand::Imm(0),
    });
    let endian = (
        prop::sample::select(vec![EndianOp::Le, EndianOp::Be]),
        reg,
        prop::sample::select(vec![16u8, 32, 64]),
    )
        .prop_map(|(op, dst, bits)| Inst::Endian { op, dst, bits });
    prop_oneof![8 => binary, 1 => neg, 1 => endian]
}

/// Stack stores/loads at r10 offsets inside rbpf's 512-byte stack, and
/// short forward conditional jumps (64- and 32-bit).
fn stack_and_jumps() -> impl Strategy<Value = Inst> {
    let reg = (0u8..10).prop_map(|n| Reg::new(n).expect("r0..r9"));
    let size = prop::sample::select(vec![Size::B, Size::H, Size::W, Size::DW]);
    let off = (1i16..=64).prop_map(|k| -8 * k);
    let store = (size.clone(), off.clone(), reg.clone()).prop_map(|(size, off, src)| Inst::Store {
        size,
        dst: Reg::R10,
        off,
        src: Operand::Reg(src),
    });
    let load = (size, off, reg.clone()).prop_map(|(size, off, dst)| Inst::Load {
        size,
        signed: false,
        dst,
        src: Reg::R10,
        off,
    });
    let cond = prop::sample::select(vec![
        Cond::Eq,
        Cond::Ne,
        Cond::Gt,
        Cond::Ge,
        Cond::Lt,
        Cond::Le,
        Cond::Set,
        Cond::Sgt,
        Cond::Sge,
        Cond::Slt,
        Cond::Sle,
    ]);
    // rbpf zero-extends the immediate of unsigned 64-bit comparisons (RFC
    // 9669 sign-extends it), so those get non-negative immediates only.
    let operand = prop_oneof![
        reg.clone().prop_map(Operand::Reg),
        any::<i32>().prop_map(Operand::Imm)
    ];
    let jump =
        (any::<bool>(), cond, reg, operand, 0i16..5).prop_map(|(is32, cond, dst, src, off)| {
            let unsigned = matches!(
                cond,
                Cond::Eq | Cond::Ne | Cond::Gt | Cond::Ge | Cond::Lt | Cond::Le
            );
            let src = match src {
                Operand::Imm(v) if unsigned && !is32 => Operand::Imm(v & i32::MAX),
                other => other,
            };
            Inst::Jump {
                is32,
                cond,
                dst,
                src,
                off,
            }
        });
    prop_oneof![2 => store, 2 => load, 1 => jump]
}

/// Zeroes the 512-byte stack (both VMs start from the same bytes), `lddw`s
/// every register, runs the body, then r0 = fold(r0..r9), exit. The fold
/// is 19 instructions, so a forward jump of at most 5 from the body stays
/// inside the program.
fn program(seeds: [u64; 10], body: &[Inst]) -> Vec<Inst> {
    let mut insts: Vec<Inst> = (1..=64)
        .map(|k| Inst::Store {
            size: Size::DW,
            dst: Reg::R10,
            off: -8 * k,
            src: Operand::Imm(0),
        })
        .collect();
    for (i, s) in seeds.iter().enumerate() {
        insts.push(Inst::Lddw {
            dst: Reg::new(i as u8).expect("r0..r9"),
            kind: LddwKind::Imm(*s),
        });
        insts.push(Inst::LddwHigh);
    }
    insts.extend_from_slice(body);
    for i in 1..10 {
        insts.push(Inst::Alu {
            is64: true,
            op: AluOp::Mul,
            dst: Reg::R0,
            src: Operand::Imm(1_000_003),
        });
        insts.push(Inst::Alu {
            is64: true,
            op: AluOp::Xor,
            dst: Reg::R0,
            src: Operand::Reg(Reg::new(i).expect("r1..r9")),
        });
    }
    insts.push(Inst::Exit);
    insts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn alu_agrees_with_rbpf(seeds in any::<[u64; 10]>(), body in prop::collection::vec(classic_alu(), 1..40)) {
        let insts = program(seeds, &body);
        let bytes: Vec<u8> = encode_program(&insts).iter().flat_map(|i| i.to_bytes()).collect();
        let oracle = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf accepts the program");
        let expected = oracle.execute_program(&mut []).expect("rbpf runs it");

        let mut vm = Vm::new();
        let o = vm.load_object(object_from_insts("alu", &insts)).expect("rvbpf accepts the program");
        let p = vm.program(o, "main").unwrap();
        for &engine in Engine::all() {
            prop_assert_eq!(vm.run(p, &Ctx::empty(), engine).unwrap().ret, expected, "engine {}", engine);
        }
    }

    #[test]
    fn stack_and_jumps_agree_with_rbpf(
        seeds in any::<[u64; 10]>(),
        body in prop::collection::vec(prop_oneof![3 => classic_alu(), 2 => stack_and_jumps()], 1..40),
    ) {
        let insts = program(seeds, &body);
        let bytes: Vec<u8> = encode_program(&insts).iter().flat_map(|i| i.to_bytes()).collect();
        let oracle = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf accepts the program");
        let expected = oracle.execute_program(&mut []).expect("rbpf runs it");

        let mut vm = Vm::new();
        let o = vm.load_object(object_from_insts("mem", &insts)).expect("rvbpf accepts the program");
        let p = vm.program(o, "main").unwrap();
        for &engine in Engine::all() {
            prop_assert_eq!(vm.run(p, &Ctx::empty(), engine).unwrap().ret, expected, "engine {}", engine);
        }
    }
}
