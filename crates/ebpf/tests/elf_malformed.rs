//! Malformed objects: each corruption must give a typed `LoadError` naming
//! the file and the section/offset at fault, and arbitrary bytes must never
//! panic the loader.
//!
//! Header fields are patched through a tiny hand-written ELF64 reader
//! (offsets from the ELF specification), independent of the loader.

use proptest::prelude::*;
use rvbpf_ebpf::elf::{load_elf, LoadError, LoadErrorKind, MapProblem};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// File offset of the section header named `name` (Elf64_Ehdr: e_shoff at
/// 0x28, e_shnum at 0x3c, e_shstrndx at 0x3e; Elf64_Shdr is 64 bytes with
/// sh_name at 0, sh_offset at 24).
fn shdr(b: &[u8], name: &str) -> usize {
    let shoff = u64_at(b, 0x28) as usize;
    let shnum = u16_at(b, 0x3c) as usize;
    let strtab = shoff + 64 * u16_at(b, 0x3e) as usize;
    let str_off = u64_at(b, strtab + 24) as usize;
    (0..shnum)
        .map(|i| shoff + 64 * i)
        .find(|&h| {
            let start = str_off + u32_at(b, h) as usize;
            let end = start + b[start..].iter().position(|&c| c == 0).unwrap();
            &b[start..end] == name.as_bytes()
        })
        .unwrap_or_else(|| panic!("no section {name}"))
}

/// File offset of relocation entry `i` of REL section `name` (Elf64_Rel:
/// r_offset u64, r_info u64 = sym << 32 | type).
fn rel_entry(b: &[u8], name: &str, i: usize) -> usize {
    u64_at(b, shdr(b, name) + 24) as usize + 16 * i
}

fn load_err(bytes: &[u8]) -> LoadError {
    match load_elf("bad.o", bytes) {
        Ok(_) => panic!("corrupted object was accepted"),
        Err(e) => {
            assert_eq!(e.file, "bad.o");
            assert!(
                e.to_string().starts_with("bad.o"),
                "message names the file: {e}"
            );
            e
        }
    }
}

#[test]
fn identification_errors() {
    let good = fixture("programs.o");
    assert_eq!(load_err(b"").kind, LoadErrorKind::NotElf);
    assert_eq!(
        load_err(b"\x7fELF").kind,
        LoadErrorKind::NotElf,
        "too short for e_ident"
    );
    assert_eq!(load_err(&[0u8; 64]).kind, LoadErrorKind::NotElf);

    let mut b = good.clone();
    b[4] = 1; // EI_CLASS = ELFCLASS32
    assert_eq!(load_err(&b).kind, LoadErrorKind::WrongClass(1));
    let mut b = good.clone();
    b[5] = 2; // EI_DATA = ELFDATA2MSB
    assert_eq!(load_err(&b).kind, LoadErrorKind::WrongEndian(2));
    let mut b = good.clone();
    b[18..20].copy_from_slice(&62u16.to_le_bytes()); // e_machine = EM_X86_64
    assert_eq!(load_err(&b).kind, LoadErrorKind::WrongMachine(62));
    let mut b = good.clone();
    b[16..18].copy_from_slice(&2u16.to_le_bytes()); // e_type = ET_EXEC
    assert_eq!(load_err(&b).kind, LoadErrorKind::WrongType(2));
    // EM_NONE (0) is accepted, as objects from older toolchains carry it.
    let mut b = good;
    b[18..20].copy_from_slice(&0u16.to_le_bytes());
    assert!(load_elf("ok.o", &b).is_ok());
}

#[test]
fn truncation_at_many_lengths_is_an_error() {
    let good = fixture("programs.o");
    // The section header table sits at the end of clang's output, so every
    // truncation past e_ident loses it (or the ELF header itself).
    for len in [
        16,
        40,
        63,
        64,
        100,
        0x1000,
        good.len() / 2,
        good.len() - 64,
        good.len() - 1,
    ] {
        let e = load_err(&good[..len]);
        assert!(
            matches!(e.kind, LoadErrorKind::Malformed(_)),
            "len {len}: {e}"
        );
        assert_eq!(e.section, None, "len {len}");
    }
}

