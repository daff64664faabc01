//! Map definitions: BTF-defined maps from `.maps` (libbpf's `__uint`,
//! `__type`, `__array` encoding) and one synthesised single-element ARRAY map
//! per global-data section (`.data`, `.rodata`, `.bss` and their `.*`
//! variants).
//!
//! Order of `Object::maps`: `.maps` maps by their offset in `.maps`, then the
//! global-data maps in section-header order. Global-data maps are named after
//! their section (`.bss`, `.rodata.table`, ...).
//!
//! How libbpf's macros look in BTF (`bpf_helpers.h`):
//! * `__uint(name, N)`  → member `int (*name)[N]`: PTR → ARRAY with `nelems = N`;
//! * `__type(name, T)`  → member `T *name`: PTR → T (size = sizeof(T));
//! * `__array(name, T)` → member `T *name[]`: ARRAY (nelems 0) of PTR, whose
//!   bytes in `.maps` are the initial values (relocated in `.rel.maps`).

use std::collections::HashMap;

use crate::btf::{Btf, BtfKind, Member, TypeId};
use crate::object::{GlobalData, GlobalVar, MapDef, MapKind};

use super::error::{LoadError, LoadErrorKind, MapProblem};
use super::sections::{rtype, ElfView, SymKind, Symbol};

/// Global-data sections larger than this are rejected (a `NOBITS` header can
/// claim any size without backing bytes; we must not allocate it blindly).
const MAX_GLOBAL_SECTION: u64 = 1 << 28;

/// What an `lddw` relocated against a symbol refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MapRef {
    /// A `.maps` map: `lddw` gets `MAP_FD`.
    Map(usize),
    /// A byte in a global-data map: `lddw` gets `MAP_VALUE`.
    Value { map: usize, offset: u64 },
}

/// Where one BTF map lives inside `.maps`.
struct MapSlot {
    offset: u64,
    size: u64,
    values_offset: Option<u64>,
    map: usize,
}

/// All maps of the object and the lookups the relocator needs.
pub(crate) struct MapTable {
    pub maps: Vec<MapDef>,
    maps_section: Option<usize>,
    slots: Vec<MapSlot>,
    /// Section index → map index, for global-data sections.
    global_sections: HashMap<usize, usize>,
}

impl MapTable {
    pub fn build(view: &ElfView<'_>, btf: Option<&Btf>) -> Result<MapTable, LoadError> {
        let mut table = MapTable {
            maps: Vec::new(),
            maps_section: None,
            slots: Vec::new(),
            global_sections: HashMap::new(),
        };
        if let Some(sec) = view.section_by_name(".maps") {
            let btf = btf.ok_or_else(|| {
                view.error(sec.index, LoadErrorKind::MissingBtf("a .maps section"))
            })?;
            table.maps_section = Some(sec.index);
            table.add_btf_maps(view, btf, sec.index)?;
            table.add_prog_inits(view, sec.index)?;
        }
        for sec in &view.sections {
            if is_global_data(&sec.name, sec.sh_type) && sec.size > 0 {
                let def = global_data_map(view, btf, sec.index)?;
                table.global_sections.insert(sec.index, table.maps.len());
                table.maps.push(def);
            }
        }
        Ok(table)
    }

    /// Resolves the symbol of an `lddw` relocation to a map, if it names one.
    pub fn resolve(&self, sym: &Symbol) -> Option<MapRef> {
        let section = sym.section?;
        if Some(section) == self.maps_section {
            return self
                .slots
                .iter()
                .find(|s| s.offset == sym.value)
                .map(|s| MapRef::Map(s.map));
        }
        let map = *self.global_sections.get(&section)?;
        // A section symbol contributes no offset: the instruction's addend
        // already holds it. A variable symbol contributes its own offset.
        let offset = if sym.kind == SymKind::Section {
            0
        } else {
            sym.value
        };
        Some(MapRef::Value { map, offset })
    }

