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
    /// The kfuncs' BTF prototypes, same index as `kfuncs`. Shorter than
    /// `kfuncs` (or `None` at an index) when the object has no BTF for a
    /// kfunc, e.g. assembler text: its arguments are then passed unchanged.
    pub kfunc_protos: Vec<Option<KfuncProto>>,
}

impl Object {
    /// The BTF prototype of kfunc `index`, if the object has one.
    pub fn kfunc_proto(&self, index: usize) -> Option<&KfuncProto> {
        self.kfunc_protos.get(index).and_then(Option::as_ref)
    }
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

/// A kfunc's prototype, as far as calling it is concerned: how each
/// argument register must be widened before host C code sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KfuncProto {
    /// One entry per declared parameter, in order (a trailing `...` is not
    /// listed).
    pub args: Vec<ArgWidening>,
}

/// How one argument is widened to 64 bits under the RISC-V psABI, which is
/// the calling convention kfuncs (host C code) are called with.
///
/// BPF leaves the upper bits of a 32-bit value zero (ALU32 results) or
/// anything (64-bit arithmetic on an `int`), but the psABI requires a
/// 32-bit integer argument to be sign-extended from bit 31, whether the type
/// is signed or not; an 8- or 16-bit integer is first extended to 32 bits by
/// its own signedness, then likewise. A callee compiled for RV64 may rely on
/// that (it uses `*w` instructions and compares full registers), so every
/// engine widens kfunc arguments the same way: the JIT with one or two
/// instructions per argument, the interpreter with [`ArgWidening::apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgWidening {
    /// 64-bit integers, pointers and anything else: passed unchanged.
    Unchanged,
    /// `int`, `unsigned int`, 32-bit enums: sign-extend from bit 31.
    Sign32,
    /// `signed char`, `__s8`: sign-extend from bit 7.
    Sign8,
    /// `unsigned char`, `bool`, `__u8`: zero-extend from bit 7.
    Zero8,
    /// `short`, `__s16`: sign-extend from bit 15.
    Sign16,
    /// `unsigned short`, `__u16`: zero-extend from bit 15.
    Zero16,
}

impl ArgWidening {
    /// The widening for an integer (or enum) type of `size` bytes.
    pub fn for_int(size: u32, signed: bool) -> ArgWidening {
        match (size, signed) {
            (1, true) => ArgWidening::Sign8,
            (1, false) => ArgWidening::Zero8,
            (2, true) => ArgWidening::Sign16,
            (2, false) => ArgWidening::Zero16,
            (4, _) => ArgWidening::Sign32,
            _ => ArgWidening::Unchanged,
        }
    }

    /// The 64-bit register value the callee sees for register value `v`.
    pub fn apply(self, v: u64) -> u64 {
        match self {
            ArgWidening::Unchanged => v,
            ArgWidening::Sign32 => v as i32 as i64 as u64,
            ArgWidening::Sign8 => v as i8 as i64 as u64,
            ArgWidening::Zero8 => v as u8 as u64,
            ArgWidening::Sign16 => v as i16 as i64 as u64,
            ArgWidening::Zero16 => v as u16 as u64,
        }
    }
}

#[cfg(test)]
mod arg_widening_tests {
    use super::ArgWidening::*;

    #[test]
    fn widening_follows_the_psabi() {
        // int -5 left zero-extended by an ALU32 op: the callee must see -5.
        assert_eq!(Sign32.apply(0x0000_0000_ffff_fffb), (-5i64) as u64);
        // unsigned int 0x8000_0000 is sign-extended too (psABI: "even for
        // unsigned 32-bit types").
        assert_eq!(Sign32.apply(0x8000_0000), 0xffff_ffff_8000_0000);
        // Garbage above bit 31 is discarded.
        assert_eq!(Sign32.apply(0x1234_5678_0000_0007), 7);
        assert_eq!(Sign8.apply(0xff80), 0xffff_ffff_ffff_ff80);
        assert_eq!(Zero8.apply(0xffff_ff80), 0x80);
        assert_eq!(Sign16.apply(0x1_8000), 0xffff_ffff_ffff_8000);
        assert_eq!(Zero16.apply(0xffff_8000), 0x8000);
        assert_eq!(
            Unchanged.apply(0xdead_beef_0000_0001),
            0xdead_beef_0000_0001
        );
    }

    #[test]
    fn int_types_map_to_their_widening() {
        use super::ArgWidening;
        assert_eq!(ArgWidening::for_int(4, false), Sign32);
        assert_eq!(ArgWidening::for_int(4, true), Sign32);
        assert_eq!(ArgWidening::for_int(1, false), Zero8);
        assert_eq!(ArgWidening::for_int(2, true), Sign16);
        assert_eq!(ArgWidening::for_int(8, true), Unchanged);
    }
}
