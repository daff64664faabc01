//! Errors of the ELF loader. Every error names the file and, where it has
//! one, the section; the kind carries the instruction index or byte offset.

use crate::btf::BtfError;

/// Why an object file was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {kind}", section.as_ref().map(|s| format!(": section `{s}`")).unwrap_or_default())]
pub struct LoadError {
    /// The file name given to [`crate::elf::load_elf`].
    pub file: String,
    /// The ELF section the problem was found in, if it is tied to one.
    pub section: Option<String>,
    pub kind: LoadErrorKind,
}

/// What exactly is wrong. Offsets are bytes into the named section, `pc`s are
/// instruction indices (8-byte slots) into it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadErrorKind {
    #[error("not an ELF file")]
    NotElf,
    #[error("ELF class {0} is not ELF64")]
    WrongClass(u8),
    #[error("ELF data encoding {0} is not little endian")]
    WrongEndian(u8),
    #[error("ELF machine {0} is neither EM_BPF (247) nor EM_NONE")]
    WrongMachine(u16),
    #[error("ELF type {0} is not ET_REL (a relocatable object)")]
    WrongType(u16),
    /// The `object` crate rejected a header, table or string index.
    #[error("malformed ELF: {0}")]
    Malformed(String),
    #[error("section data (offset {offset:#x}, size {size:#x}) lies outside the file")]
    SectionOutOfBounds { offset: u64, size: u64 },
    #[error("code size {size} is not a multiple of 8")]
    CodeSizeNotMultipleOf8 { size: u64 },
    #[error("global-data section of {size} bytes is too large")]
    SectionTooLarge { size: u64 },
    #[error("no symbol table")]
    NoSymbolTable,
    #[error("symbol index {index} out of range")]
    BadSymbolIndex { index: u32 },
    #[error("symbol {index}: name offset is outside the string table")]
    BadSymbolName { index: u32 },
    #[error(
        "function symbol `{name}` (offset {offset:#x}, size {size:#x}) does not fit the section"
    )]
    BadFunctionSymbol {
        name: String,
        offset: u64,
        size: u64,
    },
    #[error("program `{name}` is static; programs must be global functions")]
    StaticProgram { name: String },
    #[error("relocation at offset {offset:#x} is outside the section or misaligned")]
    RelocOutOfBounds { offset: u64 },
    #[error("relocation at offset {offset:#x} has unknown or unsupported type {r_type}")]
    UnknownRelocType { offset: u64, r_type: u32 },
    #[error("RELA relocations are not used by BPF and not supported")]
    RelaUnsupported,
    #[error(
        "pc {pc}: relocation on an instruction (opcode {opc:#04x}) that is neither lddw nor call"
    )]
    RelocOnWrongInsn { pc: usize, opc: u8 },
    #[error("pc {pc}: lddw is missing its second slot")]
    TruncatedLddw { pc: usize },
    #[error("pc {pc}: relocation against `{symbol}` cannot be resolved: {why}")]
    BadRelocTarget {
        pc: usize,
        symbol: String,
        why: &'static str,
    },
    #[error("pc {pc}: call target {target} is not the start of a .text function")]
    BadCallTarget { pc: usize, target: i64 },
    #[error("pc {pc}: relocated immediate does not fit in 32 bits")]
    ImmOverflow { pc: usize },
    #[error("no .BTF section, but {0} needs it")]
    MissingBtf(&'static str),
    #[error(transparent)]
    Btf(#[from] BtfError),
    #[error("map `{map}`: {problem}")]
    BadMap { map: String, problem: MapProblem },
    #[error("offset {offset:#x}: relocation does not fall into the `values` of a prog-array map")]
    StrayMapRelocation { offset: u64 },
}

/// What is wrong with a BTF map definition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapProblem {
    #[error("its BTF type is not a VAR of a STRUCT")]
    NotAStruct,
    #[error("member `{0}` has an unexpected BTF encoding")]
    BadMember(String),
    #[error("unknown member `{0}`")]
    UnknownMember(String),
    #[error("missing `{0}`")]
    Missing(&'static str),
    #[error("`{attr}` is {sized} but the `{attr}` type is {typed} bytes")]
    SizeMismatch {
        attr: &'static str,
        sized: u32,
        typed: u32,
    },
    #[error("map type {0} is not supported (only HASH 1, ARRAY 2, PROG_ARRAY 3)")]
    UnsupportedType(u32),
    #[error("no symbol in .maps for it")]
    NoSymbol,
    #[error("variable `{var}` (offset {offset}, size {size}) lies outside the section")]
    VarOutOfBounds { var: String, offset: u64, size: u64 },
    #[error("initial value at offset {offset:#x}: {why}")]
    BadInit { offset: u64, why: &'static str },
}