#[test]
fn section_data_outside_the_file() {
    let mut b = fixture("programs.o");
    let h = shdr(&b, "tc");
    b[h + 24..h + 32].copy_from_slice(&0xdead_0000u64.to_le_bytes());
    let e = load_err(&b);
    assert_eq!(e.section.as_deref(), Some("tc"));
    assert_eq!(
        e.kind,
        LoadErrorKind::SectionOutOfBounds {
            offset: 0xdead_0000,
            size: 0x58
        }
    );
}

#[test]
fn code_size_must_be_a_multiple_of_8() {
    let mut b = fixture("programs.o");
    let h = shdr(&b, "xdp");
    b[h + 32..h + 40].copy_from_slice(&0x0cu64.to_le_bytes()); // 16 -> 12 bytes
    let e = load_err(&b);
    assert_eq!(e.section.as_deref(), Some("xdp"));
    assert_eq!(e.kind, LoadErrorKind::CodeSizeNotMultipleOf8 { size: 12 });
}

#[test]
fn bad_section_name_offset() {
    let mut b = fixture("programs.o");
    let h = shdr(&b, "xdp");
    b[h..h + 4].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    assert!(matches!(load_err(&b).kind, LoadErrorKind::Malformed(_)));
}

#[test]
fn relocation_errors_name_section_and_offset() {
    let good = fixture("programs.o");
    // .reltc entry 0: r_offset 0x10 (call global_mid), R_BPF_64_32 (10).
    let at = rel_entry(&good, ".reltc", 0);
    assert_eq!(u64_at(&good, at), 0x10);
    assert_eq!(u64_at(&good, at + 8) & 0xffff_ffff, 10);

    let mut b = good.clone();
    b[at..at + 8].copy_from_slice(&0x1000u64.to_le_bytes());
    let e = load_err(&b);
    assert_eq!(
        (e.section.as_deref(), e.kind),
        (
            Some("tc"),
            LoadErrorKind::RelocOutOfBounds { offset: 0x1000 }
        )
    );

    let mut b = good.clone();
    b[at..at + 8].copy_from_slice(&0x12u64.to_le_bytes()); // inside, but not on a slot
    assert_eq!(
        load_err(&b).kind,
        LoadErrorKind::RelocOutOfBounds { offset: 0x12 }
    );

    let mut b = good.clone();
    b[at + 8..at + 12].copy_from_slice(&7u32.to_le_bytes()); // unknown type
    let e = load_err(&b);
    assert_eq!(
        (e.section.as_deref(), e.kind),
        (
            Some("tc"),
            LoadErrorKind::UnknownRelocType {
                offset: 0x10,
                r_type: 7
            }
        )
    );

    let mut b = good.clone();
    b[at + 12..at + 16].copy_from_slice(&9999u32.to_le_bytes()); // symbol index
    let e = load_err(&b);
    assert_eq!(
        (e.section.as_deref(), e.kind),
        (Some("tc"), LoadErrorKind::BadSymbolIndex { index: 9999 })
    );

    // Point the call relocation at pc 0, `r6 = *(u32 *)(r1 + 0)` (opcode 0x61).
    let mut b = good;
    b[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
    assert_eq!(
        load_err(&b).kind,
        LoadErrorKind::RelocOnWrongInsn { pc: 0, opc: 0x61 }
    );
}

#[test]
fn bad_symbol_name_offset() {
    let mut b = fixture("programs.o");
    // Symbol 21 is global_mid (Elf64_Sym is 24 bytes, st_name first).
    let at = u64_at(&b, shdr(&b, ".symtab") + 24) as usize + 24 * 21;
    b[at..at + 4].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    assert_eq!(
        load_err(&b).kind,
        LoadErrorKind::BadSymbolName { index: 21 }
    );
}

#[test]
fn corrupt_btf_is_reported_in_the_btf_section() {
    let mut b = fixture("maps_globals.o");
    let at = u64_at(&b, shdr(&b, ".BTF") + 24) as usize;
    b[at] ^= 0xff; // break the magic
    let e = load_err(&b);
    assert_eq!(e.section.as_deref(), Some(".BTF"));
    assert!(matches!(e.kind, LoadErrorKind::Btf(_)), "{e}");
}

#[test]
fn prog_array_init_outside_values_is_rejected() {
    let mut b = fixture("maps_globals.o");
    // .rel.maps entry 0 is slot 0 of jmp_table (offset 0x18); move it onto
    // jmp_table's `type` member at offset 0.
    let at = rel_entry(&b, ".rel.maps", 0);
    assert_eq!(u64_at(&b, at), 0x18);
    b[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
    let e = load_err(&b);
    assert_eq!(
        (e.section.as_deref(), e.kind),
        (
            Some(".maps"),
            LoadErrorKind::StrayMapRelocation { offset: 0 }
        )
    );
}

#[test]
fn unsupported_map_type_names_the_map() {
    let e = load_elf("u.o", &fixture("unsupported_map.o")).unwrap_err();
    assert_eq!(e.section.as_deref(), Some(".maps"));
    // BPF_MAP_TYPE_RINGBUF = 27.
    assert_eq!(
        e.kind,
        LoadErrorKind::BadMap {
            map: "events".into(),
            problem: MapProblem::UnsupportedType(27)
        }
    );
}

const FIXTURES: [&str; 6] = [
    "globals_nobtf.o",
    "programs.o",
    "maps_globals.o",
    "kfunc_globals.o",
    "callback.o",
    "unsupported_map.o",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = load_elf("random.o", &bytes);
    }

    #[test]
    fn random_bytes_behind_a_valid_ident_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        // ELF64, little endian, version 1: gets past identification.
        let mut bytes = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&tail);
        let _ = load_elf("random.o", &bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = fixture(FIXTURES[which]);
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let _ = load_elf("mutated.o", &bytes);
    }

    #[test]
    fn mutated_headers_never_panic(
        which in 0..FIXTURES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        // Aim the edits at the ELF header, section headers and symbol table,
        // where random edits of a whole file rarely land.
        let mut bytes = fixture(FIXTURES[which]);
        let shoff = u64_at(&bytes, 0x28) as usize;
        let symtab = u64_at(&bytes, shdr(&bytes, ".symtab") + 24) as usize;
        let regions = [(0, 64), (shoff, bytes.len() - shoff), (symtab, 24 * 30)];
        for (k, (at, v)) in edits.into_iter().enumerate() {
            let (start, len) = regions[k % regions.len()];
            let i = (start + at.index(len)).min(bytes.len() - 1);
            bytes[i] = v;
        }
        let _ = load_elf("mutated.o", &bytes);
    }
}

#[test]
fn call_into_the_middle_of_a_function_is_rejected() {
    let mut b = fixture("programs.o");
    // tc pc 5 is `call 8` relocated against the .text section symbol:
    // target .text pc 0 + 8 + 1 = 9 (static_twice). imm 7 aims at .text pc 8,
    // the last instruction of static_leaf [5,9).
    let at = u64_at(&b, shdr(&b, "tc") + 24) as usize + 5 * 8 + 4;
    assert_eq!(u32_at(&b, at), 8);
    b[at..at + 4].copy_from_slice(&7u32.to_le_bytes());
    let e = load_err(&b);
    assert_eq!(
        (e.section.as_deref(), e.kind),
        (
            Some("tc"),
            LoadErrorKind::BadCallTarget { pc: 5, target: 8 }
        )
    );
}
