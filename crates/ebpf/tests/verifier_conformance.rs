//! Runs the bpf_conformance and ubpf `.data` suites through the verifier:
//! every program those suites expect to run must be accepted, and the ubpf
//! cases that expect a *load-time* rejection must be rejected.
//!
//! Environment as the suites' plugins provide it: r1 = memory pointer and
//! r2 = length on entry, helpers 0..=5 (ubpf's test helpers), no kfuncs.

use rvbpf_ebpf::asm::assemble_object;
use rvbpf_ebpf::data_file::{self, Expect, Lifecycle, TestCase};
use rvbpf_ebpf::inst::decode_program;
use rvbpf_ebpf::object::{Object, Program};
use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv, VerifyError};
use std::path::{Path, PathBuf};

const CONFORMANCE: &str = "/work/shared/bpf_conformance_tests/tests";
const UBPF: &str = "/work/shared/ubpf_tests/tests";

fn data_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.expect("readable directory entry").path();
        if p.is_dir() {
            data_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "data") {
            out.push(p);
        }
    }
}

fn run(obj: &Object) -> Result<VerifiedProgram, VerifyError> {
    let helper_known = |n: i32| (0..=5).contains(&n);
    let kfunc_known = |_: &str| false;
    let env = VerifyEnv {
        helper_known: &helper_known,
        kfunc_known: &kfunc_known,
        entry_args: 2,
    };
    verify(obj, 0, &env)
}

/// The object a case describes: `-- raw` slots as they are (decoding is
/// the verifier's job), else the assembled `-- asm` text. `None` when the
/// text does not assemble (the suites' assembler-error cases).
fn object_of(case: &TestCase) -> Option<Object> {
    if let Some(raw) = &case.raw {
        return Some(Object {
            name: case.name.clone(),
            programs: vec![Program {
                name: "main".into(),
                insns: raw.clone(),
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    assemble_object(&case.name, &case.asm.as_ref()?.text).ok()
}

fn cases(dir: &str) -> Vec<TestCase> {
    let mut files = Vec::new();
    data_files(Path::new(dir), &mut files);
    files.sort();
    files
        .iter()
        .map(|f| data_file::load(f).unwrap_or_else(|e| panic!("{e}")))
        .filter(|c| c.skip.is_none())
        .collect()
}

#[test]
fn every_raw_program_expected_to_run_is_accepted() {
    let mut raw = 0;
    for dir in [CONFORMANCE, UBPF] {
        for case in cases(dir).iter().filter(|c| c.raw.is_some()) {
            let obj = object_of(case).expect("raw programs always form an object");
            match &case.expect {
                Expect::Result(_) => {
                    if let Err(e) = run(&obj) {
                        panic!("{}: rejected: {e}", case.path.display())
                    }
                }
                // Encoding fixtures (ubpf's alu.data & co.) are not whole
                // programs (no exit, uninitialised registers): they only
                // have to decode.
                Expect::AssembleOnly => {
                    if let Err(e) = decode_program(case.raw.as_ref().unwrap()) {
                        panic!("{}: does not decode: {e}", case.path.display())
                    }
                }
                Expect::Error(_) => {}
            }
            raw += 1;
        }
    }
    // lddw.data plus ubpf's alu, alu64, jmp, ldx, st and stx (counted by hand).
    if Path::new(CONFORMANCE).exists() {
        assert!(raw >= 7, "only {raw} raw programs found");
    }
}

#[test]
fn every_assembled_program_expected_to_run_is_accepted() {
    let mut accepted = 0;
    for dir in [CONFORMANCE, UBPF] {
        for case in cases(dir) {
            let Expect::Result(_) = case.expect else {
                continue;
            };
            let Some(obj) = object_of(&case) else {
                panic!("{}: does not assemble", case.path.display());
            };
            if let Err(e) = run(&obj) {
                panic!("{}: rejected: {e}", case.path.display());
            }
            accepted += 1;
        }
    }
    if Path::new(CONFORMANCE).exists() {
        // 313 conformance files, nearly all with a `-- result`.
        assert!(accepted > 300, "only {accepted} programs ran");
    }
}

/// ubpf cases whose expected error says the *loader* refuses the code.
/// ubpf has an infinite-loop detector for `ja -1`; rvbpf stops runaway
/// loops with its run-time instruction budget instead, so that case loads.
#[test]
fn ubpf_load_time_errors_are_rejected() {
    let mut rejected = 0;
    for case in cases(UBPF) {
        let Expect::Error(Some(err)) = &case.expect else {
            continue;
        };
        if !err.text.starts_with("Failed to load code")
            || case.lifecycle != Lifecycle::Load
            || case.name == "err-infinite-loop"
        {
            continue;
        }
        // Cases with out-of-range registers fail in the assembler already.
        let Some(obj) = object_of(&case) else {
            continue;
        };
        assert!(
            run(&obj).is_err(),
            "{}: accepted, expected: {}",
            case.path.display(),
            err.text
        );
        rejected += 1;
    }
    if Path::new(UBPF).exists() {
        assert!(rejected >= 15, "only {rejected} load-error cases checked");
    }
}

/// The stack checks reject what ubpf's run-time check catches later.
#[test]
fn ubpf_stack_overflow_is_rejected_statically() {
    let path = Path::new(UBPF).join("errors/err-stack-oob.data");
    let Ok(case) = data_file::load(&path) else {
        return;
    };
    let err = run(&object_of(&case).unwrap()).unwrap_err();
    assert_eq!(err.pc, Some(0));
    assert!(matches!(
        err.kind,
        rvbpf_ebpf::verifier::VerifyErrorKind::StackOutOfBounds { offset: 0, size: 1 }
    ));
}
