//! Hand-written emulator tests per instruction class. Expected values are
//! worked out by hand from the RISC-V unprivileged spec (comments show how).

mod emu_support;

use emu_support::asm::ops::{addi, alu, imm, li, load, lui, shift, store};
use emu_support::asm::Asm;
use rvbpf_rv64::emu::{Counters, Hart, Memory, Perms, Stop};
use rvbpf_rv64::{
    AluImmOp, AluOp, AmoOp, AmoWidth, BranchOp, Imm12, Imm20, Inst, LoadOp, Ordering, Reg, Shamt,
    ShiftOp, ShiftWOp, StoreOp, UnaryOp,
};

const CODE: u64 = 0x1000;
const DATA: u64 = 0x8000;

/// Runs `build`'s program (followed by `ecall`) with `regs` preset; `s0`
/// points at a zeroed 4 KiB RW block at `DATA`.
fn run_with(regs: &[(Reg, u64)], compressed: bool, build: impl FnOnce(&mut Asm)) -> (Hart, Memory) {
    let mut a = Asm::new(compressed);
    build(&mut a);
    a.i(Inst::Ecall);
    let mut mem = Memory::new();
    mem.add_region("code", CODE, Perms::RX, a.finish()).unwrap();
    mem.add_zeroed_region("data", DATA, 4096, Perms::RW)
        .unwrap();
    let mut hart = Hart::new();
    hart.set_reg(Reg::S0, DATA);
    for &(r, v) in regs {
        hart.set_reg(r, v);
    }
    hart.set_pc(CODE);
    let stop = hart.run(&mut mem).expect("program runs");
    assert!(matches!(stop, Stop::Ecall { .. }), "{stop:?}");
    (hart, mem)
}

/// `rd = op(a, b)` for a register-register op.
fn rr(op: AluOp, a: u64, b: u64) -> u64 {
    let (h, _) = run_with(&[(Reg::A1, a), (Reg::A2, b)], false, |asm| {
        asm.i(alu(op, Reg::A0, Reg::A1, Reg::A2));
    });
    h.reg(Reg::A0)
}

fn unary(op: UnaryOp, a: u64) -> u64 {
    let (h, _) = run_with(&[(Reg::A1, a)], false, |asm| {
        asm.i(Inst::Unary {
            op,
            rd: Reg::A0,
            rs1: Reg::A1,
        });
    });
    h.reg(Reg::A0)
}

fn ri(op: AluImmOp, a: u64, v: i64) -> u64 {
    let (h, _) = run_with(&[(Reg::A1, a)], false, |asm| {
        asm.i(imm(op, Reg::A0, Reg::A1, v));
    });
    h.reg(Reg::A0)
}

fn sh(op: ShiftOp, a: u64, s: u32) -> u64 {
    let (h, _) = run_with(&[(Reg::A1, a)], false, |asm| {
        asm.i(shift(op, Reg::A0, Reg::A1, s));
    });
    h.reg(Reg::A0)
}

fn shw(op: ShiftWOp, a: u64, s: u32) -> u64 {
    let (h, _) = run_with(&[(Reg::A1, a)], false, |asm| {
        asm.i(Inst::ShiftW {
            op,
            rd: Reg::A0,
            rs1: Reg::A1,
            shamt: rvbpf_rv64::ShamtW::new(s).unwrap(),
        });
    });
    h.reg(Reg::A0)
}

const NEG1: u64 = u64::MAX;

