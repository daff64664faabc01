//! In-process emulator for user-mode RV64IMAC + Zba/Zbb.
//!
//! Pieces:
//! - [`Memory`]: named regions `{name, base, size, perms}` over `Vec<u8>`s
//!   that can be lent in and out without copying;
//! - [`Hart`]: registers, pc, budget, exact [`Counters`], host-call slots,
//!   `call`/`run`/`return_from_host_call`;
//! - an optional [`Trace`] of retired instructions.
//!
//! How it runs: instructions are decoded once by the crate's shared decoder
//! ([`crate::decode()`]) and cached per 2-byte parcel of each executable
//! region (the cache lives in the region and is dropped when the host writes
//! it, or when a guest store hits an RWX region). A cache slot also records
//! how many instructions follow it up to the next jump/branch/`ecall`, so
//! the budget is charged once per straight-line chain; when the budget would
//! run out inside a chain, or when tracing, the executor steps one
//! instruction at a time. Counters stay exact either way. Host-call slots
//! and the return sentinel are checked only when the pc leaves executable
//! memory, so they cost nothing in the loop and must lie outside code.
//!
//! Speed (release build, `cargo run --release -p rvbpf-rv64 --example
//! emu_speed`): roughly 450-550 M instructions/s, about 3.5x ckb-vm's plain
//! interpreter loop, 1.5-2x its faster "trace" Rust interpreter and about
//! half of its assembly interpreter on the same code.
//!
//! Memory cost: the decoded-instruction cache of an executable region takes
//! 8 bytes per code byte, allocated when the region is first executed.
//!
//! ```
//! use rvbpf_rv64::emu::{Hart, Memory, Perms, Stop};
//! use rvbpf_rv64::{encode, AluImmOp, Imm12, Inst, Reg};
//!
//! // a0 = a0 + 5; ret
//! let code: Vec<u8> = [
//!     Inst::AluImm { op: AluImmOp::Addi, rd: Reg::A0, rs1: Reg::A0, imm: Imm12::new(5).unwrap() },
//!     Inst::RET,
//! ]
//! .iter()
//! .flat_map(|i| encode(i).to_le_bytes())
//! .collect();
//! let mut mem = Memory::new();
//! mem.add_region("code", 0x1000, Perms::RX, code).unwrap();
//! mem.add_zeroed_region("stack", 0x8000, 0x1000, Perms::RW).unwrap();
//! let mut hart = Hart::new();
//! hart.call(0x1000, 0x9000, &[37]).unwrap();
//! assert_eq!(hart.run(&mut mem), Ok(Stop::Returned));
//! assert_eq!(hart.reg(Reg::A0), 42);
//! assert_eq!(hart.counters().instructions, 2);
//! ```

mod arith;
mod counters;
mod decoded;
mod error;
mod exec;
mod hart;
mod memory;
mod trace;

pub use counters::Counters;
pub use error::{Access, EmuError, MemoryError};
pub use hart::{Hart, HostCalls, Stop, DEFAULT_RETURN_ADDRESS};
pub use memory::{Memory, Perms, Region, RegionId};
pub use trace::{Trace, TraceEntry};
