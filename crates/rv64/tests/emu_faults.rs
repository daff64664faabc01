//! Typed failures: memory faults, permission faults, execution outside code,
//! illegal instructions, misaligned atomics and budget exhaustion. Each test
//! also checks that the faulting instruction did not retire or take effect.

mod emu_support;

use emu_support::asm::ops::{addi, li, load, store};
use emu_support::asm::Asm;
use rvbpf_rv64::emu::{Access, EmuError, Hart, Memory, Perms, Stop};
use rvbpf_rv64::{AmoOp, AmoWidth, Inst, LoadOp, Ordering, Reg, StoreOp};

const CODE: u64 = 0x1000;
const DATA: u64 = 0x8000;
const RO: u64 = 0x9000;
const XO: u64 = 0xa000;

/// Code at `CODE` (RX), 4 KiB RW at `DATA`, 4 KiB R at `RO` holding 0x11
/// bytes, 4 KiB execute-only at `XO`; `s0` = `DATA`, `s1` = `RO`, `s2` = `XO`.
fn setup(build: impl FnOnce(&mut Asm)) -> (Hart, Memory) {
    let mut a = Asm::new(false);
    build(&mut a);
    let mut mem = Memory::new();
    mem.add_region("code", CODE, Perms::RX, a.finish()).unwrap();
    mem.add_zeroed_region("data", DATA, 4096, Perms::RW)
        .unwrap();
    mem.add_region("rodata", RO, Perms::R, vec![0x11; 4096])
        .unwrap();
    mem.add_zeroed_region("xonly", XO, 4096, Perms::X).unwrap();
    let mut hart = Hart::new();
    hart.set_reg(Reg::S0, DATA);
    hart.set_reg(Reg::S1, RO);
    hart.set_reg(Reg::S2, XO);
    hart.set_pc(CODE);
    (hart, mem)
}

#[test]
fn unmapped_read_faults_at_the_load() {
    let (mut hart, mut mem) = setup(|a| {
        a.i(addi(Reg::A0, Reg::ZERO, 1));
        a.all(&li(Reg::T0, 0x5000_0000));
        a.i(load(LoadOp::Lw, Reg::A0, Reg::T0, 8));
        a.i(Inst::Ecall);
    });
    let err = hart.run(&mut mem).unwrap_err();
    // addi (4) + lui (4; the low 12 bits are 0) -> the lw is at CODE + 8.
    assert_eq!(
        err,
        EmuError::Fault {
            pc: CODE + 8,
            addr: 0x5000_0008,
            size: 4,
            access: Access::Read
        }
    );
    assert_eq!(hart.pc(), CODE + 8);
    assert_eq!(hart.reg(Reg::A0), 1, "the faulting load wrote nothing");
    assert_eq!(hart.counters().instructions, 2);
    assert_eq!(hart.counters().loads, 0);
}

#[test]
fn write_to_read_only_region_faults_and_leaves_memory_alone() {
    let (mut hart, mut mem) = setup(|a| {
        a.i(store(StoreOp::Sd, Reg::ZERO, Reg::S1, 0))
            .i(Inst::Ecall);
    });
    let err = hart.run(&mut mem).unwrap_err();
    assert_eq!(
        err,
        EmuError::Fault {
            pc: CODE,
            addr: RO,
            size: 8,
            access: Access::Write
        }
    );
    assert_eq!(mem.read_u64(RO).unwrap(), 0x1111_1111_1111_1111);
    assert_eq!(hart.counters().instructions, 0);
}

#[test]
fn reading_execute_only_memory_faults() {
    let (mut hart, mut mem) = setup(|a| {
        a.i(load(LoadOp::Lbu, Reg::A0, Reg::S2, 0)).i(Inst::Ecall);
    });
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::Fault {
            pc: CODE,
            addr: XO,
            size: 1,
            access: Access::Read
        })
    );
}

