//! A checked view of a relocatable BPF ELF file: section list, symbol table
//! and relocation entries, read through the `object` crate's low-level ELF
//! API. Everything here is bounds-checked; nothing interprets BPF yet.

use object::elf::{self, FileHeader64, SectionHeader64};
use object::read::elf::{FileHeader, Rel as _, SectionHeader as _, SectionTable, Sym as _};
use object::LittleEndian as LE;

use super::error::{LoadError, LoadErrorKind};

/// `EM_BPF` from the ELF machine registry.
const EM_BPF: u16 = 247;
/// Identification bytes: length and the class / data-encoding positions.
const EI_NIDENT: usize = 16;
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;

/// One section header, with its name resolved.
pub(crate) struct Section<'a> {
    pub index: usize,
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub size: u64,
    header: &'a SectionHeader64<LE>,
}

impl Section<'_> {
    pub fn is_exec(&self) -> bool {
        self.sh_type == elf::SHT_PROGBITS && self.flags & u64::from(elf::SHF_EXECINSTR) != 0
    }
    pub fn is_writable(&self) -> bool {
        self.flags & u64::from(elf::SHF_WRITE) != 0
    }
}

/// Symbol types we distinguish (`STT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SymKind {
    NoType,
    Object,
    Func,
    Section,
    Other,
}

/// One symbol-table entry.
#[derive(Clone, Debug)]
pub(crate) struct Symbol {
    pub name: String,
    /// Defining section; `None` for undefined, absolute and common symbols.
    pub section: Option<usize>,
    pub value: u64,
    pub size: u64,
    pub kind: SymKind,
    pub is_global: bool,
    pub is_undefined: bool,
}

/// One `REL` entry (BPF objects carry no addends: the addend lives in the
/// instruction or data being relocated).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reloc {
    pub offset: u64,
    pub r_type: u32,
    pub sym: usize,
}

/// Relocation types emitted by LLVM for BPF (`R_BPF_*`).
pub(crate) mod rtype {
    pub const NONE: u32 = 0;
    /// `lddw` against a map, global or function.
    pub const R64_64: u32 = 1;
    /// 64-bit data word (prog-array initialisers in `.maps`).
    pub const ABS64: u32 = 2;
    /// `call` against a function or kfunc.
    pub const R64_32: u32 = 10;
}

/// The parsed file: sections and symbols, plus access to raw section data.
pub(crate) struct ElfView<'a> {
    pub file: String,
    pub sections: Vec<Section<'a>>,
    pub symbols: Vec<Symbol>,
    data: &'a [u8],
}

impl<'a> ElfView<'a> {
    /// Checks the identification and header, then reads the section and
    /// symbol tables.
    pub fn parse(file: &str, data: &'a [u8]) -> Result<Self, LoadError> {
        let fail = |kind| LoadError {
            file: file.to_string(),
            section: None,
            kind,
        };
        if data.len() < EI_NIDENT || data[..4] != elf::ELFMAG {
            return Err(fail(LoadErrorKind::NotElf));
        }
        if data[EI_CLASS] != elf::ELFCLASS64 {
            return Err(fail(LoadErrorKind::WrongClass(data[EI_CLASS])));
        }
        if data[EI_DATA] != elf::ELFDATA2LSB {
            return Err(fail(LoadErrorKind::WrongEndian(data[EI_DATA])));
        }
        let header = FileHeader64::<LE>::parse(data).map_err(|e| fail(malformed(e)))?;
        let machine = header.e_machine(LE);
        if machine != EM_BPF && machine != elf::EM_NONE {
            return Err(fail(LoadErrorKind::WrongMachine(machine)));
        }
        let e_type = header.e_type(LE);
        if e_type != elf::ET_REL {
            return Err(fail(LoadErrorKind::WrongType(e_type)));
        }
        let table = header.sections(LE, data).map_err(|e| fail(malformed(e)))?;
        let sections = read_sections(&table).map_err(fail)?;
        let symbols = read_symbols(&table, data, sections.len()).map_err(fail)?;
        Ok(ElfView {
            file: file.to_string(),
            sections,
            symbols,
            data,
        })
    }

    /// An error located in section `index`.
    pub fn error(&self, index: usize, kind: LoadErrorKind) -> LoadError {
        LoadError {
            file: self.file.clone(),
            section: self.sections.get(index).map(|s| s.name.clone()),
            kind,
        }
    }

