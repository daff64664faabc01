//! Every program of the committed clang-built ELF fixtures (the ebpf crate's
//! loader fixtures and the tail-call selftest ports under `tests/bpf`) that
//! the verifier accepts compiles on every target and scheme, and the code
//! is legal for the target.

mod common;

use common::{opts, SCHEMES, TARGETS};
use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_jit::compile;
use rvbpf_rv64::decode;
use std::path::{Path, PathBuf};

/// All `.o` files of the fixture directories.
pub fn fixture_objects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for dir in ["crates/ebpf/tests/fixtures", "tests/bpf"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        out.extend(
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "o")),
        );
    }
    out.sort();
    out
}

#[test]
fn verified_fixture_programs_compile_everywhere() {
    let env = VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| true,
        entry_args: 1,
    };
    let mut compiled = 0;
    for path in fixture_objects() {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(obj) = load_elf(&path.display().to_string(), &bytes) else {
            continue; // loader rejections are the loader's tests
        };
        for i in 0..obj.programs.len() {
            let Ok(prog) = verify(&obj, i, &env) else {
                continue; // deliberately rejected fixtures
            };
            for t in TARGETS {
                for s in SCHEMES {
                    let image = compile(&prog, &opts(t, s)).unwrap_or_else(|e| {
                        panic!("{} {}: {t} {s:?}: {e}", path.display(), prog.name())
                    });
                    let mut at = 0;
                    while at < image.text_len {
                        let (inst, len) = decode(&image.code[at..image.text_len]).unwrap();
                        assert!(len == 4 || image.target.c);
                        assert!(image.target.has(inst.extension()));
                        at += len;
                    }
                    compiled += 1;
                }
            }
        }
    }
    assert!(compiled > 0, "no fixture program compiled");
}