#[test]
fn access_straddling_two_regions_faults_even_if_both_allow_it() {
    let mut mem = Memory::new();
    let mut a = Asm::new(false);
    a.i(load(LoadOp::Ld, Reg::A0, Reg::S0, 2044)).i(Inst::Ecall); // DATA + 4092
    mem.add_region("code", CODE, Perms::RX, a.finish()).unwrap();
    mem.add_zeroed_region("lo", DATA, 4096, Perms::RW).unwrap();
    mem.add_zeroed_region("hi", DATA + 4096, 4096, Perms::RW)
        .unwrap();
    let mut hart = Hart::new();
    hart.set_reg(Reg::S0, DATA + 2048);
    hart.set_pc(CODE);
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::Fault {
            pc: CODE,
            addr: DATA + 4092,
            size: 8,
            access: Access::Read
        })
    );
}

#[test]
fn misaligned_access_inside_a_region_is_allowed() {
    let (mut hart, mut mem) = setup(|a| {
        a.i(load(LoadOp::Ld, Reg::A0, Reg::S1, 2047)).i(Inst::Ecall); // odd address
    });
    assert!(matches!(hart.run(&mut mem), Ok(Stop::Ecall { .. })));
    assert_eq!(hart.reg(Reg::A0), 0x1111_1111_1111_1111);
}

#[test]
fn executing_data_faults_at_the_target() {
    let (mut hart, mut mem) = setup(|a| {
        a.i(Inst::Jalr {
            rd: Reg::RA,
            rs1: Reg::S0,
            offset: rvbpf_rv64::Imm12::ZERO,
        });
    });
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::Fault {
            pc: DATA,
            addr: DATA,
            size: 2,
            access: Access::Execute
        })
    );
    assert_eq!(hart.reg(Reg::RA), CODE + 4, "the jump itself retired");
    assert_eq!(hart.counters().instructions, 1);
}

#[test]
fn executing_unmapped_memory_faults() {
    let mut mem = Memory::new();
    let mut hart = Hart::new();
    hart.set_pc(0x4242_0000);
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::Fault {
            pc: 0x4242_0000,
            addr: 0x4242_0000,
            size: 2,
            access: Access::Execute
        })
    );
}

#[test]
fn illegal_instructions_are_typed_errors_with_their_bits() {
    // 0x0000_0000 is the defined-illegal all-zero parcel; 0xffff_ffff is a
    // reserved >32-bit length prefix; 0x0000_0073 with funct12 = 0x7ff is
    // not an instruction of RV64IMAC (a CSR space encoding without Zicsr).
    for (word, bits) in [
        (0u32, 0u32),
        (0xffff_ffff, 0xffff_ffff),
        (0x7ff0_0073, 0x7ff0_0073),
    ] {
        let mut code = addi_word(Reg::A0, 1).to_vec();
        code.extend_from_slice(&word.to_le_bytes());
        let mut mem = Memory::new();
        mem.add_region("code", CODE, Perms::RX, code).unwrap();
        let mut hart = Hart::new();
        hart.set_pc(CODE);
        assert_eq!(
            hart.run(&mut mem),
            Err(EmuError::IllegalInstruction { pc: CODE + 4, bits }),
            "word {word:#x}"
        );
        assert_eq!(hart.counters().instructions, 1);
        assert_eq!(hart.reg(Reg::A0), 1);
    }
}

fn addi_word(rd: Reg, v: i64) -> [u8; 4] {
    rvbpf_rv64::encode(&addi(rd, Reg::ZERO, v)).to_le_bytes()
}

#[test]
fn a_32_bit_instruction_cut_by_the_region_end_is_a_fetch_fault() {
    let mut code = addi_word(Reg::A0, 1).to_vec();
    code.extend_from_slice(&addi_word(Reg::A0, 2)[..2]);
    let mut mem = Memory::new();
    mem.add_region("code", CODE, Perms::RX, code).unwrap();
    let mut hart = Hart::new();
    hart.set_pc(CODE);
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::Fault {
            pc: CODE + 4,
            addr: CODE + 4,
            size: 4,
            access: Access::Execute
        })
    );
}

