//! A small, bounds-checked parser for BTF (the BPF Type Format) as emitted by
//! clang into the `.BTF` section of an object file.
//!
//! The loader uses it for three things: BTF-defined map definitions (`.maps`),
//! the variables of global-data sections (`DATASEC`), and function
//! prototypes (`FUNC` → `FUNC_PROTO`: argument counts and int returns of BPF
//! functions, argument widths of extern kfuncs). Only little-endian BTF is accepted (BPF
//! objects for x86/arm/riscv hosts are little endian).

mod parse;
mod types;

use crate::object::{ArgWidening, KfuncProto};
pub use types::{BtfKind, BtfType, Enumerator, Linkage, Member, Param, TypeId, VarSecInfo};

/// How deep a chain of modifiers/typedefs/arrays may go before we call it a
/// cycle (the kernel uses the same bound).
const MAX_RESOLVE_DEPTH: usize = 32;

/// Why a BTF blob (or a query against it) was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    #[error("BTF truncated while reading the {what} at offset {offset}")]
    Truncated { what: &'static str, offset: u32 },
    #[error("bad BTF magic {0:#06x} (only little-endian BTF is supported)")]
    BadMagic(u16),
    #[error("unsupported BTF version {0}")]
    UnsupportedVersion(u8),
    #[error("bad BTF header length {0}")]
    BadHeaderLength(u32),
    #[error("BTF {what} (offset {offset}, length {len}) lies outside the blob")]
    SectionOutOfBounds {
        what: &'static str,
        offset: u32,
        len: u32,
    },
    #[error("BTF string offset {0} is outside the string section or unterminated")]
    BadStringOffset(u32),
    #[error("unknown BTF kind {0}")]
    UnknownKind(u32),
    #[error("BTF type id {0} does not exist")]
    BadTypeId(TypeId),
    #[error("BTF type {id}: {source}")]
    InType { id: TypeId, source: Box<BtfError> },
    #[error("BTF type {id} ({kind}) has no size")]
    NoSize { id: TypeId, kind: &'static str },
    #[error("BTF type {0}: reference chain too deep or cyclic")]
    TooDeep(TypeId),
    #[error("BTF type {0}: size overflows")]
    SizeOverflow(TypeId),
}

/// A parsed BTF blob: types by id and nothing else (strings are resolved).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Btf {
    /// `types[i]` is type id `i + 1`; id 0 is `void`.
    types: Vec<BtfType>,
}

impl Btf {
    /// Parses a raw `.BTF` section. Every type reference is checked to point
    /// at an existing type, so later lookups by a referenced id cannot fail.
    pub fn parse(bytes: &[u8]) -> Result<Btf, BtfError> {
        let layout = parse::parse_header(bytes)?;
        let types = parse::parse_types(layout.types, layout.strings)?;
        let btf = Btf { types };
        for (i, t) in btf.types.iter().enumerate() {
            let id = i as TypeId + 1;
            for r in t.kind.referenced_types() {
                if r as usize > btf.types.len() {
                    return Err(BtfError::InType {
                        id,
                        source: Box::new(BtfError::BadTypeId(r)),
                    });
                }
            }
        }
        Ok(btf)
    }

    /// Number of types, not counting `void`.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// True if the blob declares no types.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The type with this id (`None` for 0 = void or an id out of range).
    pub fn get(&self, id: TypeId) -> Option<&BtfType> {
        (id as usize).checked_sub(1).and_then(|i| self.types.get(i))
    }

    /// Like [`Btf::get`] but with a typed error.
    pub fn type_by_id(&self, id: TypeId) -> Result<&BtfType, BtfError> {
        self.get(id).ok_or(BtfError::BadTypeId(id))
    }