    fn add_btf_maps(
        &mut self,
        view: &ElfView<'_>,
        btf: &Btf,
        maps_section: usize,
    ) -> Result<(), LoadError> {
        let Some((_, vars)) = btf.datasec(".maps") else {
            return Ok(());
        };
        let mut found = Vec::new();
        for info in vars {
            let var = btf
                .type_by_id(info.ty)
                .map_err(|e| view.error(maps_section, e.into()))?;
            let bad = |problem| {
                view.error(
                    maps_section,
                    LoadErrorKind::BadMap {
                        map: var.name.clone(),
                        problem,
                    },
                )
            };
            let BtfKind::Var { ty, .. } = var.kind else {
                return Err(bad(MapProblem::NotAStruct));
            };
            // The ELF symbol is authoritative for the offset: clang leaves
            // DATASEC offsets to be relocated.
            let sym = view
                .symbols
                .iter()
                .find(|s| s.section == Some(maps_section) && s.name == var.name)
                .ok_or_else(|| bad(MapProblem::NoSymbol))?;
            let attrs = MapAttrs::decode(btf, ty).map_err(&bad)?;
            // A flexible `values[]` array is not counted in the BTF struct
            // size, but the symbol covers the initialised slots.
            let size = btf
                .resolve_size(ty)
                .map_err(|e| view.error(maps_section, e.into()))?;
            let size = sym.size.max(u64::from(size));
            found.push((
                sym.value,
                size,
                attrs.to_def(&var.name).map_err(&bad)?,
                attrs.values_offset,
            ));
        }
        found.sort_by_key(|f| f.0);
        for (offset, size, def, values_offset) in found {
            self.slots.push(MapSlot {
                offset,
                size,
                values_offset,
                map: self.maps.len(),
            });
            self.maps.push(def);
        }
        Ok(())
    }

    /// Static prog-array initialisation: `.values = { [i] = &prog }` becomes
    /// one `R_BPF_64_ABS64` relocation per filled slot in `.rel.maps`.
    fn add_prog_inits(&mut self, view: &ElfView<'_>, maps_section: usize) -> Result<(), LoadError> {
        for r in view.relocations_for(maps_section)? {
            if r.r_type == rtype::NONE {
                continue;
            }
            if r.r_type != rtype::ABS64 {
                return Err(view.error(
                    maps_section,
                    LoadErrorKind::UnknownRelocType {
                        offset: r.offset,
                        r_type: r.r_type,
                    },
                ));
            }
            let stray = || {
                view.error(
                    maps_section,
                    LoadErrorKind::StrayMapRelocation { offset: r.offset },
                )
            };
            let slot = self
                .slots
                .iter()
                .find(|s| s.offset <= r.offset && r.offset < s.offset.saturating_add(s.size))
                .ok_or_else(stray)?;
            let values = slot.values_offset.ok_or_else(stray)?;
            let def = &mut self.maps[slot.map];
            let bad = |why| {
                view.error(
                    maps_section,
                    LoadErrorKind::BadMap {
                        map: def.name.clone(),
                        problem: MapProblem::BadInit {
                            offset: r.offset,
                            why,
                        },
                    },
                )
            };
            let rel = (r.offset - slot.offset)
                .checked_sub(values)
                .ok_or_else(stray)?;
            if !rel.is_multiple_of(8) {
                return Err(bad("not aligned to an 8-byte slot"));
            }
            if def.kind != MapKind::ProgArray {
                return Err(bad("only prog-array maps may be initialised"));
            }
            let index = rel / 8;
            if index >= u64::from(def.max_entries) {
                return Err(bad("slot beyond max_entries"));
            }
            let target = &view.symbols[r.sym];
            if !is_program_symbol(view, target) {
                return Err(bad("target is not a program of this object"));
            }
            def.prog_init.push((index as u32, target.name.clone()));
        }
        for def in &mut self.maps {
            def.prog_init.sort();
        }
        Ok(())
    }
}

/// True for a global function in an executable section other than `.text`.
pub(crate) fn is_program_symbol(view: &ElfView<'_>, sym: &Symbol) -> bool {
    sym.kind == SymKind::Func
        && sym.is_global
        && sym
            .section
            .is_some_and(|i| view.sections[i].is_exec() && view.sections[i].name != ".text")
}