#[test]
fn misaligned_atomics_are_rejected() {
    let (mut hart, mut mem) = setup(|a| {
        a.i(addi(Reg::T0, Reg::S0, 4));
        a.i(Inst::Amo {
            op: AmoOp::Add,
            width: AmoWidth::D,
            ordering: Ordering::Relaxed,
            rd: Reg::A0,
            rs1: Reg::T0,
            rs2: Reg::T0,
        });
    });
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::MisalignedAtomic {
            pc: CODE + 4,
            addr: DATA + 4
        })
    );
    assert_eq!(mem.read_u64(DATA).unwrap(), 0);
}

#[test]
fn amo_on_read_only_memory_faults_without_writing_rd() {
    let (mut hart, mut mem) = setup(|a| {
        a.i(Inst::Amo {
            op: AmoOp::Swap,
            width: AmoWidth::W,
            ordering: Ordering::Relaxed,
            rd: Reg::A0,
            rs1: Reg::S1,
            rs2: Reg::ZERO,
        });
    });
    hart.set_reg(Reg::A0, 5);
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::Fault {
            pc: CODE,
            addr: RO,
            size: 4,
            access: Access::Write
        })
    );
    assert_eq!(hart.reg(Reg::A0), 5);
    assert_eq!(hart.counters().loads, 0);
}

/// Ten `addi a0, a0, 1` then `ecall`.
fn counting_program() -> (Hart, Memory) {
    setup(|a| {
        for _ in 0..10 {
            a.i(addi(Reg::A0, Reg::A0, 1));
        }
        a.i(Inst::Ecall);
    })
}

#[test]
fn budget_stops_exactly_inside_a_straight_line_run_and_resumes() {
    let (mut hart, mut mem) = counting_program();
    hart.set_budget(5);
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::BudgetExhausted { pc: CODE + 20 })
    );
    assert_eq!(hart.reg(Reg::A0), 5);
    assert_eq!(hart.counters().instructions, 5);
    assert_eq!(hart.budget(), 0);
    hart.set_budget(100);
    assert_eq!(hart.run(&mut mem), Ok(Stop::Ecall { pc: CODE + 40 }));
    assert_eq!(hart.reg(Reg::A0), 10);
    assert_eq!(hart.counters().instructions, 11);
    assert_eq!(hart.budget(), 94); // 5 addi + ecall ran in the second run
}

#[test]
fn budget_exactly_enough_finishes() {
    let (mut hart, mut mem) = counting_program();
    hart.set_budget(11);
    assert!(matches!(hart.run(&mut mem), Ok(Stop::Ecall { .. })));
    assert_eq!(hart.budget(), 0);
}

#[test]
fn budget_bounds_an_infinite_loop() {
    let (mut hart, mut mem) = setup(|a| {
        a.label("spin")
            .i(addi(Reg::A0, Reg::A0, 1))
            .jal(Reg::ZERO, "spin");
    });
    hart.set_budget(1001);
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::BudgetExhausted { pc: CODE + 4 })
    );
    assert_eq!(hart.reg(Reg::A0), 501);
    assert_eq!(hart.counters().instructions, 1001);
    assert_eq!(hart.counters().jumps, 500);
}

#[test]
fn fault_in_the_middle_of_a_chain_counts_only_retired_instructions() {
    let (mut hart, mut mem) = setup(|a| {
        a.i(addi(Reg::A0, Reg::A0, 1))
            .i(addi(Reg::A0, Reg::A0, 1))
            .i(store(StoreOp::Sw, Reg::A0, Reg::S1, 0)) // read-only: faults
            .i(addi(Reg::A0, Reg::A0, 1))
            .i(Inst::Ecall);
    });
    hart.set_budget(50);
    assert!(hart.run(&mut mem).is_err());
    assert_eq!(hart.counters().instructions, 2);
    assert_eq!(hart.budget(), 48);
}
