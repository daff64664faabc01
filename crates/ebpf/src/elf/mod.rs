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
    // The `object` crate reads ELF structures in place and insists on their
    // natural 8-byte alignment; buffers from `include_bytes!` or slicing
    // need not have it, so such input is first copied to an aligned buffer.
    let aligned: Vec<u64>;
    let bytes = if bytes.as_ptr().align_offset(8) == 0 {
        bytes
    } else {
        aligned = to_aligned_words(bytes);
        &words_as_bytes(&aligned)[..bytes.len()]
    };
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
    let kfunc_protos = kfuncs
        .iter()
        .map(|k| btf.as_ref().and_then(|b| b.kfunc_proto(k)))
        .collect();
    Ok(Object {
        name: name.to_string(),
        programs,
        maps: map_table.maps,
        kfuncs,
        kfunc_protos,
    })
}

/// Copies bytes into 8-byte words (zero-padded at the end).
fn to_aligned_words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(8)
        .map(|c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            u64::from_ne_bytes(w)
        })
        .collect()
}

/// The bytes of `words` in memory order, without unsafe code: `object`'s
/// pod casting is the safe way to view them.
fn words_as_bytes(words: &[u64]) -> &[u8] {
    object::pod::bytes_of_slice(words)
}