#[test]
fn base_register_ops() {
    assert_eq!(rr(AluOp::Add, NEG1, 2), 1); // wraps
    assert_eq!(rr(AluOp::Sub, 0, 1), NEG1);
    assert_eq!(rr(AluOp::Sll, 1, 65), 2); // only shamt[5:0] = 1 counts
    assert_eq!(rr(AluOp::Srl, 0x8000_0000_0000_0000, 63), 1);
    assert_eq!(rr(AluOp::Sra, (-16i64) as u64, 2), (-4i64) as u64);
    assert_eq!(rr(AluOp::Slt, NEG1, 1), 1); // -1 < 1 signed
    assert_eq!(rr(AluOp::Sltu, NEG1, 1), 0); // 2^64-1 > 1 unsigned
    assert_eq!(rr(AluOp::Xor, 0b1100, 0b1010), 0b0110);
    assert_eq!(rr(AluOp::Or, 0b1100, 0b1010), 0b1110);
    assert_eq!(rr(AluOp::And, 0b1100, 0b1010), 0b1000);
    // 32-bit ops compute on the low word and sign-extend bit 31.
    assert_eq!(rr(AluOp::Addw, 0x7fff_ffff, 1), 0xffff_ffff_8000_0000);
    assert_eq!(rr(AluOp::Subw, 0x1_0000_0000, 1), NEG1); // 0 - 1 in 32 bits
    assert_eq!(rr(AluOp::Sllw, 1, 33), 2); // shamt[4:0] = 1
    assert_eq!(rr(AluOp::Srlw, 0xffff_ffff_8000_0000, 4), 0x0800_0000);
    assert_eq!(rr(AluOp::Sraw, 0x8000_0000, 4), 0xffff_ffff_f800_0000);
}

#[test]
fn immediate_ops() {
    assert_eq!(ri(AluImmOp::Addi, 5, -7), (-2i64) as u64);
    assert_eq!(ri(AluImmOp::Slti, (-5i64) as u64, -4), 1);
    // sltiu sign-extends the immediate, then compares unsigned: 5 < 2^64-1.
    assert_eq!(ri(AluImmOp::Sltiu, 5, -1), 1);
    assert_eq!(ri(AluImmOp::Xori, 0xff, -1), !0xffu64);
    assert_eq!(ri(AluImmOp::Ori, 0x100, 0x0ff), 0x1ff);
    assert_eq!(ri(AluImmOp::Andi, NEG1, 0x7f0), 0x7f0);
    assert_eq!(ri(AluImmOp::Addiw, 0x7fff_ffff, 1), 0xffff_ffff_8000_0000);
    assert_eq!(sh(ShiftOp::Slli, 3, 62), 0xc000_0000_0000_0000);
    assert_eq!(sh(ShiftOp::Srli, NEG1, 60), 0xf);
    assert_eq!(sh(ShiftOp::Srai, 0x8000_0000_0000_0000, 60), NEG1 - 7); // ...fff8
    assert_eq!(shw(ShiftWOp::Slliw, 0x4000_0000, 1), 0xffff_ffff_8000_0000);
    assert_eq!(shw(ShiftWOp::Srliw, 0xffff_ffff_8000_0000, 31), 1);
    assert_eq!(shw(ShiftWOp::Sraiw, 0x8000_0000, 31), NEG1);
}

#[test]
fn upper_immediates() {
    let (h, _) = run_with(&[], false, |a| {
        // lui a0, 0x80000 -> 0x80000 << 12 sign-extended.
        a.i(Inst::Lui {
            rd: Reg::A0,
            imm: Imm20::from_bits(0x80000).unwrap(),
        });
        // auipc a1, 2 at CODE + 4 -> CODE + 4 + 0x2000.
        a.i(Inst::Auipc {
            rd: Reg::A1,
            imm: Imm20::new(2).unwrap(),
        });
        a.all(&li(Reg::A2, 0x1234_5678));
    });
    assert_eq!(h.reg(Reg::A0), 0xffff_ffff_8000_0000);
    assert_eq!(h.reg(Reg::A1), CODE + 4 + 0x2000);
    assert_eq!(h.reg(Reg::A2), 0x1234_5678);
}