fn is_global_data(name: &str, sh_type: u32) -> bool {
    let data_like = matches!(name, ".data" | ".rodata" | ".bss")
        || [".data.", ".rodata.", ".bss."]
            .iter()
            .any(|p| name.starts_with(p));
    data_like && matches!(sh_type, object::elf::SHT_PROGBITS | object::elf::SHT_NOBITS)
}

/// The attributes found in one map's BTF struct.
#[derive(Default)]
struct MapAttrs {
    map_type: Option<u32>,
    max_entries: Option<u32>,
    key_size: Option<u32>,
    value_size: Option<u32>,
    key_type_size: Option<u32>,
    value_type_size: Option<u32>,
    values_offset: Option<u64>,
}

impl MapAttrs {
    fn decode(btf: &Btf, struct_ty: TypeId) -> Result<MapAttrs, MapProblem> {
        let id = btf
            .skip_modifiers(struct_ty)
            .map_err(|_| MapProblem::NotAStruct)?;
        let Some(BtfKind::Struct { members, .. }) = btf.get(id).map(|t| &t.kind) else {
            return Err(MapProblem::NotAStruct);
        };
        let mut a = MapAttrs::default();
        for m in members {
            let bad = || MapProblem::BadMember(m.name.clone());
            match m.name.as_str() {
                "type" => a.map_type = Some(uint_attr(btf, m).ok_or_else(bad)?),
                "max_entries" => a.max_entries = Some(uint_attr(btf, m).ok_or_else(bad)?),
                "key_size" => a.key_size = Some(uint_attr(btf, m).ok_or_else(bad)?),
                "value_size" => a.value_size = Some(uint_attr(btf, m).ok_or_else(bad)?),
                // Accepted and irrelevant to a userspace runtime.
                "map_flags" | "numa_node" | "pinning" | "map_extra" => {
                    uint_attr(btf, m).ok_or_else(bad)?;
                }
                "key" => a.key_type_size = Some(pointee_size(btf, m).ok_or_else(bad)?),
                "value" => a.value_type_size = Some(pointee_size(btf, m).ok_or_else(bad)?),
                "values" => {
                    let arr = btf.skip_modifiers(m.ty).ok().and_then(|t| btf.get(t));
                    if !matches!(arr.map(|t| &t.kind), Some(BtfKind::Array { .. }))
                        || !m.bit_offset.is_multiple_of(8)
                    {
                        return Err(bad());
                    }
                    a.values_offset = Some(u64::from(m.bit_offset / 8));
                }
                other => return Err(MapProblem::UnknownMember(other.to_string())),
            }
        }
        Ok(a)
    }

    fn to_def(&self, name: &str) -> Result<MapDef, MapProblem> {
        let raw_type = self.map_type.ok_or(MapProblem::Missing("type"))?;
        let kind = MapKind::from_linux(raw_type).ok_or(MapProblem::UnsupportedType(raw_type))?;
        let max_entries = self.max_entries.ok_or(MapProblem::Missing("max_entries"))?;
        // Prog arrays hold 4-byte program slots whether or not the source says so.
        let default = if kind == MapKind::ProgArray {
            Some(4)
        } else {
            None
        };
        let key_size = pick_size("key", self.key_size, self.key_type_size, default)?;
        let value_size = pick_size("value", self.value_size, self.value_type_size, default)?;
        Ok(MapDef {
            name: name.to_string(),
            kind,
            key_size,
            value_size,
            max_entries,
            global: None,
            prog_init: Vec::new(),
        })
    }
}

/// Combines `__uint(key_size, N)` and `__type(key, T)`; they must agree.
fn pick_size(
    attr: &'static str,
    sized: Option<u32>,
    typed: Option<u32>,
    default: Option<u32>,
) -> Result<u32, MapProblem> {
    match (sized, typed) {
        (Some(s), Some(t)) if s != t => Err(MapProblem::SizeMismatch {
            attr,
            sized: s,
            typed: t,
        }),
        (Some(s), _) | (None, Some(s)) => Ok(s),
        (None, None) => default.ok_or(MapProblem::Missing(if attr == "key" {
            "key or key_size"
        } else {
            "value or value_size"
        })),
    }
}

