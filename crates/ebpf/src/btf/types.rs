//! The decoded BTF type model: one [`BtfType`] per type id, its kind-specific
//! payload in [`BtfKind`]. Names are resolved to owned strings at parse time so
//! consumers never touch the string section.

/// Type id 0 is `void`; real types start at 1.
pub type TypeId = u32;

/// One BTF type: its name (empty for anonymous types) and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfType {
    pub name: String,
    pub kind: BtfKind,
}

/// Linkage of a `FUNC` (stored in its `vlen`) or a `VAR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linkage {
    Static,
    Global,
    Extern,
    /// A value the kernel does not define; kept so parsing never fails on it.
    Unknown(u32),
}

impl Linkage {
    pub(crate) fn from_raw(v: u32) -> Linkage {
        match v {
            0 => Linkage::Static,
            1 => Linkage::Global,
            2 => Linkage::Extern,
            other => Linkage::Unknown(other),
        }
    }
}

/// A `STRUCT`/`UNION` member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub ty: TypeId,
    /// Offset from the start of the aggregate, in bits.
    pub bit_offset: u32,
    /// Bitfield width in bits (0 = not a bitfield; only with `kind_flag`).
    pub bitfield_size: u8,
}

/// A `FUNC_PROTO` parameter; a trailing `ty == 0` parameter marks varargs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub ty: TypeId,
}

/// A `DATASEC` entry: which `VAR` (or extern `FUNC`) lives where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarSecInfo {
    pub ty: TypeId,
    pub offset: u32,
    pub size: u32,
}

/// An `ENUM` (32-bit) or `ENUM64` enumerator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enumerator {
    pub name: String,
    pub value: i64,
}

/// Kind-specific payload of a BTF type (kind numbers from `include/uapi/linux/btf.h`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BtfKind {
    /// Kind 1. `encoding` holds the signed/char/bool bits, `bits` the width.
    Int {
        size: u32,
        encoding: u8,
        offset: u8,
        bits: u8,
    },
    /// Kind 2.
    Ptr { target: TypeId },
    /// Kind 3.
    Array {
        elem: TypeId,
        index: TypeId,
        nelems: u32,
    },
    /// Kind 4.
    Struct { size: u32, members: Vec<Member> },
    /// Kind 5.
    Union { size: u32, members: Vec<Member> },
    /// Kind 6.
    Enum {
        size: u32,
        signed: bool,
        values: Vec<Enumerator>,
    },
    /// Kind 7: a forward declaration (`struct x;`).
    Fwd { is_union: bool },
    /// Kind 8.
    Typedef { target: TypeId },
    /// Kind 9.
    Volatile { target: TypeId },
    /// Kind 10.
    Const { target: TypeId },
    /// Kind 11.
    Restrict { target: TypeId },
    /// Kind 12: a function; `proto` is its `FUNC_PROTO`.
    Func { proto: TypeId, linkage: Linkage },
    /// Kind 13.
    FuncProto { ret: TypeId, params: Vec<Param> },
    /// Kind 14: a global variable.
    Var { ty: TypeId, linkage: Linkage },
    /// Kind 15: a data section (`.data`, `.maps`, `.ksyms`, ...).
    DataSec { size: u32, vars: Vec<VarSecInfo> },
    /// Kind 16.
    Float { size: u32 },
    /// Kind 17: an attribute on `target` (or on its member/param `component_idx`, -1 = the type itself).
    DeclTag { target: TypeId, component_idx: i32 },
    /// Kind 18.
    TypeTag { target: TypeId },
    /// Kind 19.
    Enum64 {
        size: u32,
        signed: bool,
        values: Vec<Enumerator>,
    },
}

impl BtfKind {
    /// For modifiers and typedefs (the kinds that only rename or qualify
    /// another type), the type they wrap.
    pub fn modified_type(&self) -> Option<TypeId> {
        match *self {
            BtfKind::Typedef { target }
            | BtfKind::Volatile { target }
            | BtfKind::Const { target }
            | BtfKind::Restrict { target }
            | BtfKind::TypeTag { target } => Some(target),
            _ => None,
        }
    }

    /// Every type id this type refers to (for bounds validation).
    pub fn referenced_types(&self) -> Vec<TypeId> {
        match self {
            BtfKind::Ptr { target }
            | BtfKind::Typedef { target }
            | BtfKind::Volatile { target }
            | BtfKind::Const { target }
            | BtfKind::Restrict { target }
            | BtfKind::TypeTag { target }
            | BtfKind::DeclTag { target, .. } => vec![*target],
            BtfKind::Array { elem, index, .. } => vec![*elem, *index],
            BtfKind::Struct { members, .. } | BtfKind::Union { members, .. } => {
                members.iter().map(|m| m.ty).collect()
            }
            BtfKind::Func { proto, .. } => vec![*proto],
            BtfKind::FuncProto { ret, params } => std::iter::once(*ret)
                .chain(params.iter().map(|p| p.ty))
                .collect(),
            BtfKind::Var { ty, .. } => vec![*ty],
            BtfKind::DataSec { vars, .. } => vars.iter().map(|v| v.ty).collect(),
            BtfKind::Int { .. }
            | BtfKind::Enum { .. }
            | BtfKind::Enum64 { .. }
            | BtfKind::Fwd { .. }
            | BtfKind::Float { .. } => Vec::new(),
        }
    }

    /// A short lowercase name of the kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            BtfKind::Int { .. } => "int",
            BtfKind::Ptr { .. } => "ptr",
            BtfKind::Array { .. } => "array",
            BtfKind::Struct { .. } => "struct",
            BtfKind::Union { .. } => "union",
            BtfKind::Enum { .. } => "enum",
            BtfKind::Fwd { .. } => "fwd",
            BtfKind::Typedef { .. } => "typedef",
            BtfKind::Volatile { .. } => "volatile",
            BtfKind::Const { .. } => "const",
            BtfKind::Restrict { .. } => "restrict",
            BtfKind::Func { .. } => "func",
            BtfKind::FuncProto { .. } => "func_proto",
            BtfKind::Var { .. } => "var",
            BtfKind::DataSec { .. } => "datasec",
            BtfKind::Float { .. } => "float",
            BtfKind::DeclTag { .. } => "decl_tag",
            BtfKind::TypeTag { .. } => "type_tag",
            BtfKind::Enum64 { .. } => "enum64",
        }
    }
}
