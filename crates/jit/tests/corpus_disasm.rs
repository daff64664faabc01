//! The JIT'd code of the whole corpus — every bpf_conformance and ubpf
//! `.data` program and every program of the ported Linux selftests
//! (`tests/bpf/*.o`), for every target and tail-call scheme — disassembles
//! identically with rvbpf's printer and LLVM 14's `llvm-objdump`, an
//! independent decoder. One blob per target keeps it to a few tool runs.

mod common;
#[path = "qemu_support/corpus.rs"]
#[allow(dead_code)]
mod corpus;

use corpus::{compile_variants, data_files, prepare, Variant};
use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_rv64::disassemble;
use rvbpf_rv64::llvm_oracle::{available as tool_available, llvm_objdump};
use std::path::Path;

fn shared(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

/// Every compiled variant of the corpus.
fn corpus_variants() -> Vec<Variant> {
    let mut out = Vec::new();
    for suite in ["bpf_conformance_tests/tests", "ubpf_tests/tests"] {
        let dir = shared(suite);
        assert!(dir.is_dir(), "{} is missing", dir.display());
        for f in data_files(&dir) {
            // Files expecting errors or needing extra helpers are not in the
            // shared preparation; the programs that run are what matters.
            if let Ok(p) = prepare(&f) {
                out.extend(p.variants);
            }
        }
    }
    let bpf_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bpf");
    let mut objects: Vec<_> = std::fs::read_dir(&bpf_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "o"))
        .collect();
    objects.sort();
    let env = VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| true,
        entry_args: 1,
    };
    for path in objects {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let obj = load_elf(&name, &std::fs::read(&path).unwrap()).unwrap();
        for i in 0..obj.programs.len() {
            // The reject_* fixtures are meant to fail verification.
            if let Ok(v) = verify(&obj, i, &env) {
                out.extend(compile_variants(&v).unwrap_or_else(|e| panic!("{name}: {e}")));
            }
        }
    }
    out
}

#[test]
fn whole_corpus_disassembles_identically_with_llvm_objdump() {
    if !tool_available("llvm-objdump") || !tool_available("llvm-mc") {
        eprintln!("llvm-objdump/llvm-mc not installed: skipping (CI installs them)");
        return;
    }
    let variants = corpus_variants();
    assert!(variants.len() > 3000, "only {} images", variants.len());
    let mut targets: Vec<_> = variants.iter().map(|v| v.target).collect();
    targets.dedup();
    targets.sort_by_key(|t| t.to_string());
    targets.dedup();
    for target in targets {
        // Concatenated text sections: each is a whole number of instructions.
        let blob: Vec<u8> = variants
            .iter()
            .filter(|v| v.target == target)
            .flat_map(|v| v.image.code[..v.image.text_len].iter().copied())
            .collect();
        let ours: Vec<String> = disassemble(&blob, 0)
            .iter()
            .map(|l| {
                let hex: Vec<String> = l.bytes.iter().map(|b| format!("{b:02x}")).collect();
                format!("{:x}: {} | {}", l.address, hex.join(" "), l.text)
            })
            .collect();
        let llvm = llvm_objdump(&blob);
        assert_eq!(
            ours.len(),
            llvm.len(),
            "{target}: instruction counts differ"
        );
        for (o, l) in ours.iter().zip(&llvm) {
            assert_eq!(o, l, "{target}");
        }
        eprintln!(
            "{target}: {} bytes, {} instructions agree",
            blob.len(),
            ours.len()
        );
    }
}
