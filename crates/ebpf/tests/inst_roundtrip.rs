//! Strict decoding: every raw slot either decodes to exactly one `Inst` that
//! encodes back to the same bytes, or is rejected.

use proptest::prelude::*;
use rvbpf_ebpf::insn::Insn;
use rvbpf_ebpf::inst::{
    decode_at, decode_program, encode, AluOp, Cond, DecodeError, Inst, Operand, Reg, Size,
};

/// Field values that exercise the "must be zero" and range rules.
const REGS: [u8; 4] = [0, 1, 10, 11];
const OFFS: [i16; 5] = [0, 1, 8, 32, -1];
const IMMS: [i32; 8] = [0, 1, 16, 32, 64, 0xe1, 0xf1, -1];

#[test]
fn every_decodable_slot_round_trips() {
    let mut accepted = 0;
    for opc in 0..=255u8 {
        for &dst in &REGS {
            for &src in &REGS {
                for &off in &OFFS {
                    for &imm in &IMMS {
                        let slots = [Insn::new(opc, dst, src, off, imm), Insn::default()];
                        if let Ok(inst) = decode_at(&slots, 0) {
                            accepted += 1;
                            let back = encode(&inst);
                            assert_eq!(back[..], slots[..inst.slots()], "{inst:?}");
                        }
                    }
                }
            }
        }
    }
    // Sanity: a large part of the space is valid, not just a handful.
    assert!(accepted > 5000, "only {accepted} slots decoded");
}

proptest! {
    #[test]
    fn random_slots_never_panic(opc: u8, dst in 0u8..16, src in 0u8..16, off: i16, imm: i32, hi: i32) {
        let slots = [Insn::new(opc, dst, src, off, imm), Insn::new(0, 0, 0, 0, hi)];
        if let Ok(inst) = decode_at(&slots, 0) {
            prop_assert_eq!(&encode(&inst)[..], &slots[..inst.slots()]);
        }
    }
}

#[test]
fn hand_decoded_examples() {
    // add64 r1, 5   (0x07 = ALU64|ADD|K)
    let i = decode_at(&[Insn::new(0x07, 1, 0, 0, 5)], 0).unwrap();
    assert_eq!(
        i,
        Inst::Alu {
            is64: true,
            op: AluOp::Add,
            dst: Reg::R1,
            src: Operand::Imm(5)
        }
    );
    // sdiv32 r2, r3 (0x3c = ALU|DIV|X, off 1)
    let i = decode_at(&[Insn::new(0x3c, 2, 3, 1, 0)], 0).unwrap();
    assert_eq!(
        i,
        Inst::Alu {
            is64: false,
            op: AluOp::Sdiv,
            dst: Reg::R2,
            src: Operand::Reg(Reg::R3)
        }
    );
    // ldxsb r0, [r1+2] (0x91 = LDX|MEMSX|B)
    let i = decode_at(&[Insn::new(0x91, 0, 1, 2, 0)], 0).unwrap();
    assert_eq!(
        i,
        Inst::Load {
            size: Size::B,
            signed: true,
            dst: Reg::R0,
            src: Reg::R1,
            off: 2
        }
    );
    // jslt32 r4, -7, +3 (0xc6 = JMP32|JSLT|K)
    let i = decode_at(&[Insn::new(0xc6, 4, 0, 3, -7)], 0).unwrap();
    assert_eq!(
        i,
        Inst::Jump {
            is32: true,
            cond: Cond::Slt,
            dst: Reg::R4,
            src: Operand::Imm(-7),
            off: 3
        }
    );
}

#[test]
fn unused_fields_are_rejected() {
    // call with dst = 1 (bpf_conformance negative/unused-call-dst)
    assert!(matches!(
        decode_at(&[Insn::new(0x85, 1, 0, 0, 0)], 0),
        Err(DecodeError::NonZeroField { field: "dst", .. })
    ));
    // le16 with src = 1
    assert!(decode_at(&[Insn::new(0xd4, 0, 1, 0, 16)], 0).is_err());
    // mov64 with off 32 on a K source is not movsx
    assert!(decode_at(&[Insn::new(0xb7, 0, 0, 32, 0)], 0).is_err());
    // register 11
    assert!(matches!(
        decode_at(&[Insn::new(0xb7, 11, 0, 0, 0)], 0),
        Err(DecodeError::BadRegister { reg: 11, .. })
    ));
}

#[test]
fn lddw_spans_two_slots() {
    let prog = [
        Insn::new(0x18, 0, 0, 0, 0x55667788),
        Insn::new(0, 0, 0, 0, 0x11223344),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    let insts = decode_program(&prog).unwrap();
    assert_eq!(insts.len(), 3);
    assert_eq!(insts[1], Inst::LddwHigh);
    assert!(matches!(
        insts[0],
        Inst::Lddw {
            kind: rvbpf_ebpf::inst::LddwKind::Imm(0x1122_3344_5566_7788),
            ..
        }
    ));
    assert!(matches!(
        decode_program(&prog[..1]),
        Err(DecodeError::IncompleteLddw { pc: 0 })
    ));
}