#[test]
fn multiply_divide() {
    assert_eq!(rr(AluOp::Mul, 0x1_0000_0001, 0x1_0000_0001), 0x2_0000_0001); // mod 2^64
    assert_eq!(rr(AluOp::Mulh, NEG1, 2), NEG1); // -2 -> high word all ones
    assert_eq!(rr(AluOp::Mulhu, 1 << 63, 4), 2);
    assert_eq!(rr(AluOp::Mulhsu, NEG1, 3), NEG1); // -3 -> high word -1
    assert_eq!(rr(AluOp::Mulw, 0x1_0000_0001, 0x1_0000_0001), 1); // low word 1
    assert_eq!(rr(AluOp::Div, (-7i64) as u64, 2), (-3i64) as u64);
    assert_eq!(rr(AluOp::Divu, 7, 0), NEG1);
    assert_eq!(rr(AluOp::Rem, (-7i64) as u64, 2), NEG1);
    assert_eq!(rr(AluOp::Remu, 7, 0), 7);
    assert_eq!(rr(AluOp::Div, 1 << 63, NEG1), 1 << 63); // overflow
    assert_eq!(rr(AluOp::Divw, 0xffff_ffff_ffff_fff9, 2), (-3i64) as u64);
    assert_eq!(rr(AluOp::Divuw, 0xffff_ffff, 1), NEG1); // 2^32-1 sign-extended
    assert_eq!(rr(AluOp::Remw, 7, 0), 7);
    assert_eq!(rr(AluOp::Remuw, 0x1_0000_0007, 4), 3);
}

#[test]
fn zba() {
    assert_eq!(rr(AluOp::Sh1add, 3, 10), 16);
    assert_eq!(rr(AluOp::Sh2add, 3, 10), 22);
    assert_eq!(rr(AluOp::Sh3add, 3, 10), 34);
    // The .uw forms zero-extend rs1's low word first.
    assert_eq!(rr(AluOp::AddUw, 0x8000_0000_ffff_ffff, 1), 0x1_0000_0000);
    assert_eq!(rr(AluOp::Sh1addUw, 0xffff_ffff_0000_0002, 1), 5);
    assert_eq!(rr(AluOp::Sh2addUw, 0xffff_ffff_0000_0002, 1), 9);
    assert_eq!(rr(AluOp::Sh3addUw, 0xffff_ffff_0000_0002, 1), 17);
    assert_eq!(sh(ShiftOp::SlliUw, NEG1, 4), 0xf_ffff_fff0);
}

#[test]
fn zbb() {
    assert_eq!(unary(UnaryOp::Clz, 1), 63);
    assert_eq!(unary(UnaryOp::Clz, 0), 64);
    assert_eq!(unary(UnaryOp::Ctz, 0), 64);
    assert_eq!(unary(UnaryOp::Ctz, 0x100), 8);
    assert_eq!(unary(UnaryOp::Cpop, 0xff_00ff), 16);
    assert_eq!(unary(UnaryOp::Clzw, 0x1_0000_0000), 32); // low word is 0
    assert_eq!(unary(UnaryOp::Ctzw, 0x1_0000_0000), 32);
    assert_eq!(unary(UnaryOp::Cpopw, 0xffff_ffff_0000_0003), 2);
    assert_eq!(unary(UnaryOp::SextB, 0x80), 0xffff_ffff_ffff_ff80);
    assert_eq!(unary(UnaryOp::SextH, 0x1234_8000), 0xffff_ffff_ffff_8000);
    assert_eq!(unary(UnaryOp::ZextH, 0xffff_1234_5678), 0x5678);
    assert_eq!(
        unary(UnaryOp::Rev8, 0x0102_0304_0506_0708),
        0x0807_0605_0403_0201
    );
    assert_eq!(
        unary(UnaryOp::OrcB, 0x0000_0100_0000_0001),
        0x0000_ff00_0000_00ff
    );
    assert_eq!(rr(AluOp::Rol, 0x8000_0000_0000_0001, 1), 3);
    assert_eq!(rr(AluOp::Ror, 1, 65), 1 << 63); // amount 65 & 63 = 1
    assert_eq!(rr(AluOp::Rolw, 0x8000_0001, 1), 3);
    assert_eq!(rr(AluOp::Rorw, 1, 1), 0xffff_ffff_8000_0000);
    assert_eq!(sh(ShiftOp::Rori, 1, 4), 1 << 60);
    assert_eq!(shw(ShiftWOp::Roriw, 0x10, 4), 1);
    assert_eq!(rr(AluOp::Andn, 0b1100, 0b1010), 0b0100);
    assert_eq!(rr(AluOp::Orn, 0, NEG1 - 1), 1);
    assert_eq!(rr(AluOp::Xnor, 5, 5), NEG1);
    assert_eq!(rr(AluOp::Max, NEG1, 1), 1);
    assert_eq!(rr(AluOp::Maxu, NEG1, 1), NEG1);
    assert_eq!(rr(AluOp::Min, NEG1, 1), NEG1);
    assert_eq!(rr(AluOp::Minu, NEG1, 1), 1);
}

