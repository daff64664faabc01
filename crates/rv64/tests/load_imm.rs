//! `load_imm` checked by evaluating its output with a minimal, independent
//! model of the four instructions it may use (semantics from the RV64I spec).

use proptest::prelude::*;
use rvbpf_rv64::{load_imm, split_hi_lo, AluImmOp, Inst, Reg, ShiftOp};

/// Runs `insts` on a register file where every register starts as a marker
/// value, returning the final value of `rd`.
fn eval(insts: &[Inst], rd: Reg) -> u64 {
    let mut x = [0xdead_beef_dead_beef_u64; 32];
    x[0] = 0;
    for inst in insts {
        let (dst, value) = match *inst {
            // lui: imm << 12, sign-extended from 32 bits.
            Inst::Lui { rd, imm } => (rd, (((imm.bits() << 12) as i32) as i64) as u64),
            Inst::AluImm {
                op: AluImmOp::Addi,
                rd,
                rs1,
                imm,
            } => (rd, x[rs1.index() as usize].wrapping_add(imm.value() as u64)),
            // addiw: 32-bit add, result sign-extended.
            Inst::AluImm {
                op: AluImmOp::Addiw,
                rd,
                rs1,
                imm,
            } => {
                let sum = (x[rs1.index() as usize] as u32).wrapping_add(imm.value() as u32);
                (rd, sum as i32 as i64 as u64)
            }
            Inst::Shift {
                op: ShiftOp::Slli,
                rd,
                rs1,
                shamt,
            } => (rd, x[rs1.index() as usize] << shamt.value()),
            other => panic!("load_imm used an unexpected instruction {other:?}"),
        };
        assert_eq!(dst, rd, "load_imm wrote a register other than rd");
        if !dst.is_zero() {
            x[dst.index() as usize] = value;
        }
    }
    x[rd.index() as usize]
}

fn check(value: i64) {
    let insts = load_imm(Reg::A0, value);
    assert!(insts.len() <= 8, "{value:#x}: {} instructions", insts.len());
    assert_eq!(eval(&insts, Reg::A0), value as u64, "{value:#x}: {insts:?}");
}

#[test]
fn boundary_values() {
    let mut values = vec![
        0,
        1,
        -1,
        2047,
        2048,
        -2048,
        -2049,
        0x7ff,
        0x800,
        0xfff,
        0x1000,
        0x7fff_f7ff,
        0x7fff_f800,
        0x7fff_ffff,
        -0x8000_0000,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        i64::MAX,
        i64::MIN,
        0x1234_5678_9abc_def0,
        0x0000_0800_0000_0800,
        -0x0000_0800_0000_0801,
    ];
    for shift in 0..64 {
        values.push(1i64 << shift);
        values.push((1i64 << shift).wrapping_neg());
        values.push((1i64 << shift).wrapping_sub(1));
    }
    for v in values {
        check(v);
    }
}

#[test]
fn small_values_are_one_instruction_and_32_bit_values_at_most_two() {
    assert_eq!(
        load_imm(Reg::A0, 0),
        vec![Inst::AluImm {
            op: AluImmOp::Addi,
            rd: Reg::A0,
            rs1: Reg::ZERO,
            imm: rvbpf_rv64::Imm12::ZERO
        }]
    );
    assert_eq!(load_imm(Reg::A0, -2048).len(), 1);
    assert_eq!(load_imm(Reg::A0, 0x1000).len(), 1); // lui alone
    assert_eq!(load_imm(Reg::A0, 0x7fff_ffff).len(), 2);
    assert_eq!(load_imm(Reg::A0, -0x8000_0000).len(), 1);
}

#[test]
fn split_hi_lo_covers_exactly_the_auipc_pair_range() {
    // Reach of auipc (sign-extended imm20 << 12) plus a 12-bit signed addend:
    // [-2^31 - 2048, 2^31 - 4096 + 2047].
    let (min, max) = (-(1i64 << 31) - 2048, (1i64 << 31) - 4096 + 2047);
    for v in [
        min,
        max,
        0,
        -1,
        2047,
        2048,
        -2048,
        -2049,
        0x7fff_f7ff,
        0x1234_5678,
        -0x1234_5678,
    ] {
        let (hi, lo) = split_hi_lo(v).unwrap_or_else(|| panic!("{v:#x}"));
        assert_eq!(hi.upper_value() + lo.value(), v, "{v:#x}");
    }
    for v in [min - 1, max + 1, i64::MAX, i64::MIN] {
        assert_eq!(split_hi_lo(v), None, "{v:#x}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_value_round_trips(value in any::<i64>()) {
        check(value);
    }

    #[test]
    fn split_hi_lo_recombines(value in -(1i64 << 31) - 2048..=(1i64 << 31) - 2049) {
        let (hi, lo) = split_hi_lo(value).unwrap();
        prop_assert_eq!(hi.upper_value() + lo.value(), value);
    }

    #[test]
    fn sparse_values_round_trip(a in 0u32..64, b in 0u32..64, neg in any::<bool>()) {
        let v = (1i64 << a) | (1i64 << b);
        check(if neg { !v } else { v });
    }
}
