//! The shared conformance suites on every engine the runtime exposes:
//! bpf_conformance (its 313 behaviour tests and 60 negative self-tests) with
//! nothing failed or skipped, and ubpf's suite with nothing failed and only
//! its `-- pyelf` cases (ELF files built by ubpf's Python framework) skipped.

use rvbpf::conformance::engine::{all_executors, VmExecutor};
use rvbpf::conformance::{self, evaluate_file, Verdict};
use rvbpf::vm::Engine;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        p.join("bpf_conformance_tests/tests").is_dir() && p.join("ubpf_tests/tests").is_dir(),
        "conformance suites missing: expected them under {}",
        p.display()
    );
    p
}

#[test]
fn bpf_conformance_passes_on_every_engine() {
    let root = shared().join("bpf_conformance_tests");
    let paths = [root.join("tests"), root.join("negative")];
    let s = conformance::run(&paths, &mut all_executors()).unwrap();
    println!("{s}");
    assert_eq!((s.failed, s.skipped), (0, 0), "\n{s}");
    assert_eq!(s.passed, (313 + 60) * Engine::all().len());
}

#[test]
fn ubpf_suite_passes_on_every_engine_except_pyelf() {
    let root = shared().join("ubpf_tests/tests");
    let s = conformance::run(&[root], &mut all_executors()).unwrap();
    println!("{s}");
    assert_eq!(s.failed, 0, "\n{s}");
    // 21 files are `-- pyelf` (all of elf/); nothing else may be skipped.
    assert_eq!(s.skipped, 21 * Engine::all().len(), "{:#?}", s.skips);
    assert!(s
        .skips
        .iter()
        .all(|l| l.contains("/elf/") && l.contains("pyelf")));
    assert_eq!(s.passed + s.skipped, 104 * Engine::all().len());
}

/// The negative case only the runtime can catch fails for the reason the
/// suite intends: a wrong expected value, not some other error.
#[test]
fn negative_high_bits_case_is_a_value_mismatch() {
    let path =
        shared().join("bpf_conformance_tests/negative/incorrect_return_value_high_bits.data");
    for &engine in Engine::all() {
        // ldxdw at offset 2 of aa bb 11 22 33 44 55 66 77 88 cc dd reads
        // 11..88 little-endian = 0x8877665544332211; the file expects 0x89...
        let v = evaluate_file(&path, &mut VmExecutor::new(engine));
        assert_eq!(
            v,
            Verdict::Fail("returned 0x8877665544332211, expected 0x8977665544332211".into()),
            "{engine}"
        );
    }
}