#[test]
fn loads_and_stores_sign_and_zero_extend() {
    let v = 0x8899_aabb_ccdd_eeffu64;
    let (h, mem) = run_with(&[(Reg::A1, v)], false, |a| {
        a.all(&[
            store(StoreOp::Sd, Reg::A1, Reg::S0, 0),
            load(LoadOp::Lb, Reg::T0, Reg::S0, 0),
            load(LoadOp::Lbu, Reg::T1, Reg::S0, 0),
            load(LoadOp::Lh, Reg::T2, Reg::S0, 0),
            load(LoadOp::Lhu, Reg::A2, Reg::S0, 0),
            load(LoadOp::Lw, Reg::A3, Reg::S0, 0),
            load(LoadOp::Lwu, Reg::A4, Reg::S0, 0),
            // Misaligned: bytes 1..9 (byte 8 is still 0).
            load(LoadOp::Ld, Reg::A5, Reg::S0, 1),
            store(StoreOp::Sb, Reg::A1, Reg::S0, 16),
            store(StoreOp::Sh, Reg::A1, Reg::S0, 19), // misaligned
            store(StoreOp::Sw, Reg::A1, Reg::S0, 24),
        ]);
    });
    assert_eq!(h.reg(Reg::T0), NEG1); // 0xff
    assert_eq!(h.reg(Reg::T1), 0xff);
    assert_eq!(h.reg(Reg::T2), 0xffff_ffff_ffff_eeff);
    assert_eq!(h.reg(Reg::A2), 0xeeff);
    assert_eq!(h.reg(Reg::A3), 0xffff_ffff_ccdd_eeff);
    assert_eq!(h.reg(Reg::A4), 0xccdd_eeff);
    assert_eq!(h.reg(Reg::A5), 0x0088_99aa_bbcc_ddee);
    assert_eq!(mem.read_u64(DATA + 16).unwrap(), 0x0000_00ee_ff00_00ff);
    assert_eq!(mem.read_u32(DATA + 24).unwrap(), 0xccdd_eeff);
    let c = h.counters();
    assert_eq!((c.loads, c.stores, c.instructions), (7, 4, 12));
}

#[test]
fn writes_to_x0_are_discarded_but_loads_still_happen() {
    let (h, _) = run_with(&[(Reg::A1, 9)], true, |a| {
        a.all(&[
            addi(Reg::ZERO, Reg::ZERO, 5),
            load(LoadOp::Ld, Reg::ZERO, Reg::S0, 0),
            alu(AluOp::Add, Reg::A0, Reg::ZERO, Reg::A1),
        ]);
        a.jal(Reg::ZERO, "next").label("next");
    });
    assert_eq!(h.reg(Reg::ZERO), 0);
    assert_eq!(h.reg(Reg::A0), 9);
    assert_eq!(h.counters().loads, 1);
}