/// `__uint(name, N)`: PTR → ARRAY[N]; returns N.
fn uint_attr(btf: &Btf, m: &Member) -> Option<u32> {
    let ptr = btf.get(btf.skip_modifiers(m.ty).ok()?)?;
    let BtfKind::Ptr { target } = ptr.kind else {
        return None;
    };
    match btf.get(btf.skip_modifiers(target).ok()?)?.kind {
        BtfKind::Array { nelems, .. } => Some(nelems),
        _ => None,
    }
}

/// `__type(name, T)`: PTR → T; returns sizeof(T).
fn pointee_size(btf: &Btf, m: &Member) -> Option<u32> {
    let ptr = btf.get(btf.skip_modifiers(m.ty).ok()?)?;
    let BtfKind::Ptr { target } = ptr.kind else {
        return None;
    };
    btf.resolve_size(target).ok()
}

/// The one-element ARRAY map standing for a global-data section.
fn global_data_map(
    view: &ElfView<'_>,
    btf: Option<&Btf>,
    index: usize,
) -> Result<MapDef, LoadError> {
    let sec = &view.sections[index];
    if sec.size > MAX_GLOBAL_SECTION {
        return Err(view.error(index, LoadErrorKind::SectionTooLarge { size: sec.size }));
    }
    let initial = if sec.sh_type == object::elf::SHT_NOBITS {
        vec![0; sec.size as usize]
    } else {
        view.section_data(index)?.to_vec()
    };
    let vars = global_vars(view, btf, index)?;
    for v in &vars {
        if u64::from(v.offset) + u64::from(v.size) > sec.size {
            let problem = MapProblem::VarOutOfBounds {
                var: v.name.clone(),
                offset: v.offset.into(),
                size: v.size.into(),
            };
            return Err(view.error(
                index,
                LoadErrorKind::BadMap {
                    map: sec.name.clone(),
                    problem,
                },
            ));
        }
    }
    Ok(MapDef {
        name: sec.name.clone(),
        kind: MapKind::Array,
        key_size: 4,
        value_size: sec.size as u32,
        max_entries: 1,
        global: Some(GlobalData {
            initial,
            read_only: !sec.is_writable(),
            vars,
        }),
        prog_init: Vec::new(),
    })
}

/// Variables of a global-data section: from its BTF DATASEC (offsets taken
/// from the ELF symbols, which clang fills while leaving the DATASEC
/// offsets to relocations), else from the section's object symbols.
fn global_vars(
    view: &ElfView<'_>,
    btf: Option<&Btf>,
    index: usize,
) -> Result<Vec<GlobalVar>, LoadError> {
    let sec_name = &view.sections[index].name;
    let symbol_offset = |name: &str| {
        view.symbols
            .iter()
            .find(|s| s.section == Some(index) && s.kind == SymKind::Object && s.name == name)
            .map(|s| s.value)
    };
    let mut vars = Vec::new();
    let datasec = btf.and_then(|b| b.datasec(sec_name).map(|(_, infos)| (b, infos)));
    if let Some((btf, infos)) = datasec {
        for info in infos {
            let var = btf
                .type_by_id(info.ty)
                .map_err(|e| view.error(index, e.into()))?;
            let size = btf.resolve_size(info.ty).unwrap_or(info.size);
            let offset = symbol_offset(&var.name).unwrap_or(u64::from(info.offset));
            vars.push(GlobalVar {
                name: var.name.clone(),
                offset: offset.min(u64::from(u32::MAX)) as u32,
                size,
            });
        }
    } else {
        for s in view
            .symbols
            .iter()
            .filter(|s| s.section == Some(index) && s.kind == SymKind::Object)
        {
            vars.push(GlobalVar {
                name: s.name.clone(),
                offset: s.value.min(u64::from(u32::MAX)) as u32,
                size: s.size.min(u64::from(u32::MAX)) as u32,
            });
        }
    }
    vars.sort_by_key(|v| v.offset);
    Ok(vars)
}
