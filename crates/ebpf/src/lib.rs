//! The BPF language layer of rvbpf: raw and typed instructions, the text
//! assembler/disassembler, the ELF/BTF loader and the verifier. Pure code:
//! no engine, no runtime state.
#![forbid(unsafe_code)]

pub mod asm;
pub mod btf;
pub mod data_file;
pub mod disasm;
pub mod elf;
pub mod insn;
pub mod inst;
pub mod object;
#[cfg(feature = "proptest")]
pub mod testing;
pub mod verifier;