#[test]
fn jumps_branches_and_their_counters() {
    let (h, _) = run_with(&[], true, |a| {
        a.all(&li(Reg::T0, 3));
        // loop: a0 += 2 three times (2 taken bne, 1 fall-through).
        a.label("loop")
            .i(addi(Reg::A0, Reg::A0, 2))
            .i(addi(Reg::T0, Reg::T0, -1));
        a.branch(BranchOp::Bne, Reg::T0, Reg::ZERO, "loop");
        a.branch(BranchOp::Blt, Reg::ZERO, Reg::A0, "call"); // 0 < 6: taken
        a.i(addi(Reg::A0, Reg::ZERO, 99)); // skipped
        a.label("call").jal(Reg::RA, "f"); // ra = address after the jal
        a.i(addi(Reg::A1, Reg::RA, 0));
        a.jal(Reg::ZERO, "end");
        a.label("f").i(addi(Reg::A0, Reg::A0, 100)).i(Inst::RET);
        a.label("end");
    });
    assert_eq!(h.reg(Reg::A0), 106);
    // li(1) + 3*(addi, addi, bne) + blt + jal + addi(f) + ret + addi + jal + ecall
    let expected = Counters {
        instructions: 1 + 9 + 1 + 1 + 2 + 1 + 1 + 1,
        taken_branches: 3,
        jumps: 3,
        ..Counters::default()
    };
    assert_eq!(h.counters(), expected);
    // ra = address after `jal f`: c.li(2) + c.addi(2) + c.addi(2) + bne(4)
    // + blt(4) + addi(4: 99 does not fit c.li's 6-bit immediate) = 18 bytes
    // before the 4-byte jal.
    assert_eq!(h.reg(Reg::A1), CODE + 22);
}

#[test]
fn jalr_clears_bit_zero_and_links_before_jumping() {
    // jalr a0, 1(a0): target = (a0 + 1) & !1, and rd = rs1 must read the
    // old a0 first.
    let target = CODE + 12;
    let (h, _) = run_with(&[(Reg::A0, target)], false, |a| {
        a.i(Inst::Jalr {
            rd: Reg::A0,
            rs1: Reg::A0,
            offset: Imm12::new(1).unwrap(),
        });
        a.i(addi(Reg::A1, Reg::ZERO, 1)); // CODE + 4: skipped
        a.i(addi(Reg::A1, Reg::ZERO, 2)); // CODE + 8: skipped
        a.i(addi(Reg::A2, Reg::ZERO, 3)); // CODE + 12: target
    });
    assert_eq!(h.reg(Reg::A0), CODE + 4);
    assert_eq!(h.reg(Reg::A1), 0);
    assert_eq!(h.reg(Reg::A2), 3);
}

#[test]
fn compressed_and_full_encodings_agree() {
    let build = |a: &mut Asm| {
        a.all(&[
            addi(Reg::S1, Reg::ZERO, 13),
            shift(ShiftOp::Slli, Reg::S1, Reg::S1, 3),
            alu(AluOp::Sub, Reg::S1, Reg::S1, Reg::A1),
            store(StoreOp::Sd, Reg::S1, Reg::S0, 8),
            load(LoadOp::Lw, Reg::A0, Reg::S0, 8),
            lui(Reg::A2, 5),
        ]);
    };
    let (full, _) = run_with(&[(Reg::A1, 4)], false, build);
    let (short, _) = run_with(&[(Reg::A1, 4)], true, build);
    assert_eq!(full.reg(Reg::A0), 13 * 8 - 4);
    assert_eq!(full.regs(), short.regs());
    assert_eq!(full.counters(), short.counters());
    assert!(short.pc() < full.pc(), "the compressed program is shorter");
}

fn amo(op: AmoOp, width: AmoWidth, rd: Reg, rs2: Reg) -> Inst {
    Inst::Amo {
        op,
        width,
        ordering: Ordering::AcqRel,
        rd,
        rs1: Reg::S0,
        rs2,
    }
}

#[test]
fn amos_return_the_old_value_and_update_memory() {
    let (h, mem) = run_with(&[(Reg::A1, 0xffff_fffe), (Reg::A2, 3)], false, |a| {
        a.all(&[
            store(StoreOp::Sw, Reg::A1, Reg::S0, 0), // mem32 = 0xffff_fffe
            amo(AmoOp::Add, AmoWidth::W, Reg::A0, Reg::A2), // a0 = sext(old), mem32 = 1
            amo(AmoOp::Max, AmoWidth::W, Reg::A3, Reg::A1), // signed: max(1, -2) = 1
            amo(AmoOp::Maxu, AmoWidth::W, Reg::A4, Reg::A1), // unsigned: 0xffff_fffe
            amo(AmoOp::Swap, AmoWidth::D, Reg::A5, Reg::A2), // a5 = 0xffff_fffe, mem64 = 3
        ]);
    });
    assert_eq!(h.reg(Reg::A0), 0xffff_ffff_ffff_fffe);
    assert_eq!(h.reg(Reg::A3), 1);
    assert_eq!(h.reg(Reg::A4), 1);
    assert_eq!(h.reg(Reg::A5), 0xffff_fffe);
    assert_eq!(mem.read_u64(DATA).unwrap(), 3);
    let c = h.counters();
    assert_eq!((c.loads, c.stores), (4, 5));
}