    /// The first section with this name.
    pub fn section_by_name(&self, name: &str) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The bytes of a section (empty for `NOBITS`), checked against the file.
    pub fn section_data(&self, index: usize) -> Result<&'a [u8], LoadError> {
        let s = &self.sections[index];
        s.header.data(LE, self.data).map_err(|_| {
            self.error(
                index,
                LoadErrorKind::SectionOutOfBounds {
                    offset: s.header.sh_offset(LE),
                    size: s.size,
                },
            )
        })
    }

    /// The relocations that apply to section `target`, with symbol indices
    /// checked against the symbol table.
    pub fn relocations_for(&self, target: usize) -> Result<Vec<Reloc>, LoadError> {
        let mut out = Vec::new();
        for s in &self.sections {
            if s.header.sh_info(LE) as usize != target {
                continue;
            }
            match s.sh_type {
                elf::SHT_REL => {}
                elf::SHT_RELA => return Err(self.error(target, LoadErrorKind::RelaUnsupported)),
                _ => continue,
            }
            let rels: &[elf::Rel64<LE>] = s.header.data_as_array(LE, self.data).map_err(|_| {
                self.error(
                    s.index,
                    LoadErrorKind::SectionOutOfBounds {
                        offset: s.header.sh_offset(LE),
                        size: s.size,
                    },
                )
            })?;
            for r in rels {
                let sym = r.r_sym(LE);
                if sym as usize >= self.symbols.len() {
                    return Err(self.error(target, LoadErrorKind::BadSymbolIndex { index: sym }));
                }
                out.push(Reloc {
                    offset: r.r_offset(LE),
                    r_type: r.r_type(LE),
                    sym: sym as usize,
                });
            }
        }
        out.sort_by_key(|r| r.offset);
        Ok(out)
    }
}

fn malformed(e: object::read::Error) -> LoadErrorKind {
    LoadErrorKind::Malformed(e.to_string())
}

fn read_sections<'a>(
    table: &SectionTable<'a, FileHeader64<LE>>,
) -> Result<Vec<Section<'a>>, LoadErrorKind> {
    table
        .enumerate()
        .map(|(index, header)| {
            let name = table.section_name(LE, header).map_err(malformed)?;
            Ok(Section {
                index: index.0,
                name: String::from_utf8_lossy(name).into_owned(),
                sh_type: header.sh_type(LE),
                flags: header.sh_flags(LE),
                size: header.sh_size(LE),
                header,
            })
        })
        .collect()
}

fn read_symbols(
    table: &SectionTable<'_, FileHeader64<LE>>,
    data: &[u8],
    section_count: usize,
) -> Result<Vec<Symbol>, LoadErrorKind> {
    let symtab = table
        .symbols(LE, data, elf::SHT_SYMTAB)
        .map_err(malformed)?;
    if symtab.is_empty() {
        return Err(LoadErrorKind::NoSymbolTable);
    }
    let mut out = Vec::with_capacity(symtab.len());
    for (index, sym) in symtab.enumerate() {
        let index = index.0 as u32;
        let name = symtab
            .symbol_name(LE, sym)
            .map_err(|_| LoadErrorKind::BadSymbolName { index })?;
        let shndx = sym.st_shndx(LE);
        let section = match shndx {
            elf::SHN_UNDEF => None,
            s if s >= elf::SHN_LORESERVE => None,
            s if usize::from(s) < section_count => Some(usize::from(s)),
            _ => return Err(LoadErrorKind::BadSymbolIndex { index }),
        };
        out.push(Symbol {
            name: String::from_utf8_lossy(name).into_owned(),
            section,
            value: sym.st_value(LE),
            size: sym.st_size(LE),
            kind: match sym.st_type() {
                elf::STT_NOTYPE => SymKind::NoType,
                elf::STT_OBJECT => SymKind::Object,
                elf::STT_FUNC => SymKind::Func,
                elf::STT_SECTION => SymKind::Section,
                _ => SymKind::Other,
            },
            is_global: sym.st_bind() != elf::STB_LOCAL,
            is_undefined: shndx == elf::SHN_UNDEF,
        });
    }
    Ok(out)
}
