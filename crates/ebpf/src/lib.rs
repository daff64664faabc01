//! The BPF language layer of rvbpf: raw and typed instructions, the text
//! assembler/disassembler, the ELF/BTF loader and the verifier. Pure code:
//! no engine, no runtime state.
#![forbid(unsafe_code)]

pub mod inst;
pub mod insn;
pub mod object;
pub mod btf;
pub mod elf;
pub mod asm;
pub mod data_file;
pub mod disasm;
#[cfg(feature = "proptest")]
pub mod testing;
pub mod verifier;
