//! The assembler, the `.data` parser and strict decoding against the shared
//! conformance suites (bpf_conformance and ubpf), without running anything:
//! * every file parses, every `-- asm` assembles, and where a file gives both
//!   `-- asm` and `-- raw` (ubpf's assembler tests) the encodings agree — the
//!   raw bytes are an independent oracle for the assembler;
//! * every assembled program survives disassemble → assemble;
//! * every case of `bpf_conformance/negative` is rejected, at the stage
//!   written in the table below (the two that are not rejected before
//!   running are checked by the runtime's conformance test).

use rvbpf_ebpf::asm::assemble;
use rvbpf_ebpf::data_file::{self, DataFileErrorKind, Expect, TestCase};
use rvbpf_ebpf::disasm::disassemble;
use rvbpf_ebpf::inst::{decode_program, encode_program};
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        p.join("bpf_conformance_tests").is_dir(),
        "conformance suites not found at {}",
        p.display()
    );
    p
}

fn data_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "data") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// ubpf error cases whose program uses r11, which the assembler rejects
/// (ubpf's own assembler accepts it and its loader refuses it).
const ASM_REJECTED_UBPF: [&str; 2] = ["err-invalid-reg-dst", "err-invalid-reg-src"];

fn check_positive(case: &TestCase) -> Result<(), String> {
    let asm = match &case.asm {
        Some(a) => match assemble(&a.text) {
            Ok(p) => Some(p),
            Err(e) if ASM_REJECTED_UBPF.contains(&case.name.as_str()) => {
                assert!(matches!(case.expect, Expect::Error(_)), "{e}");
                return Ok(());
            }
            Err(e) => return Err(format!("assemble: {e}")),
        },
        None => None,
    };
    if let Some(p) = &asm {
        let back = assemble(&disassemble(p)).map_err(|e| format!("reassemble: {e}"))?;
        if &back != p {
            return Err("disassemble/assemble changed the program".into());
        }
    }
    match (&asm, &case.raw) {
        (Some(p), Some(raw)) if encode_program(p) != *raw => {
            Err("assembled code differs from -- raw".to_string())
        }
        (None, Some(raw)) => match decode_program(raw) {
            Err(e) if !matches!(case.expect, Expect::Error(_)) => Err(format!("decode: {e}")),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

#[test]
fn positive_suites_parse_and_assemble() {
    let root = shared();
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in ["bpf_conformance_tests/tests", "ubpf_tests/tests"] {
        for path in data_files(&root.join(dir)) {
            let result = data_file::load(&path)
                .map_err(|e| e.to_string())
                .and_then(|c| check_positive(&c));
            if let Err(e) = result {
                failures.push(format!("{}: {e}", path.display()));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // 313 bpf_conformance + 104 ubpf files (SOURCE.txt of each suite).
    assert_eq!(checked, 313 + 104);
}

#[test]
fn ubpf_assembler_cases_compare_against_raw() {
    // These files have no expectation: they exist to pin the assembler.
    for name in ["alu", "alu64", "jmp", "ldx", "st", "stx"] {
        let path = shared().join(format!("ubpf_tests/tests/{name}.data"));
        let case = data_file::load(&path).unwrap();
        assert_eq!(case.expect, Expect::AssembleOnly, "{name}");
        let p = assemble(&case.asm.unwrap().text).unwrap();
        assert_eq!(encode_program(&p), case.raw.unwrap(), "{name}");
    }
}

/// Where each negative case is rejected.
#[derive(Debug, PartialEq)]
enum Stage {
    DataFile,
    Assembler,
    Decoder,
    /// Valid program; the runtime must reject it (verifier) or see the
    /// expected result differ.
    Runtime,
}

fn negative_stage(path: &Path) -> Stage {
    let case = match data_file::load(path) {
        Ok(c) => c,
        Err(_) => return Stage::DataFile,
    };
    if let Some(a) = &case.asm {
        if case.raw.is_none() && assemble(&a.text).is_err() {
            return Stage::Assembler;
        }
    }
    if let Some(raw) = &case.raw {
        if decode_program(raw).is_err() {
            return Stage::Decoder;
        }
    }
    Stage::Runtime
}

#[test]
fn every_negative_case_is_rejected_at_the_expected_stage() {
    let files = data_files(&shared().join("bpf_conformance_tests/negative"));
    assert_eq!(files.len(), 60);
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let expected = match name {
            // Empty file / no program / `-- Unknown directive`.
            "empty" | "empty_instructions" | "invalid_unknown_directive" => Stage::DataFile,
            // ldxq, missing brackets, offset/imm ranges, lddw with one
            // operand, undefined label, lock without operands, %r50.
            "invalid_mnemonic"
            | "invalid_offset"
            | "invalid_offset_range"
            | "invalid_imm32_dec_range"
            | "invalid_imm32_hex_range"
            | "invalid_operand_count"
            | "invalid_label"
            | "invalid_lock"
            | "invalid_lock2"
            | "invalid_register" => Stage::Assembler,
            // `or %r0, %r10` reads r0 before it is written (expects an error);
            // the high-bits case expects a wrong value.
            "error" | "incorrect_return_value_high_bits" => Stage::Runtime,
            // Non-zero unused fields.
            n if n.starts_with("unused-") => Stage::Decoder,
            other => panic!("unclassified negative case {other}"),
        };
        assert_eq!(negative_stage(&path), expected, "{name}");
    }
}

#[test]
fn data_file_errors_name_the_problem() {
    let neg = shared().join("bpf_conformance_tests/negative");
    let e = data_file::load(&neg.join("invalid_unknown_directive.data")).unwrap_err();
    assert_eq!(
        e.kind,
        DataFileErrorKind::UnknownDirective("Unknown directive".into())
    );
    assert_eq!(e.line, 4);
}
