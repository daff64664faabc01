//! The native side: a tiny static linker for the clang-compiled riscv64
//! relocatable objects in `kernels/`, enough to run one function in the
//! emulator.
//!
//! Every allocatable section (`.text`, constant pools in `.rodata*` /
//! `.sdata*`, ...) is laid out back to back in one image that is mapped RX,
//! and the relocations clang leaves in `.text` with `-mno-relax` are
//! resolved: pc-relative `auipc` pairs (constant-pool loads) and calls.
//! Anything else is reported as [`KernelError::Link`], never guessed at.

use super::KernelError;
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionFlags,
    SectionIndex, SectionKind, SymbolKind,
};
use std::collections::HashMap;

// ELF relocation numbers from the RISC-V psABI.
const R_RISCV_CALL: u32 = 18;
const R_RISCV_CALL_PLT: u32 = 19;
const R_RISCV_PCREL_HI20: u32 = 23;
const R_RISCV_PCREL_LO12_I: u32 = 24;
const R_RISCV_PCREL_LO12_S: u32 = 25;
const SHF_ALLOC: u64 = 0x2;

/// A linked native object: one flat image plus where its functions are.
#[derive(Clone, Debug)]
pub struct NativeImage {
    /// All allocatable sections, relocated for loading at `base`.
    pub bytes: Vec<u8>,
    /// Load address the relocations were resolved for.
    pub base: u64,
    /// Function symbols: name → (offset in `bytes`, size in bytes).
    pub functions: HashMap<String, (u64, u64)>,
}

impl NativeImage {
    /// Offset and size of function `name`.
    pub fn function(&self, name: &str) -> Result<(u64, u64), KernelError> {
        self.functions
            .get(name)
            .copied()
            .ok_or_else(|| KernelError::Link(format!("no function `{name}` in the object")))
    }
}

