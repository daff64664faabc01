//! Loading clang-compiled BPF object files (`clang -target bpf -g -c`) into
//! an [`Object`]: programs linked with their subprograms, maps (BTF `.maps`
//! and global-data sections) and the kfunc table, following libbpf's
//! conventions and establishing those documented in [`crate::object`].
//!
//! Stages, one file each:
//! * `sections.rs` — checked ELF view (header, sections, symbols, REL entries);
//! * `maps.rs`     — map definitions from BTF and global-data sections;
//! * `relocate.rs` — per-section `lddw`/`call` relocation;
//! * `link.rs`     — program discovery and subprogram linking.
//!
//! Malformed input yields a [`LoadError`], never a panic.

mod error;
mod link;
mod maps;
mod relocate;
mod sections;

use std::collections::BTreeMap;

pub use error::{LoadError, LoadErrorKind, MapProblem};

use crate::btf::Btf;
use crate::object::Object;

/// Loads the BPF object in `bytes`; `name` (usually the file name) is kept
/// as [`Object::name`] and used in error messages.
pub fn load_elf(name: &str, bytes: &[u8]) -> Result<Object, LoadError> {
    let view = sections::ElfView::parse(name, bytes)?;
    let btf = match view.section_by_name(".BTF") {
        Some(s) => {
            let data = view.section_data(s.index)?;
            Some(Btf::parse(data).map_err(|e| view.error(s.index, e.into()))?)
        }
        None => None,
    };
    let map_table = maps::MapTable::build(&view, btf.as_ref())?;
    let mut kfuncs = Vec::new();
    let mut code = BTreeMap::new();
    for s in view.sections.iter().filter(|s| s.is_exec()) {
        code.insert(
            s.index,
            relocate::relocate_section(&view, s.index, &map_table, &mut kfuncs)?,
        );
    }
    let programs = link::link_programs(&view, &code, btf.as_ref())?;
    Ok(Object {
        name: name.to_string(),
        programs,
        maps: map_table.maps,
        kfuncs,
    })
}
