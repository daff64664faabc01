//! RISC-V 64 target layer. This crate must never depend on BPF concepts.
//!
//! # Design
//!
//! - [`Reg`], the immediates in [`imm`] and the opcode enums in [`op`] are
//!   checked types: an [`Inst`] value is always encodable, and constructors
//!   return `None` for out-of-range values (never truncate, never panic).
//! - [`Inst`] has one variant per format family (`Alu`, `AluImm`, `Load` ...)
//!   with an opcode enum that owns its funct bits, mnemonic and extension.
//!   Compressed instructions have no variants: they are an *encoding*.
//! - Encoding is layered: [`encode::format`] packs fields (with bit diagrams),
//!   [`encode()`] gives the 32-bit word, [`compress()`] the RVC halfword when
//!   one exists, and `Target::encode` picks between them for a target.
//! - One decoder ([`decode()`]) serves the emulator, the printer and the
//!   round-trip tests. It is allocation-free and expands RVC to base forms.
//! - Oracles: tests compare against LLVM 14 `llvm-mc` / `llvm-objdump`.
#![forbid(unsafe_code)]

pub mod decode;
pub mod emu;
pub mod encode;
pub mod imm;
pub mod inst;
pub mod li;
pub mod op;
pub mod print;
pub mod reg;
pub mod target;
#[cfg(feature = "proptest")]
pub mod testing;

pub use decode::{decode, decode16, decode32, insn_len, DecodeError};
pub use encode::{compress, encode};
pub use imm::{BranchOffset, Imm12, Imm20, JumpOffset, Shamt, ShamtW};
pub use inst::Inst;
pub use li::load_imm;
pub use op::{
    AluImmOp, AluOp, AmoOp, AmoWidth, BranchOp, Extension, FenceSet, LoadOp, Ordering, ShiftOp,
    ShiftWOp, StoreOp, UnaryOp,
};
pub use print::{disassemble, Line};
pub use reg::Reg;
pub use target::{EncodeError, Encoded, Target, TargetParseError};
