//! Part (c): code bytes per BPF instruction over the bpf_conformance
//! corpus (`../shared/bpf_conformance_tests/tests/*.data` next to the
//! repository): every file with an `-- asm` section that assembles,
//! verifies (two entry arguments, as the conformance runner passes memory
//! and length) and compiles.

use rvbpf_ebpf::asm::{assemble, object_from_insts};
use rvbpf_ebpf::data_file;
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_jit::{compile, JitOptions, TccScheme};
use rvbpf_rv64::Target;
use std::path::{Path, PathBuf};

/// The corpus directory, if it is present.
pub fn corpus_dir() -> Option<PathBuf> {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bpf_conformance_tests/tests");
    p.is_dir().then_some(p)
}

/// Totals for one target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorpusTotals {
    pub target: String,
    /// Files compiled.
    pub files: usize,
    /// Files skipped (no asm, assembler/verifier/JIT refusal).
    pub skipped: usize,
    /// BPF instruction slots (a `lddw` counts 2).
    pub bpf_slots: usize,
    /// Text bytes (pool excluded).
    pub text_bytes: usize,
}

impl CorpusTotals {
    pub fn bytes_per_insn(&self) -> f64 {
        self.text_bytes as f64 / self.bpf_slots.max(1) as f64
    }
}

/// Compiles the corpus in `dir` for each of `targets` (scheme: the
/// default; the corpus has no tail calls, so every scheme gives the same
/// code).
pub fn corpus_totals(dir: &Path, targets: &[Target]) -> Vec<CorpusTotals> {
    let mut totals: Vec<CorpusTotals> = targets
        .iter()
        .map(|t| CorpusTotals {
            target: t.to_string(),
            ..CorpusTotals::default()
        })
        .collect();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "data"));
    paths.sort();
    let env = VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| true,
        entry_args: 2,
    };
    for path in paths {
        let prog = data_file::load(&path)
            .ok()
            .and_then(|case| case.asm)
            .and_then(|asm| assemble(&asm.text).ok())
            .map(|insts| object_from_insts("corpus", &insts))
            .and_then(|obj| verify(&obj, 0, &env).ok());
        let Some(prog) = prog else {
            totals.iter_mut().for_each(|t| t.skipped += 1);
            continue;
        };
        for (t, &target) in totals.iter_mut().zip(targets) {
            let opts = JitOptions {
                target,
                tcc: TccScheme::default(),
                ..JitOptions::default()
            };
            match compile(&prog, &opts) {
                Ok(image) => {
                    t.files += 1;
                    t.bpf_slots += prog.insts().len();
                    t.text_bytes += image.text_len;
                }
                Err(_) => t.skipped += 1,
            }
        }
    }
    totals
}
