//! Reading an input file as an ELF object or as BPF assembler text.

use rvbpf::ebpf::object::Object;
use std::path::Path;

/// The object in `path`: an ELF file (by its magic) or assembler text.
pub fn read_object(path: &Path) -> Result<Object, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    if bytes.starts_with(b"\x7fELF") {
        return rvbpf::ebpf::elf::load_elf(&name, &bytes).map_err(|e| e.to_string());
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("{name}: neither an ELF object nor UTF-8 assembler text"))?;
    rvbpf::ebpf::asm::assemble_object(&name, text).map_err(|e| format!("{name}: {e}"))
}