    /// All types with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, &BtfType)> {
        self.types
            .iter()
            .enumerate()
            .map(|(i, t)| (i as TypeId + 1, t))
    }

    /// First type with this name for which `pred` holds on its kind.
    pub fn find(&self, name: &str, pred: impl Fn(&BtfKind) -> bool) -> Option<(TypeId, &BtfType)> {
        self.iter().find(|(_, t)| t.name == name && pred(&t.kind))
    }

    /// The `DATASEC` named `name` (e.g. `.maps`, `.data`), with its id.
    pub fn datasec(&self, name: &str) -> Option<(TypeId, &[VarSecInfo])> {
        self.iter().find_map(|(id, t)| match &t.kind {
            BtfKind::DataSec { vars, .. } if t.name == name => Some((id, vars.as_slice())),
            _ => None,
        })
    }

    /// Follows typedefs and qualifiers (`const`, `volatile`, `restrict`,
    /// type tags) to the underlying type id.
    pub fn skip_modifiers(&self, mut id: TypeId) -> Result<TypeId, BtfError> {
        for _ in 0..MAX_RESOLVE_DEPTH {
            match self.get(id).and_then(|t| t.kind.modified_type()) {
                Some(next) => id = next,
                None => return Ok(id),
            }
        }
        Err(BtfError::TooDeep(id))
    }

    /// Size in bytes of a type, resolving through modifiers, typedefs, vars
    /// and arrays (element size × count).
    pub fn resolve_size(&self, id: TypeId) -> Result<u32, BtfError> {
        self.size_at_depth(id, 0)
    }

    fn size_at_depth(&self, id: TypeId, depth: usize) -> Result<u32, BtfError> {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(BtfError::TooDeep(id));
        }
        let Some(t) = self.get(id) else {
            return Err(BtfError::NoSize { id, kind: "void" });
        };
        match &t.kind {
            BtfKind::Int { size, .. }
            | BtfKind::Struct { size, .. }
            | BtfKind::Union { size, .. }
            | BtfKind::Enum { size, .. }
            | BtfKind::Enum64 { size, .. }
            | BtfKind::DataSec { size, .. }
            | BtfKind::Float { size } => Ok(*size),
            BtfKind::Ptr { .. } => Ok(8),
            BtfKind::Array { elem, nelems, .. } => self
                .size_at_depth(*elem, depth + 1)?
                .checked_mul(*nelems)
                .ok_or(BtfError::SizeOverflow(id)),
            BtfKind::Var { ty, .. } => self.size_at_depth(*ty, depth + 1),
            k => match k.modified_type() {
                Some(next) => self.size_at_depth(next, depth + 1),
                None => Err(BtfError::NoSize {
                    id,
                    kind: k.kind_name(),
                }),
            },
        }
    }

    /// Number of parameters of the function named `name` (a `FUNC` that is
    /// not an extern declaration), not counting a trailing `...`.
    pub fn func_arg_count(&self, name: &str) -> Option<usize> {
        let (_, func) = self.find(
            name,
            |k| matches!(k, BtfKind::Func { linkage, .. } if *linkage != Linkage::Extern),
        )?;
        let BtfKind::Func { proto, .. } = func.kind else {
            return None;
        };
        match &self.get(proto)?.kind {
            BtfKind::FuncProto { params, .. } => {
                let varargs = params
                    .last()
                    .is_some_and(|p| p.ty == 0 && p.name.is_empty());
                Some(params.len() - usize::from(varargs))
            }
            _ => None,
        }
    }

    /// Whether the function named `name` (as for [`Btf::func_arg_count`])
    /// returns an integer or enum, looking through typedefs and qualifiers;
    /// `void`, pointers and aggregates are not.
    pub fn func_returns_int(&self, name: &str) -> Option<bool> {
        let (_, func) = self.find(
            name,
            |k| matches!(k, BtfKind::Func { linkage, .. } if *linkage != Linkage::Extern),
        )?;
        let BtfKind::Func { proto, .. } = func.kind else {
            return None;
        };
        let BtfKind::FuncProto { ret, .. } = self.get(proto)?.kind else {
            return None;
        };
        let ret = self.skip_modifiers(ret).ok()?;
        Some(self.get(ret).is_some_and(|t| {
            matches!(
                t.kind,
                BtfKind::Int { .. } | BtfKind::Enum { .. } | BtfKind::Enum64 { .. }
            )
        }))
    }
    /// The prototype of the extern (`__ksym`) function `name`: how each of
    /// its arguments is widened when it is called (see [`ArgWidening`]).
    /// `None` if there is no such extern `FUNC` or its prototype is broken.
    pub fn kfunc_proto(&self, name: &str) -> Option<KfuncProto> {
        let (_, func) = self.find(
            name,
            |k| matches!(k, BtfKind::Func { linkage, .. } if *linkage == Linkage::Extern),
        )?;
        let BtfKind::Func { proto, .. } = func.kind else {
            return None;
        };
        let BtfKind::FuncProto { params, .. } = &self.get(proto)?.kind else {
            return None;
        };
        let args = params
            .iter()
            .filter(|p| !(p.ty == 0 && p.name.is_empty())) // `...`
            .map(|p| self.arg_widening(p.ty))
            .collect::<Option<Vec<_>>>()?;
        Some(KfuncProto { args })
    }

    /// Widening of a parameter of type `ty`, looking through typedefs and
    /// qualifiers.
    fn arg_widening(&self, ty: TypeId) -> Option<ArgWidening> {
        let ty = self.skip_modifiers(ty).ok()?;
        Some(match &self.get(ty)?.kind {
            BtfKind::Int { size, encoding, .. } => {
                ArgWidening::for_int(*size, encoding & BTF_INT_SIGNED != 0)
            }
            BtfKind::Enum { size, signed, .. } => ArgWidening::for_int(*size, *signed),
            _ => ArgWidening::Unchanged,
        })
    }
}

/// `BTF_INT_SIGNED`: bit 0 of an `INT`'s encoding.
const BTF_INT_SIGNED: u8 = 1;

#[cfg(test)]
mod tests;
