//! Golden listing tests: `tests/golden/*.txt` hold BPF assembly (before the
//! first `====` line; `# maps: array prog_array`, `# kfuncs: a b` comments
//! configure the object, and each `# kfunc-args: sign32 zero8 ...` line gives
//! the next kfunc a prototype) and, after each `==== <target> tcc=<scheme>
//! [sandbox=masked] [tier=baseline]` line, the expected annotated listing
//! (`tier=baseline`: compiled by `compile_baseline`). `BLESS=1 cargo test -p rvbpf-jit --test
//! golden` rewrites the listings; review the diff like code.

mod common;

use rvbpf_ebpf::object::{ArgWidening, KfuncProto, MapKind};
use rvbpf_jit::{compile, compile_baseline, Sandbox, TccScheme};
use std::path::Path;

fn scheme(s: &str) -> TccScheme {
    match s {
        "tcc=reg" => TccScheme::Reg,
        "tcc=stack" => TccScheme::Stack,
        "tcc=ptr" => TccScheme::Ptr,
        other => panic!("unknown scheme `{other}`"),
    }
}

fn sandbox(s: Option<&str>) -> Sandbox {
    match s {
        None | Some("sandbox=none") => Sandbox::None,
        Some("sandbox=masked") => Sandbox::Masked,
        Some(other) => panic!("unknown sandbox `{other}`"),
    }
}

/// Is the optional `tier=` word `tier=baseline`?
fn baseline_tier(s: Option<&str>) -> bool {
    match s {
        None | Some("tier=optimizing") => false,
        Some("tier=baseline") => true,
        Some(other) => panic!("unknown tier `{other}`"),
    }
}

fn words_after<'a>(src: &'a str, key: &str) -> Vec<&'a str> {
    src.lines()
        .filter_map(|l| l.trim().strip_prefix(key))
        .flat_map(|rest| rest.split_whitespace())
        .collect()
}

/// Checks (or with BLESS=1 rewrites) one golden file; returns a mismatch
/// description.
fn check_file(path: &Path, bless: bool) -> Option<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut parts = text.split("\n==== ");
    let src = parts.next().unwrap();
    let maps: Vec<MapKind> = words_after(src, "# maps:")
        .into_iter()
        .map(|w| match w {
            "array" => MapKind::Array,
            "hash" => MapKind::Hash,
            "prog_array" => MapKind::ProgArray,
            other => panic!("{}: unknown map kind {other}", path.display()),
        })
        .collect();
    let kfuncs = words_after(src, "# kfuncs:");
    let protos = src
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# kfunc-args:"))
        .map(|args| {
            let args = args.split_whitespace().map(|w| match w {
                "unchanged" => ArgWidening::Unchanged,
                "sign32" => ArgWidening::Sign32,
                "sign8" => ArgWidening::Sign8,
                "zero8" => ArgWidening::Zero8,
                "sign16" => ArgWidening::Sign16,
                "zero16" => ArgWidening::Zero16,
                other => panic!("{}: unknown widening {other}", path.display()),
            });
            Some(KfuncProto {
                args: args.collect(),
            })
        })
        .collect();
    let prog = common::verified_with_protos(src, &maps, &kfuncs, protos);
    let mut out = String::from(src);
    let mut mismatch = None;
    for section in parts {
        let (header, expected) = section.split_once('\n').unwrap_or((section, ""));
        let mut words = header.split_whitespace();
        let target = words.next().expect("target");
        let tcc = scheme(words.next().unwrap_or("tcc=reg"));
        let rest: Vec<&str> = words.collect();
        let word = |prefix: &str| rest.iter().copied().find(|w| w.starts_with(prefix));
        let opts = rvbpf_jit::JitOptions {
            sandbox: sandbox(word("sandbox=")),
            ..common::opts(target, tcc)
        };
        let compiled = if baseline_tier(word("tier=")) {
            compile_baseline(&prog, &opts)
        } else {
            compile(&prog, &opts)
        };
        let image = compiled.unwrap_or_else(|e| panic!("{}: {header}: {e}", path.display()));
        let actual = image.listing();
        if actual.trim_end() != expected.trim_end() && mismatch.is_none() {
            mismatch = Some(format!(
                "{} [{header}] differs:\n--- expected\n{expected}\n--- actual\n{actual}",
                path.display()
            ));
        }
        out.push_str(&format!("\n==== {header}\n{}\n", actual.trim_end()));
    }
    if bless {
        std::fs::write(path, out).unwrap();
        return None;
    }
    mismatch
}

#[test]
fn golden_listings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden files in {}", dir.display());
    let failures: Vec<String> = files.iter().filter_map(|f| check_file(f, bless)).collect();
    assert!(
        failures.is_empty(),
        "{} golden file(s) differ (run with BLESS=1 to update):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
