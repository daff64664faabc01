//! The ELF fixtures of the loader (`crates/ebpf/tests/fixtures`) and of the
//! tail-call scenarios (`tests/bpf`, ports of the Linux selftests) through
//! the loader and the verifier. Expected stack depths and rejections come
//! from the fixtures' C sources and `tests/bpf/README.md`.

use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::object::Object;
use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv, VerifyError, VerifyErrorKind as K};
use std::path::{Path, PathBuf};

fn fixture_dirs() -> [PathBuf; 2] {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [root.join("tests/fixtures"), root.join("../../tests/bpf")]
}

fn load(path: &Path) -> Option<Object> {
    let bytes = std::fs::read(path).ok()?;
    load_elf(&path.display().to_string(), &bytes).ok()
}

/// Every helper and kfunc is "known": the fixtures' runtime registrations are
/// not what is under test here.
fn run(obj: &Object, index: usize) -> Result<VerifiedProgram, VerifyError> {
    let env = VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| true,
        entry_args: 1,
    };
    verify(obj, index, &env)
}

fn program(file: &str, name: &str) -> Result<VerifiedProgram, VerifyError> {
    let path = fixture_dirs()[1].join(file);
    let obj = load(&path).unwrap_or_else(|| panic!("{} loads", path.display()));
    let index = obj.programs.iter().position(|p| p.name == name).unwrap();
    run(&obj, index)
}

fn depths(p: &VerifiedProgram) -> Vec<(&str, u32)> {
    p.functions()
        .iter()
        .map(|f| (f.name.as_str(), f.stack_depth))
        .collect()
}

#[test]
fn every_valid_fixture_program_is_accepted() {
    let mut checked = 0;
    for dir in fixture_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.map(|e| e.unwrap().path()) {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            // reject_* objects are checked one by one below; objects the
            // loader refuses (unsupported map types) never reach the verifier.
            if !file.ends_with(".o") || file.starts_with("reject_") {
                continue;
            }
            let Some(obj) = load(&path) else {
                continue;
            };
            for i in 0..obj.programs.len() {
                if let Err(e) = run(&obj, i) {
                    panic!("{file}: {e}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} programs checked");
}

#[test]
fn static_function_with_a_dropped_argument() {
    // programs.c: static_leaf(a, b, c) is only called with c = 3, which clang
    // propagates: its BTF says 3 arguments, its code reads r1 and r2, and
    // global_mid never sets r3. The call must still verify.
    let path = fixture_dirs()[0].join("programs.o");
    let Some(obj) = load(&path) else {
        return;
    };
    let index = obj
        .programs
        .iter()
        .position(|p| p.name == "tc_first")
        .unwrap();
    let p = run(&obj, index).unwrap();
    let leaf = p
        .functions()
        .iter()
        .find(|f| f.name == "static_leaf")
        .unwrap();
    assert_eq!(leaf.arg_count, 3);
}

#[test]
fn combined_stack_within_512_bytes() {
    // combined_stack_ok.c: 128 + 64 + 64 bytes.
    let p = program("combined_stack_ok.o", "entry").unwrap();
    assert_eq!(
        depths(&p),
        [("entry", 128), ("stack_a", 64), ("stack_b", 64)]
    );
}

#[test]
fn combined_stack_over_512_bytes() {
    // reject_combined_stack.c: 256 + 192 + 128 = 576.
    let e = program("reject_combined_stack.o", "entry").unwrap_err();
    assert!(
        matches!(e.kind, K::StackTooLarge { bytes: 576, ref chain, .. }
            if chain == "`entry` -> `stack_a` -> `stack_b`"),
        "{e}"
    );
}

#[test]
fn call_depth_of_8_and_9_frames() {
    let p = program("call_depth_8_ok.o", "entry").unwrap();
    assert_eq!(p.functions().len(), 8);
    let e = program("reject_call_depth_9.o", "entry").unwrap_err();
    assert!(
        matches!(e.kind, K::CallChainTooDeep { frames: 9, .. }),
        "{e}"
    );
}

#[test]
fn tail_calling_subprogram_under_224_and_256_bytes() {
    let p = program("tail_call_stack_224_ok.o", "entry").unwrap();
    assert_eq!(p.functions()[0].stack_depth, 224);
    assert!(p.functions()[1].has_tail_call);
    let e = program("reject_tail_call_stack_256.o", "entry").unwrap_err();
    assert!(
        matches!(e.kind, K::TailCallStackTooLarge { above: 256, ref function, .. }
            if function == "subprog_tail"),
        "{e}"
    );
}

#[test]
fn tail_call_in_a_void_subprogram() {
    // reject_tail_call_void_subprog.c: `static void subprog_tail(...)` tail-calls.
    let e = program("reject_tail_call_void_subprog.o", "entry").unwrap_err();
    assert!(
        matches!(e.kind, K::TailCallInNonIntFunction { ref function } if function == "subprog_tail"),
        "{e}"
    );
}

#[test]
fn tail_call_through_an_array_map() {
    let e = program("reject_tail_call_non_prog_array.o", "entry").unwrap_err();
    assert!(
        matches!(e.kind, K::TailCallMapNotProgArray { ref map, .. } if map == "not_a_prog_array"),
        "{e}"
    );
}

#[test]
fn tail_call_reachability_of_the_bpf2bpf_scenarios() {
    // tailcall_bpf2bpf1.c: entry tail-calls and calls subprog_tail, which
    // tail-calls too.
    let p = program("tailcall_bpf2bpf1.o", "entry").unwrap();
    assert!(p.tail_call_reachable());
    assert!(p.functions().iter().all(|f| f.has_tail_call));
    assert_eq!(p.functions()[0].callees, [1]);
    // combined_stack_ok.c makes no tail call at all.
    let p = program("combined_stack_ok.o", "entry").unwrap();
    assert!(p.functions().iter().all(|f| !f.tail_call_reachable));
    // The tail-call targets themselves make no tail call.
    let p = program("tailcall_bpf2bpf1.o", "classifier_0").unwrap();
    assert!(!p.tail_call_reachable());
}
