//! The BPF language layer of rvbpf: raw and typed instructions, the text
//! assembler/disassembler, the ELF/BTF loader and the verifier. Pure code:
//! no engine, no runtime state.
#![forbid(unsafe_code)]

pub mod inst;
pub mod insn;
pub mod object;