/// Links the relocatable riscv64 ELF `elf` for loading at `base`.
pub fn link(elf: &[u8], base: u64) -> Result<NativeImage, KernelError> {
    let file = object::File::parse(elf).map_err(|e| KernelError::Link(e.to_string()))?;
    let mut bytes = Vec::new();
    let mut placed: HashMap<SectionIndex, u64> = HashMap::new();
    for section in file.sections() {
        let SectionFlags::Elf { sh_flags } = section.flags() else {
            continue;
        };
        if sh_flags & SHF_ALLOC == 0 || section.size() == 0 {
            continue;
        }
        let align = section.align().max(8) as usize;
        bytes.resize(bytes.len().next_multiple_of(align), 0);
        placed.insert(section.index(), bytes.len() as u64);
        match section.kind() {
            SectionKind::UninitializedData => {
                bytes.resize(bytes.len() + section.size() as usize, 0);
            }
            _ => {
                let data = section
                    .data()
                    .map_err(|e| KernelError::Link(format!("{}: {e}", name_of(&section))))?;
                bytes.extend_from_slice(data);
            }
        }
    }

    // Address of every symbol that lives in a placed section.
    let symbol_address = |index| -> Result<u64, KernelError> {
        let symbol = file
            .symbol_by_index(index)
            .map_err(|e| KernelError::Link(e.to_string()))?;
        let section = symbol
            .section_index()
            .and_then(|s| placed.get(&s))
            .ok_or_else(|| {
                KernelError::Link(format!(
                    "symbol `{}` is undefined or in an unplaced section",
                    symbol.name().unwrap_or("?")
                ))
            })?;
        Ok(base + section + symbol.address())
    };

    for section in file.sections() {
        let Some(&at) = placed.get(&section.index()) else {
            continue;
        };
        // The full pc-relative offset of every `auipc` with a HI20
        // relocation, by its address: the LO12 half names the auipc, not
        // the target.
        let mut hi20: HashMap<u64, i64> = HashMap::new();
        let mut lo12 = Vec::new();
        for (offset, reloc) in section.relocations() {
            let place = base + at + offset;
            let RelocationFlags::Elf { r_type } = reloc.flags() else {
                return Err(KernelError::Link("not an ELF relocation".into()));
            };
            let RelocationTarget::Symbol(sym) = reloc.target() else {
                return Err(KernelError::Link(format!(
                    "{}+{offset:#x}: relocation without a symbol",
                    name_of(&section)
                )));
            };
            let target = symbol_address(sym)?.wrapping_add(reloc.addend() as u64);
            let pcrel = target.wrapping_sub(place) as i64;
            let patch_at = (at + offset) as usize;
            match r_type {
                R_RISCV_PCREL_HI20 => {
                    hi20.insert(place, pcrel);
                    patch_u_type(&mut bytes, patch_at, pcrel)?;
                }
                R_RISCV_PCREL_LO12_I | R_RISCV_PCREL_LO12_S => {
                    // `target` is the auipc; resolved once all HI20s are known.
                    lo12.push((patch_at, target, r_type));
                }
                R_RISCV_CALL | R_RISCV_CALL_PLT => {
                    patch_u_type(&mut bytes, patch_at, pcrel)?;
                    patch_i_type(&mut bytes, patch_at + 4, pcrel);
                }
                other => {
                    return Err(KernelError::Link(format!(
                        "{}+{offset:#x}: unsupported relocation type {other}",
                        name_of(&section)
                    )))
                }
            }
        }
        for (patch_at, auipc, r_type) in lo12 {
            let pcrel = *hi20.get(&auipc).ok_or_else(|| {
                KernelError::Link(format!("LO12 at {patch_at:#x} has no matching HI20"))
            })?;
            if r_type == R_RISCV_PCREL_LO12_I {
                patch_i_type(&mut bytes, patch_at, pcrel);
            } else {
                patch_s_type(&mut bytes, patch_at, pcrel);
            }
        }
    }

    let mut functions = HashMap::new();
    for symbol in file.symbols() {
        if symbol.kind() != SymbolKind::Text {
            continue;
        }
        let (Ok(name), Some(section)) = (symbol.name(), symbol.section_index()) else {
            continue;
        };
        if let Some(&at) = placed.get(&section) {
            functions.insert(name.to_string(), (at + symbol.address(), symbol.size()));
        }
    }
    Ok(NativeImage {
        bytes,
        base,
        functions,
    })
}

fn name_of(section: &object::Section) -> String {
    section.name().unwrap_or("?").to_string()
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn write_u32(bytes: &mut [u8], at: usize, word: u32) {
    bytes[at..at + 4].copy_from_slice(&word.to_le_bytes());
}

/// Low 12 bits of a pc-relative offset, as the `auipc` pair splits it.
fn lo12(pcrel: i64) -> u32 {
    (pcrel as u32) & 0xfff
}

/// `auipc`/`lui` upper 20 bits, rounded so that adding the sign-extended
/// low 12 bits gives `pcrel` back.
fn patch_u_type(bytes: &mut [u8], at: usize, pcrel: i64) -> Result<(), KernelError> {
    if i32::try_from(pcrel).is_err() {
        return Err(KernelError::Link(format!(
            "offset {pcrel:#x} at {at:#x} does not fit an auipc pair"
        )));
    }
    let hi = (pcrel.wrapping_add(0x800) >> 12) as u32 & 0xf_ffff;
    let word = read_u32(bytes, at);
    write_u32(bytes, at, (word & 0xfff) | (hi << 12));
    Ok(())
}

fn patch_i_type(bytes: &mut [u8], at: usize, pcrel: i64) {
    let word = read_u32(bytes, at);
    write_u32(bytes, at, (word & 0x000f_ffff) | (lo12(pcrel) << 20));
}

fn patch_s_type(bytes: &mut [u8], at: usize, pcrel: i64) {
    let lo = lo12(pcrel);
    let word = read_u32(bytes, at) & 0x01ff_f07f;
    write_u32(bytes, at, word | ((lo >> 5) << 25) | ((lo & 0x1f) << 7));
}
