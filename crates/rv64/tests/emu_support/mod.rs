//! Shared helpers of the emulator tests (and, via `#[path]`, of the bench and
//! the `emu_speed` example): an assembler, the ckb-vm oracle harness, the
//! speed workloads and a loader for our own emulator.

#![allow(dead_code)]

pub mod asm;
pub mod ckb;
pub mod ours;
pub mod workloads;