fn lr(width: AmoWidth, rd: Reg, rs1: Reg) -> Inst {
    Inst::Lr {
        width,
        ordering: Ordering::Relaxed,
        rd,
        rs1,
    }
}
fn sc(width: AmoWidth, rd: Reg, rs1: Reg, rs2: Reg) -> Inst {
    Inst::Sc {
        width,
        ordering: Ordering::Relaxed,
        rd,
        rs1,
        rs2,
    }
}

#[test]
fn lr_sc_reservation_rules() {
    let (h, mem) = run_with(&[(Reg::A1, 7), (Reg::S1, DATA + 8)], false, |a| {
        a.all(&[
            // 1. lr; sc same address: succeeds (0), writes.
            lr(AmoWidth::D, Reg::T0, Reg::S0),
            sc(AmoWidth::D, Reg::T1, Reg::S0, Reg::A1),
            // 2. The sc consumed the reservation: a second sc fails (1).
            sc(AmoWidth::D, Reg::T2, Reg::S0, Reg::ZERO),
            // 3. A plain store to the reserved address clears it.
            lr(AmoWidth::W, Reg::T0, Reg::S0),
            store(StoreOp::Sb, Reg::ZERO, Reg::S0, 3),
            sc(AmoWidth::W, Reg::A2, Reg::S0, Reg::ZERO),
            // 4. sc to another address than the reserved one fails, no write.
            lr(AmoWidth::D, Reg::T0, Reg::S0),
            sc(AmoWidth::D, Reg::A3, Reg::S1, Reg::A1),
            // 5. A store elsewhere keeps the reservation.
            lr(AmoWidth::D, Reg::T0, Reg::S0),
            store(StoreOp::Sd, Reg::A1, Reg::S0, 16),
            sc(AmoWidth::D, Reg::A4, Reg::S0, Reg::A1),
        ]);
    });
    assert_eq!(h.reg(Reg::T1), 0);
    assert_eq!(h.reg(Reg::T2), 1);
    assert_eq!(h.reg(Reg::A2), 1);
    assert_eq!(h.reg(Reg::A3), 1);
    assert_eq!(h.reg(Reg::A4), 0);
    assert_eq!(mem.read_u64(DATA).unwrap(), 7);
    assert_eq!(mem.read_u64(DATA + 8).unwrap(), 0);
    // stores: 2 successful sc.d + sb + sd; failed sc writes nothing.
    assert_eq!(h.counters().stores, 4);
}

#[test]
fn ebreak_and_ecall_stop_after_retiring() {
    let mut a = Asm::new(false);
    a.i(addi(Reg::A0, Reg::ZERO, 1))
        .i(Inst::Ebreak)
        .i(Inst::Ecall);
    let mut mem = Memory::new();
    mem.add_region("code", CODE, Perms::RX, a.finish()).unwrap();
    let mut hart = Hart::new();
    hart.set_pc(CODE);
    assert_eq!(hart.run(&mut mem), Ok(Stop::Ebreak { pc: CODE + 4 }));
    assert_eq!(hart.pc(), CODE + 8);
    assert_eq!(hart.run(&mut mem), Ok(Stop::Ecall { pc: CODE + 8 }));
    assert_eq!(hart.counters().instructions, 3);
}

#[test]
fn shamt_type_is_used_for_shifts() {
    // Guard for the helpers above: Shamt 63 is accepted, 64 is not.
    assert!(Shamt::new(63).is_some());
    assert!(Shamt::new(64).is_none());
}
