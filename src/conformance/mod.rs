//! Conformance runner: executes bpf_conformance / ubpf `.data` files
//! (see [`crate::ebpf::data_file`]) on every engine and reports
//! `N passed, M failed, K skipped`.
//!
//! Conventions of both suites: the program gets the case's `-- mem` bytes
//! as its memory, r1 = their address and r2 = their length; ubpf's test
//! helpers are registered under ubpf's numbers ([`helpers`]). A case that
//! expects an error passes when any stage (data file, assembler, strict
//! decoder, loader/verifier, run) rejects it — the reference messages are
//! implementation-specific. Files under a directory named `negative`
//! (malformed files/programs and self-tests of bpf_conformance's runner) pass
//! unless a program runs and returns what the file expects
//! ([`evaluate_negative_file`]). Only `-- pyelf` cases are skipped.

pub mod case;
pub mod engine;
pub mod helpers;
pub mod plugin;

pub use case::{
    evaluate, evaluate_file, evaluate_negative, evaluate_negative_file, Executor, Rejection, Stage,
    Verdict,
};

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Counts and report lines of a conformance run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// One line per failure: `FAIL <file> [<engine>]: <reason>`.
    pub failures: Vec<String>,
    /// One line per skipped case.
    pub skips: Vec<String>,
}

impl Summary {
    /// Records one verdict.
    pub fn record(&mut self, path: &Path, engine: &str, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail(why) => {
                self.failed += 1;
                self.failures
                    .push(format!("FAIL {} [{engine}]: {why}", path.display()));
            }
            Verdict::Skip(why) => {
                self.skipped += 1;
                self.skips
                    .push(format!("SKIP {} [{engine}]: {why}", path.display()));
            }
        }
    }
}

impl fmt::Display for Summary {
    /// The failure lines, then `N passed, M failed, K skipped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.failures {
            writeln!(f, "{line}")?;
        }
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// All `.data` files under `paths` (files are taken as given, directories
/// searched recursively), sorted.
pub fn collect_data_files(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for entry in std::fs::read_dir(&p)? {
                let child = entry?.path();
                if child.is_dir() || child.extension().is_some_and(|e| e == "data") {
                    stack.push(child);
                }
            }
        } else if p.exists() {
            out.push(p);
        } else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such file or directory", p.display()),
            ));
        }
    }
    out.sort();
    Ok(out)
}

/// True for files directly inside a directory named `negative`.
pub fn is_negative(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "negative")
}

/// Runs every file on `exec`, adding to `summary`.
pub fn run_files(files: &[PathBuf], exec: &mut dyn Executor, summary: &mut Summary) {
    let engine = exec.name();
    for path in files {
        let verdict = if is_negative(path) {
            evaluate_negative_file(path, exec)
        } else {
            evaluate_file(path, exec)
        };
        summary.record(path, &engine, verdict);
    }
}

/// Runs the `.data` files under `paths` on each executor.
pub fn run(paths: &[PathBuf], executors: &mut [Box<dyn Executor>]) -> io::Result<Summary> {
    let files = collect_data_files(paths)?;
    let mut summary = Summary::default();
    for exec in executors.iter_mut() {
        run_files(&files, exec.as_mut(), &mut summary);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
