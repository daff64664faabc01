//! Runs an RV64 code image in ckb-vm, the independent oracle for the
//! emulator's differential tests and the baseline of the speed comparison.
//!
//! Every ckb-vm instruction costs one cycle here, so its cycle count is the
//! number of instructions retired (ckb-vm charges the cycle before executing,
//! so an `ecall` that ends the run is counted, as in our emulator). Any
//! `ecall` stops the machine.

#![allow(dead_code)]

use ckb_vm::machine::VERSION2;
use ckb_vm::memory::{FLAG_EXECUTABLE, FLAG_WRITABLE};
use ckb_vm::{
    Bytes, DefaultCoreMachine, DefaultMachine, DefaultMachineBuilder, DefaultMachineRunner,
    FlatMemory, Memory, SupportMachine, Syscalls, TraceMachine, ISA_A, ISA_B, ISA_IMC,
};

/// ckb-vm's flat memory size (its maximum, 4 MiB); guest addresses must fit.
pub const MEMORY_SIZE: usize = 4 << 20;
const PAGE: u64 = 4096;

/// Code, data and register state to start from.
#[derive(Debug, Clone)]
pub struct Image {
    /// Where `code` goes (page-aligned).
    pub code_base: u64,
    /// Machine code.
    pub code: Vec<u8>,
    /// Read-write data blocks `(base, bytes)`, page-aligned bases.
    pub data: Vec<(u64, Vec<u8>)>,
    /// Initial `x0..x31` (`x0` ignored).
    pub regs: [u64; 32],
    /// Initial pc.
    pub entry: u64,
}

/// What ckb-vm ended with.
#[derive(Debug)]
pub struct Outcome {
    /// `Ok(exit code)` when an `ecall` stopped it.
    pub result: Result<i8, ckb_vm::Error>,
    /// Final registers.
    pub regs: [u64; 32],
    /// Final pc.
    pub pc: u64,
    /// Instructions retired (= cycles at one cycle per instruction).
    pub instructions: u64,
    /// Final contents of each `Image::data` block, in order.
    pub data: Vec<Vec<u8>>,
}

/// Stops the machine on every `ecall` (ckb-vm itself only knows `exit`).
struct StopOnEcall;

impl<Mac: SupportMachine> Syscalls<Mac> for StopOnEcall {
    fn initialize(&mut self, _machine: &mut Mac) -> Result<(), ckb_vm::Error> {
        Ok(())
    }
    fn ecall(&mut self, machine: &mut Mac) -> Result<bool, ckb_vm::Error> {
        machine.set_running(false);
        Ok(true)
    }
}

fn round_up(n: u64) -> u64 {
    n.div_ceil(PAGE) * PAGE
}

/// Loads `image` into any ckb-vm machine: code pages executable, data
/// pages writable (the asm machine enforces W^X), registers and pc set.
fn load<M: SupportMachine<REG = u64>>(m: &mut M, image: &Image) {
    let code = Bytes::from(image.code.clone());
    m.memory_mut()
        .init_pages(
            image.code_base,
            round_up(code.len() as u64),
            FLAG_EXECUTABLE,
            Some(code),
            0,
        )
        .expect("code fits ckb-vm memory");
    for (base, bytes) in &image.data {
        let bytes = Bytes::from(bytes.clone());
        m.memory_mut()
            .init_pages(
                *base,
                round_up(bytes.len() as u64),
                FLAG_WRITABLE,
                Some(bytes),
                0,
            )
            .expect("data fits ckb-vm memory");
    }
    for (i, &v) in image.regs.iter().enumerate().skip(1) {
        m.set_register(i, v);
    }
    m.update_pc(image.entry);
    m.commit_pc();
}

fn outcome<M: SupportMachine<REG = u64>>(
    m: &mut M,
    image: &Image,
    result: Result<i8, ckb_vm::Error>,
) -> Outcome {
    let mut regs = [0; 32];
    regs.copy_from_slice(&m.registers()[..32]);
    let data = image
        .data
        .iter()
        .map(|(base, bytes)| {
            m.memory_mut()
                .load_bytes(*base, bytes.len() as u64)
                .map(|b| b.to_vec())
                .unwrap_or_default()
        })
        .collect();
    Outcome {
        result,
        regs,
        pc: *m.pc(),
        instructions: m.cycles(),
        data,
    }
}

type Core = DefaultCoreMachine<u64, FlatMemory<u64>>;

fn machine(image: &Image, max_instructions: u64) -> DefaultMachine<Core> {
    let core = Core::new_with_memory(
        ISA_IMC | ISA_A | ISA_B,
        VERSION2,
        max_instructions,
        MEMORY_SIZE,
    );
    let mut m = DefaultMachineBuilder::new(core)
        .instruction_cycle_func(Box::new(|_| 1))
        .syscall(Box::new(StopOnEcall))
        .build();
    load(&mut m, image);
    m
}

/// ckb-vm's reference interpreter (one decode per step), used as the oracle.
pub fn run_reference(image: &Image, max_instructions: u64) -> Outcome {
    let mut m = machine(image, max_instructions);
    let result = m.run();
    outcome(&mut m, image, result)
}

/// A prepared ckb-vm reference interpreter (for timing without setup).
pub struct RefMode(DefaultMachine<Core>);

impl RefMode {
    /// Loads `image`.
    pub fn new(image: &Image, max_instructions: u64) -> Self {
        RefMode(machine(image, max_instructions))
    }
    /// Runs to the stopping `ecall`; returns instructions retired.
    pub fn run(&mut self) -> u64 {
        self.0.run().expect("ckb-vm run");
        self.0.cycles()
    }
}

/// A prepared ckb-vm Rust "trace" interpreter (its fastest pure-Rust mode).
pub struct RustMode(TraceMachine<Core>);

impl RustMode {
    /// Loads `image`.
    pub fn new(image: &Image, max_instructions: u64) -> Self {
        RustMode(TraceMachine::new(machine(image, max_instructions)))
    }
    /// Runs to the stopping `ecall`; returns instructions retired.
    pub fn run(&mut self) -> u64 {
        self.0.run().expect("ckb-vm run");
        self.0.machine.cycles()
    }
}

/// ckb-vm's assembly interpreter, where this host has one.
#[cfg(any(target_arch = "x86_64", all(target_arch = "aarch64", unix)))]
pub mod asm {
    use super::*;
    use ckb_vm::machine::asm::{AsmCoreMachine, AsmCoreMachineRevealer, AsmMachine};

    /// A prepared ckb-vm asm-mode machine.
    pub struct AsmMode(AsmMachine);

    impl AsmMode {
        /// Loads `image`.
        pub fn new(image: &Image, max_instructions: u64) -> Self {
            let core = <Box<AsmCoreMachine> as AsmCoreMachineRevealer>::new(
                ISA_IMC | ISA_A | ISA_B,
                VERSION2,
                max_instructions,
                MEMORY_SIZE,
            );
            let mut m = DefaultMachineBuilder::new(core)
                .instruction_cycle_func(Box::new(|_| 1))
                .syscall(Box::new(StopOnEcall))
                .build();
            load(&mut m, image);
            AsmMode(AsmMachine::new(m))
        }
        /// Runs to the stopping `ecall`; returns instructions retired.
        pub fn run(&mut self) -> u64 {
            self.0.run().expect("ckb-vm asm run");
            self.0.machine.cycles()
        }
    }
}
