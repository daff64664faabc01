//! The loaded form of a BPF object: what the ELF loader (and the assembler,
//! for text programs) produce and what the verifier consumes.
//!
//! Conventions every stage relies on (the loader establishes them):
//! * `Program::insns` is *linked*: the entry function starts at pc 0 and every
//!   `.text` subprogram the program reaches is appended after it (like libbpf).
//! * `call` with `src = pseudo::CALL_LOCAL` has `imm` = callee pc − (pc + 1).
//! * `call` with `src = pseudo::CALL_KFUNC` has `imm` = index into `Object::kfuncs`.
//! * `lddw` with `src = pseudo::MAP_FD` has `imm` = index into `Object::maps`;
//!   with `src = pseudo::MAP_VALUE`, `imm` = map index and the second slot's
//!   `imm` = byte offset into the map's (single) value.

use crate::insn::Insn;

/// A whole object file (or one assembled text program).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    /// Where it came from (file name), used in error messages and JSON output.
    pub name: String,
    pub programs: Vec<Program>,
    pub maps: Vec<MapDef>,
    /// Names of kfuncs declared `extern ... __ksym`, indexed by `CALL_KFUNC` imm.
    pub kfuncs: Vec<String>,
}

impl Object {
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }
    pub fn map(&self, name: &str) -> Option<(usize, &MapDef)> {
        self.maps.iter().enumerate().find(|(_, m)| m.name == name)
    }
}

/// One program: its entry function plus the subprograms linked after it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    pub name: String,
    /// ELF section it came from (`tc`, `xdp`, `fentry/subprog_tail`, ...).
    pub section: String,
    pub kind: ProgKind,
    pub insns: Vec<Insn>,
    /// `functions[0]` is the entry function at pc 0; the rest are subprograms
    /// sorted by start pc. Every function spans `[start, next start)`.
    pub functions: Vec<FuncInfo>,
}

impl Program {
    /// Index of the function containing `pc`.
    pub fn function_at(&self, pc: usize) -> Option<usize> {
        if pc >= self.insns.len() {
            return None;
        }
        Some(
            self.functions
                .partition_point(|f| f.start <= pc)
                .saturating_sub(1),
        )
    }
    /// End pc (exclusive) of function `idx`.
    pub fn function_end(&self, idx: usize) -> usize {
        self.functions
            .get(idx + 1)
            .map_or(self.insns.len(), |f| f.start)
    }
    pub fn function_by_name(&self, name: &str) -> Option<usize> {
        self.functions.iter().position(|f| f.name == name)
    }
}

/// A function inside a linked program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuncInfo {
    pub name: String,
    /// First pc of the function in `Program::insns`.
    pub start: usize,
    /// Argument count from the BTF prototype, if known (trampolines need it).
    pub arg_count: Option<u8>,
    /// Whether the BTF prototype returns an integer or enum (`None` without
    /// BTF). The verifier requires it of subprograms containing a tail call.
    pub returns_int: Option<bool>,
}

/// What a program is for; decides its context and how it may be attached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProgKind {
    /// `tc`, `classifier*`: ctx is a packet buffer (see the runtime's ctx model).
    #[default]
    SchedCls,
    Xdp,
    SocketFilter,
    /// `fentry/F`: runs before function `F` with its arguments.
    Fentry {
        target: String,
    },
    /// `fexit/F`: runs after `F` with its arguments and return value.
    Fexit {
        target: String,
    },
    /// Any other section name: loaded, runnable with a raw ctx.
    Other,
}

impl ProgKind {
    /// Classifies an ELF section name (libbpf conventions).
    pub fn from_section(section: &str) -> ProgKind {
        if let Some(t) = section.strip_prefix("fentry/") {
            ProgKind::Fentry {
                target: t.to_string(),
            }
        } else if let Some(t) = section.strip_prefix("fexit/") {
            ProgKind::Fexit {
                target: t.to_string(),
            }
        } else if section == "tc" || section.starts_with("tc/") || section.starts_with("classifier")
        {
            ProgKind::SchedCls
        } else if section == "xdp" || section.starts_with("xdp/") || section.starts_with("xdp.") {
            ProgKind::Xdp
        } else if section.starts_with("socket") {
            ProgKind::SocketFilter
        } else {
            ProgKind::Other
        }
    }
    pub fn is_tracing(&self) -> bool {
        matches!(self, ProgKind::Fentry { .. } | ProgKind::Fexit { .. })
    }
}

/// Kinds of map rvbpf implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    /// BPF_MAP_TYPE_ARRAY (2).
    Array,
    /// BPF_MAP_TYPE_HASH (1).
    Hash,
    /// BPF_MAP_TYPE_PROG_ARRAY (3): values are programs, used by tail calls.
    ProgArray,
}

impl MapKind {
    /// From the Linux map type number.
    pub fn from_linux(t: u32) -> Option<MapKind> {
        match t {
            1 => Some(MapKind::Hash),
            2 => Some(MapKind::Array),
            3 => Some(MapKind::ProgArray),
            _ => None,
        }
    }
}

/// A map definition (from `.maps` BTF, or synthesised for a global-data section).
#[derive(Clone, Debug, PartialEq)]
pub struct MapDef {
    pub name: String,
    pub kind: MapKind,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    /// For global-data maps (`.data`, `.rodata`, `.bss`): the section's
    /// initial bytes (zeros for `.bss`) and the variables inside it.
    pub global: Option<GlobalData>,
    /// Static prog-array initialisation: (slot, program name in this object).
    pub prog_init: Vec<(u32, String)>,
}

/// The contents of a global-data section, exposed as a one-element array map.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalData {
    pub initial: Vec<u8>,
    pub read_only: bool,
    pub vars: Vec<GlobalVar>,
}

/// A named variable inside a global-data section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GlobalVar {
    pub name: String,
    pub offset: u32,
    pub size: u32,
}
