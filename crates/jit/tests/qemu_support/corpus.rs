//! One conformance `.data` file → its program, the interpreter's result
//! and the JIT images of every target/scheme variant.

use rvbpf::conformance::case::program_of;
use rvbpf::conformance::engine::VmExecutor;
use rvbpf::conformance::Executor;
use rvbpf::vm::Engine;
use rvbpf_ebpf::asm::object_from_insts;
use rvbpf_ebpf::data_file::{self, Expect};
use rvbpf_ebpf::inst::{CallTarget, Inst};
use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv};
use rvbpf_jit::{compile, compile_baseline, Image, JitError, JitOptions, Sandbox, TccScheme};
use rvbpf_rv64::Target;
use std::path::{Path, PathBuf};

/// Helper numbers `native/harness.c` implements (ubpf's test helpers).
pub fn harness_has_helper(n: i32) -> bool {
    (0..=5).contains(&n)
}

/// Every target the JIT supports, each with every tail-call scheme.
pub const TARGETS: [Target; 4] = [
    Target::RV64G,
    Target::RV64GC,
    Target {
        c: false,
        zba: true,
        zbb: true,
    },
    Target::RV64GC_ZBA_ZBB,
];
pub const SCHEMES: [TccScheme; 3] = [TccScheme::Reg, TccScheme::Stack, TccScheme::Ptr];

/// One compiled variant of a file's program.
pub struct Variant {
    pub target: Target,
    pub scheme: TccScheme,
    /// Compiled by the baseline tier (`compile_baseline`).
    pub baseline: bool,
    pub image: Image,
}

impl Variant {
    /// `target/scheme`, e.g. `rv64gc/Reg`, with `/baseline` for the
    /// baseline tier (no whitespace).
    pub fn label(&self) -> String {
        let tier = if self.baseline { "/baseline" } else { "" };
        format!("{}/{:?}{tier}", self.target, self.scheme)
    }
}

/// A program ready to run natively (a conformance file, or a generated
/// program whose "file" result is the interpreter's).
pub struct PreparedFile {
    /// Unique among the programs of one run, no whitespace.
    pub name: String,
    /// Where the program came from (for messages).
    pub path: PathBuf,
    pub mem: Vec<u8>,
    /// The file's `-- result`.
    pub expected: u64,
    /// The runtime interpreter's r0 (or why it failed).
    pub interp: Result<u64, String>,
    pub variants: Vec<Variant>,
}

/// Why a file does not run natively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotRun {
    /// Expects an error, only checks the assembler, or is `-- pyelf`.
    NoResultToCompare(String),
    /// Calls helpers `native/harness.c` does not implement.
    NeedsHelpers(Vec<i32>),
    /// Assembler, verifier or JIT refused it.
    Rejected(String),
}

/// Compiles `verified` for every target and scheme.
pub fn compile_variants(verified: &VerifiedProgram) -> Result<Vec<Variant>, String> {
    compile_variants_with(verified, Sandbox::None)
}

/// Compiles `verified` for every target and scheme with `sandbox`.
pub fn compile_variants_with(
    verified: &VerifiedProgram,
    sandbox: Sandbox,
) -> Result<Vec<Variant>, String> {
    let mut variants = Vec::new();
    for target in TARGETS {
        for scheme in SCHEMES {
            let image = compile(
                verified,
                &JitOptions {
                    target,
                    tcc: scheme,
                    sandbox,
                },
            )
            .map_err(|e| format!("{target} {scheme:?}: {e}"))?;
            variants.push(Variant {
                target,
                scheme,
                baseline: false,
                image,
            });
        }
        // The baseline tier (reg scheme, unconfined only); what it does not
        // implement (`Unsupported`) is left to the optimizing variants.
        if sandbox == Sandbox::None {
            let opts = JitOptions {
                target,
                tcc: TccScheme::Reg,
                sandbox,
            };
            match compile_baseline(verified, &opts) {
                Ok(image) => variants.push(Variant {
                    target,
                    scheme: TccScheme::Reg,
                    baseline: true,
                    image,
                }),
                Err(JitError::Unsupported { .. }) => {}
                Err(e) => return Err(format!("{target} baseline: {e}")),
            }
        }
    }
    Ok(variants)
}

/// All `.data` files under `dir`, sorted.
pub fn data_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "data") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs the file's program on the runtime's interpreter, the way the
/// conformance runner does (ubpf helpers, NULL memory when there is none).
fn interpret(obj: &rvbpf_ebpf::object::Object, mem: &[u8]) -> Result<u64, String> {
    let mut exec = VmExecutor::new(Engine::Interp);
    exec.load(obj).map_err(|e| e.to_string())?;
    exec.run(&mut mem.to_vec()).map_err(|e| e.to_string())
}

/// Parses, interprets, verifies and compiles one file for every variant.
pub fn prepare(path: &Path) -> Result<PreparedFile, NotRun> {
    prepare_with(path, Sandbox::None)
}

/// [`prepare`], the images compiled with `sandbox`.
pub fn prepare_with(path: &Path, sandbox: Sandbox) -> Result<PreparedFile, NotRun> {
    let case = data_file::load(path).map_err(|e| NotRun::Rejected(e.to_string()))?;
    if let Some(why) = &case.skip {
        return Err(NotRun::NoResultToCompare(why.clone()));
    }
    let Expect::Result(expected) = case.expect else {
        return Err(NotRun::NoResultToCompare(format!("{:?}", case.expect)));
    };
    let insts = program_of(&case).map_err(|e| NotRun::Rejected(format!("{e:?}")))?;
    let mut missing: Vec<i32> = insts
        .iter()
        .filter_map(|i| match i {
            Inst::Call(CallTarget::Helper(n)) if !harness_has_helper(*n) => Some(*n),
            _ => None,
        })
        .collect();
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        return Err(NotRun::NeedsHelpers(missing));
    }
    let obj = object_from_insts(&case.name, &insts);
    let env = VerifyEnv {
        helper_known: &harness_has_helper,
        kfunc_known: &|_| false,
        entry_args: 2,
    };
    let verified = verify(&obj, 0, &env).map_err(|e| NotRun::Rejected(e.to_string()))?;
    let variants = compile_variants_with(&verified, sandbox).map_err(NotRun::Rejected)?;
    Ok(PreparedFile {
        interp: interpret(&obj, &case.mem),
        name: case.name,
        path: path.to_path_buf(),
        mem: case.mem,
        expected,
        variants,
    })
}
