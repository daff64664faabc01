//! The three speed workloads shared by the bench and the `emu_speed`
//! example: an ALU loop, a load/store loop and a call-heavy loop. Each ends
//! with `ecall`. Layout: code at `CODE_BASE`, a 64 KiB data block at
//! `DATA_BASE` (pointer in `s0`), stack top in `sp`.

#![allow(dead_code)]

use super::asm::ops::{addi, alu, li, load, shift, store};
use super::asm::Asm;
use super::ckb::Image;
use rvbpf_rv64::{AluOp, BranchOp, Inst, LoadOp, Reg, ShiftOp, StoreOp};

/// Code address (page-aligned, inside ckb-vm's 4 MiB).
pub const CODE_BASE: u64 = 0x1_0000;
/// Data block address.
pub const DATA_BASE: u64 = 0x10_0000;
/// Data block size.
pub const DATA_SIZE: usize = 64 * 1024;
/// Stack block address (stack grows down from its end).
pub const STACK_BASE: u64 = 0x20_0000;
/// Stack block size.
pub const STACK_SIZE: usize = 16 * 1024;

/// A named workload.
pub struct Workload {
    /// Short name for reports.
    pub name: &'static str,
    /// The image to run (code, data, registers).
    pub image: Image,
}

fn image(code: Vec<u8>) -> Image {
    let mut regs = [0; 32];
    regs[usize::from(Reg::S0.index())] = DATA_BASE;
    regs[usize::from(Reg::SP.index())] = STACK_BASE + STACK_SIZE as u64;
    Image {
        code_base: CODE_BASE,
        code,
        data: vec![
            (DATA_BASE, vec![0; DATA_SIZE]),
            (STACK_BASE, vec![0; STACK_SIZE]),
        ],
        regs,
        entry: CODE_BASE,
    }
}

/// 9 instructions per iteration: I, M, Zba and Zbb arithmetic.
pub fn alu_loop(iterations: i32) -> Workload {
    let mut a = Asm::new(true);
    a.all(&li(Reg::T0, iterations));
    a.label("loop").all(&[
        alu(AluOp::Add, Reg::A0, Reg::A0, Reg::T0),
        alu(AluOp::Xor, Reg::A1, Reg::A1, Reg::A0),
        shift(ShiftOp::Slli, Reg::A2, Reg::A0, 3),
        alu(AluOp::Sub, Reg::A3, Reg::A2, Reg::A1),
        alu(AluOp::Mul, Reg::A4, Reg::A3, Reg::T0),
        alu(AluOp::Sh1add, Reg::A5, Reg::A4, Reg::A0),
        alu(AluOp::Andn, Reg::A6, Reg::A5, Reg::A1),
        addi(Reg::T0, Reg::T0, -1),
    ]);
    a.branch(BranchOp::Bne, Reg::T0, Reg::ZERO, "loop")
        .i(Inst::Ecall);
    Workload {
        name: "alu",
        image: image(a.finish()),
    }
}

/// Per outer iteration: 3 + 64 × 8 instructions; 2 loads + 2 stores per inner step.
pub fn load_store_loop(iterations: i32) -> Workload {
    let mut a = Asm::new(true);
    a.all(&li(Reg::T0, iterations));
    a.label("outer")
        .all(&[addi(Reg::T1, Reg::S0, 0), addi(Reg::T2, Reg::ZERO, 64)]);
    a.label("inner").all(&[
        load(LoadOp::Ld, Reg::A0, Reg::T1, 0),
        alu(AluOp::Add, Reg::A0, Reg::A0, Reg::T2),
        store(StoreOp::Sd, Reg::A0, Reg::T1, 8),
        load(LoadOp::Lw, Reg::A1, Reg::T1, 4),
        store(StoreOp::Sw, Reg::A1, Reg::T1, 16),
        addi(Reg::T1, Reg::T1, 8),
        addi(Reg::T2, Reg::T2, -1),
    ]);
    a.branch(BranchOp::Bne, Reg::T2, Reg::ZERO, "inner");
    a.i(addi(Reg::T0, Reg::T0, -1));
    a.branch(BranchOp::Bne, Reg::T0, Reg::ZERO, "outer")
        .i(Inst::Ecall);
    Workload {
        name: "load_store",
        image: image(a.finish()),
    }
}

/// 9 instructions per iteration, two of them jumps (`jal`, `ret`), plus a
/// stack push/pop of `ra` around a nested leaf call every iteration.
pub fn call_loop(iterations: i32) -> Workload {
    let mut a = Asm::new(true);
    a.all(&li(Reg::T0, iterations));
    a.label("loop").i(addi(Reg::A0, Reg::T0, 0));
    a.jal(Reg::RA, "f");
    a.all(&[
        alu(AluOp::Add, Reg::S1, Reg::S1, Reg::A0),
        addi(Reg::T0, Reg::T0, -1),
    ]);
    a.branch(BranchOp::Bne, Reg::T0, Reg::ZERO, "loop")
        .i(Inst::Ecall);
    a.label("f").all(&[
        addi(Reg::SP, Reg::SP, -16),
        store(StoreOp::Sd, Reg::RA, Reg::SP, 8),
    ]);
    a.jal(Reg::RA, "leaf");
    a.all(&[
        load(LoadOp::Ld, Reg::RA, Reg::SP, 8),
        addi(Reg::SP, Reg::SP, 16),
        Inst::RET,
    ]);
    a.label("leaf").all(&[
        addi(Reg::A0, Reg::A0, 1),
        shift(ShiftOp::Slli, Reg::A0, Reg::A0, 1),
        Inst::RET,
    ]);
    Workload {
        name: "call",
        image: image(a.finish()),
    }
}

/// All three workloads, sized for `iterations` loop trips.
pub fn all(iterations: i32) -> Vec<Workload> {
    vec![
        alu_loop(iterations),
        load_store_loop(iterations / 64),
        call_loop(iterations),
    ]
}
