//! A third, independent executor: the conformance suites as native RV64
//! code. Each file's program is verified, JIT-compiled for every target and
//! tail-call scheme (and by the baseline tier, `reg` scheme, where it
//! compiles) and run by `native/harness.c` (cross-compiled with
//! `riscv64-linux-gnu-gcc -static`) under `qemu-riscv64`; the harness
//! applies the relocations itself (helpers are C functions there) and calls
//! the entry as `uint64_t entry(void *mem, uint64_t len)`. Every native r0
//! must equal both the runtime interpreter's r0 and the file's `-- result`.
//!
//! Each target runs on a qemu CPU with exactly its Zba/Zbb extensions, so
//! an instruction the target lacks traps (SIGILL) instead of passing
//! unnoticed.
//!
//! Skipped, with a message, only when a suite or one of the two tools is
//! missing (`scripts/setup.sh` installs the tools; CI runs it).

mod qemu_support;

use qemu_support::suite::{run_suite, SuiteReport};
use qemu_support::tools;
use std::path::{Path, PathBuf};

/// Share of bpf_conformance's files that must run natively.
const MIN_NATIVE_SHARE: f64 = 0.95;

fn suite_dir(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    p.is_dir().then_some(p)
}

/// Builds the harness and runs the suite at `rel`; `None` (after saying
/// why) when the suite or a tool is missing.
fn run_native(rel: &str, work: &str) -> Option<SuiteReport> {
    let Some(dir) = suite_dir(rel) else {
        eprintln!("SKIP native {rel}: suite not found next to the repository");
        return None;
    };
    let tools = match tools::find() {
        Ok(t) => t,
        Err(missing) => {
            eprintln!(
                "SKIP native {rel}: {} not found in PATH (scripts/setup.sh installs it)",
                missing.join(" and ")
            );
            return None;
        }
    };
    let work_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(work);
    std::fs::create_dir_all(&work_dir).unwrap_or_else(|e| panic!("{}: {e}", work_dir.display()));
    let harness = tools::build_harness(&tools, &work_dir).unwrap_or_else(|e| panic!("{e}"));
    let report = run_suite(&dir, &tools, &harness, &work_dir);
    eprintln!("native {rel}: {report}");
    assert!(
        report.problems.is_empty(),
        "{} problem(s):\n{}",
        report.problems.len(),
        report.problems.join("\n\n")
    );
    Some(report)
}

#[test]
fn bpf_conformance_runs_natively_under_qemu_and_agrees_with_the_interpreter() {
    let Some(r) = run_native("bpf_conformance_tests/tests", "qemu_bpf_conformance") else {
        return;
    };
    assert!(
        r.ran as f64 >= MIN_NATIVE_SHARE * r.files as f64,
        "only {} of {} files ran natively (need {:.0}%)",
        r.ran,
        r.files,
        MIN_NATIVE_SHARE * 100.0
    );
}

/// ubpf's suite exercises the C helpers (gather_bytes, memfrob, sqrti,
/// strcmp_ext, unwind); its error and assemble-only cases have no result
/// to compare, so every case that has one must run.
#[test]
fn ubpf_suite_runs_natively_under_qemu_and_agrees_with_the_interpreter() {
    let Some(r) = run_native("ubpf_tests/tests", "qemu_ubpf") else {
        return;
    };
    assert_eq!(r.ran, r.with_result(), "{r}");
}
