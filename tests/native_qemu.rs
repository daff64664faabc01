//! The native engine, for real: rvbpf cross-built for riscv64 Linux
//! (`scripts/cross-riscv64.sh`, where `Engine::Native` is compiled in and
//! listed in `Engine::all()`) and run under `qemu-riscv64`:
//!
//! * the conformance suites on the interpreter and every native
//!   configuration, which must give the same counts;
//! * a selection of this crate's own test binaries, whose engine loops
//!   then include the native engine, so they compare it with the
//!   interpreter (and the emulated engine) for free.
//!
//! Skips with a message when the cross tools are missing
//! (`scripts/setup.sh` installs them) or `RVBPF_NATIVE_QEMU=0` is set. Builds into its own target
//! directory (under Cargo's test tmpdir): the outer `cargo test` holds the
//! lock of its own. The first run builds std for riscv64 (a few minutes on
//! 2 cores); later runs reuse it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const SYSROOT: &str = "/usr/riscv64-linux-gnu";

/// Serialises the cross builds of the tests below (same target directory).
static BUILD: Mutex<()> = Mutex::new(());

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("native-qemu")
}

/// Why the cross tools are unusable, if they are (or why the test is
/// switched off: `RVBPF_NATIVE_QEMU=0`).
fn missing_tools() -> Option<String> {
    if std::env::var("RVBPF_NATIVE_QEMU").is_ok_and(|v| v == "0") {
        return Some("RVBPF_NATIVE_QEMU=0".into());
    }
    let on_path = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let checks = [
        (on_path("qemu-riscv64"), "qemu-riscv64 (qemu-user)"),
        (
            on_path("riscv64-linux-gnu-gcc"),
            "riscv64-linux-gnu-gcc (gcc-riscv64-linux-gnu)",
        ),
        (
            Path::new("/usr/bin/rustc").exists(),
            "/usr/bin/rustc (rustc-web)",
        ),
        (
            Path::new("/usr/lib/rustlib/src/rust/library/std/Cargo.toml").exists(),
            "std sources (rust-web-src)",
        ),
        (
            Path::new(SYSROOT).join("lib/libc.so.6").exists(),
            "riscv64 libc (libc6-dev-riscv64-cross)",
        ),
    ];
    let missing: Vec<&str> = checks.iter().filter(|c| !c.0).map(|c| c.1).collect();
    (!missing.is_empty()).then(|| missing.join(", "))
}

/// Runs `scripts/cross-riscv64.sh ARGS` into [`target_dir`]; its output.
fn cross(args: &[&str]) -> std::process::Output {
    let out = Command::new("bash")
        .arg(repo().join("scripts/cross-riscv64.sh"))
        .args(args)
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("run scripts/cross-riscv64.sh");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// "N passed, M failed, K skipped" of `rvbpf conformance --engine ENGINE`.
fn conformance_counts(rvbpf: &Path, engine: &str) -> (u32, u32, u32) {
    let shared = repo().join("../shared");
    let out = Command::new("qemu-riscv64")
        .args(["-L", SYSROOT])
        .arg(rvbpf)
        .args(["conformance", "--engine", engine])
        .arg(shared.join("bpf_conformance_tests"))
        .arg(shared.join("ubpf_tests"))
        .output()
        .expect("run rvbpf under qemu-riscv64");
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("").to_string();
    let n = |word: &str| -> u32 {
        let before = last.split(word).next().unwrap_or("");
        let num = before.trim_end().rsplit([' ', ',']).next().unwrap_or("");
        num.parse()
            .unwrap_or_else(|_| panic!("{engine}: no count before {word:?} in {last:?}"))
    };
    (n(" passed"), n(" failed"), n(" skipped"))
}

#[test]
fn conformance_suites_pass_natively_under_qemu() {
    if let Some(why) = missing_tools() {
        eprintln!("skipped: cross tools missing: {why} (run scripts/setup.sh)");
        return;
    }
    let _build = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let started = std::time::Instant::now();
    let out = cross(&["build", "--release", "-p", "rvbpf", "--bin", "rvbpf"]);
    assert!(out.status.success(), "cross build failed");
    let rvbpf = target_dir().join("riscv64gc-unknown-linux-gnu/release/rvbpf");
    // bpf_conformance: 313 behaviour tests + 60 negative self-tests, all
    // passing; ubpf: 104 files of which the 21 `-- pyelf` ones are skipped
    // (tests/conformance_suites.rs states the same counts per engine).
    let expected = (313 + 60 + (104 - 21), 0, 21);
    assert_eq!(conformance_counts(&rvbpf, "interp"), expected, "interp");
    for engine in [
        "native-rv64gc-reg",
        "native-rv64gc-stack",
        "native-rv64gc-ptr",
        "native-rv64g-reg",
        // qemu's default CPU has Zba and Zbb.
        "native-rv64gc_zba_zbb-reg",
        "native-rv64gc_zba_zbb-stack",
        "native-rv64gc_zba_zbb-ptr",
        "native-rv64g_zba_zbb-reg",
        "jit",
    ] {
        assert_eq!(conformance_counts(&rvbpf, engine), expected, "{engine}");
    }
    eprintln!("native conformance under qemu: {:?}", started.elapsed());
}

/// Test binaries whose engine loops run the native engine under qemu
/// (`interp_vs_rbpf`: against rbpf as an independent oracle). Left out:
/// interpreter-only ones (`interp_alu`, `interp_budget`, ...), `cli` (spawns
/// the binary), `interp_random` (requires two runs of a looping program to
/// run out of budget at the same pc; the native budget is a CPU-time limit,
/// see `engine/native/budget.rs`) and `jit_engine` (checks the emulator's
/// own counters and instruction budget, and a fault just past a region's
/// end, which natively lies in the region's last page).
const NATIVE_TEST_BINARIES: [&str; 14] = [
    "native_engine",
    "interp_vs_rbpf",
    "scenarios_trampoline",
    "runtime_demo",
    "diff_random",
    "runtime_helpers",
    "runtime_maps",
    "runtime_ctx",
    "scenarios_tailcall",
    "scenarios_bpf2bpf",
    "scenarios_hierarchy",
    "scenarios_poke",
    "scenarios_test_bpf",
    "conformance_suites",
];

#[test]
fn test_binaries_pass_natively_under_qemu() {
    if let Some(why) = missing_tools() {
        eprintln!("skipped: cross tools missing: {why} (run scripts/setup.sh)");
        return;
    }
    let _build = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let started = std::time::Instant::now();
    // --lib: the native engine's own unit tests run too.
    let mut args = vec!["test", "--release", "-p", "rvbpf", "--lib"];
    for t in NATIVE_TEST_BINARIES {
        args.extend(["--test", t]);
    }
    let out = cross(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "native test binaries failed under qemu"
    );
    let passed = stdout
        .lines()
        .filter(|l| l.starts_with("test result: ok."))
        .count();
    assert_eq!(passed, NATIVE_TEST_BINARIES.len() + 1, "{stdout}");
    eprintln!("native test binaries under qemu: {:?}", started.elapsed());
}
