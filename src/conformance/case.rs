//! Evaluating one `.data` case on one engine: parse → assemble/decode →
//! load (verify) → run → compare with the expectation.

use crate::ebpf::asm::{assemble, object_from_insts};
use crate::ebpf::data_file::{self, Expect, Lifecycle, TestCase};
use crate::ebpf::inst::{decode_program, encode_program, Inst};
use crate::ebpf::object::Object;
use std::fmt;
use std::path::Path;

/// The stage that rejected a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The `.data` file itself is malformed.
    DataFile,
    Assemble,
    /// Strict decoding of `-- raw` slots.
    Decode,
    /// Loading into the runtime (verifier, pre-decoding).
    Load,
    Run,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::DataFile => "data file",
            Stage::Assemble => "assembler",
            Stage::Decode => "decoder",
            Stage::Load => "load",
            Stage::Run => "run",
        })
    }
}

/// A program rejected at some stage, with the stage's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub stage: Stage,
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.stage, self.message)
    }
}

impl Rejection {
    pub fn new(stage: Stage, message: impl fmt::Display) -> Rejection {
        Rejection {
            stage,
            message: message.to_string(),
        }
    }
}

/// Loads and runs programs on one engine: the seam between the suite logic
/// and the runtime. Implementations register the conformance helpers and
/// apply an instruction budget.
pub trait Executor {
    /// Engine name for reports.
    fn name(&self) -> String;
    /// Loads (verifies) `object`'s single program, replacing any earlier one.
    fn load(&mut self, object: &Object) -> Result<(), Rejection>;
    /// Runs the loaded program with `mem` as its memory: r1 = its address,
    /// r2 = its length. Returns r0.
    fn run(&mut self, mem: &mut [u8]) -> Result<u64, Rejection>;
}

/// How one case ended on one engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// The case's program as typed instructions, or why there is none.
/// When a file gives both `-- asm` and `-- raw`, they must encode alike.
pub fn program_of(case: &TestCase) -> Result<Vec<Inst>, CaseError> {
    let assembled = match &case.asm {
        Some(src) => Some(assemble(&src.text).map_err(|e| {
            // Report the line in the file, not in the section.
            let line = src.first_line + e.line - 1;
            CaseError::Rejected(Rejection::new(
                Stage::Assemble,
                format!("{}:{line}: {}", src.path.display(), e.kind),
            ))
        })?),
        None => None,
    };
    let decoded = match &case.raw {
        Some(raw) => Some(
            decode_program(raw)
                .map_err(|e| CaseError::Rejected(Rejection::new(Stage::Decode, e)))?,
        ),
        None => None,
    };
    match (assembled, decoded) {
        (Some(a), Some(d)) if a != d => Err(CaseError::Mismatch(format!(
            "`-- asm` assembles to {:02x?}, `-- raw` holds {:02x?}",
            encode_program(&a),
            case.raw.as_deref().unwrap_or_default()
        ))),
        (Some(a), _) => Ok(a),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(CaseError::Rejected(Rejection::new(
            Stage::DataFile,
            "no program",
        ))),
    }
}

/// Why a case produced no result value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseError {
    /// Some stage refused the program (what `-- error` cases expect).
    Rejected(Rejection),
    /// The test file contradicts itself (`-- asm` vs `-- raw`): always a failure.
    Mismatch(String),
}

/// Message of ubpf's VM when a program is loaded into a VM that holds one.
pub const ALREADY_LOADED: &str = "code has already been loaded into this VM";

/// Loads per the case's life-cycle (ubpf semantics: a VM holds one program;
/// loading a second one without unloading fails) and runs.
fn load_and_run(
    case: &TestCase,
    object: &Object,
    exec: &mut dyn Executor,
) -> Result<u64, Rejection> {
    exec.load(object)?;
    match case.lifecycle {
        Lifecycle::Load => {}
        Lifecycle::Reload => return Err(Rejection::new(Stage::Load, ALREADY_LOADED)),
        // Unloading leaves the VM empty; the second load must succeed.
        Lifecycle::UnloadReload => exec.load(object)?,
    }
    let mut mem = case.mem.clone();
    exec.run(&mut mem)
}

/// Evaluates a parsed case on `exec`.
pub fn evaluate(case: &TestCase, exec: &mut dyn Executor) -> Verdict {
    if let Some(why) = &case.skip {
        return Verdict::Skip(why.clone());
    }
    let result = match program_of(case) {
        Err(CaseError::Mismatch(m)) => return Verdict::Fail(m),
        Err(CaseError::Rejected(r)) => Err(r),
        Ok(_) if case.expect == Expect::AssembleOnly => return Verdict::Pass,
        Ok(insts) => load_and_run(case, &object_from_insts(&case.name, &insts), exec),
    };
    judge(&case.expect, result)
}

/// Compares a run's outcome with the expectation.
pub fn judge(expect: &Expect, result: Result<u64, Rejection>) -> Verdict {
    match (expect, result) {
        (Expect::Result(want), Ok(got)) if got == *want => Verdict::Pass,
        (Expect::Result(want), Ok(got)) => {
            Verdict::Fail(format!("returned {got:#x}, expected {want:#x}"))
        }
        (Expect::Result(_) | Expect::AssembleOnly, Err(r)) => Verdict::Fail(r.to_string()),
        // Any rejection satisfies an expected error: the reference messages
        // are implementation-specific.
        (Expect::Error(_), Err(_)) => Verdict::Pass,
        (Expect::Error(e), Ok(got)) => Verdict::Fail(format!(
            "returned {got:#x}, expected an error{}",
            e.as_ref()
                .map(|e| format!(" ({})", e.text))
                .unwrap_or_default()
        )),
        (Expect::AssembleOnly, Ok(_)) => Verdict::Pass,
    }
}

/// Parses and evaluates the file at `path`.
pub fn evaluate_file(path: &Path, exec: &mut dyn Executor) -> Verdict {
    match data_file::load(path) {
        Ok(case) => evaluate(&case, exec),
        Err(e) => Verdict::Fail(Rejection::new(Stage::DataFile, e).to_string()),
    }
}

/// Evaluates a case of bpf_conformance's `negative` directory. Those are
/// malformed files and programs (to be rejected: by the data-file parser,
/// the assembler, the decoder or the runtime) and self-tests of the runner
/// with a wrong expectation (to be reported as a mismatch). So a negative
/// case passes unless a program runs and returns the value its file expects.
pub fn evaluate_negative_file(path: &Path, exec: &mut dyn Executor) -> Verdict {
    match data_file::load(path) {
        Ok(case) => evaluate_negative(&case, exec),
        // A malformed file is rejected: what the case is for.
        Err(_) => Verdict::Pass,
    }
}

/// [`evaluate_negative_file`] for a parsed case.
pub fn evaluate_negative(case: &TestCase, exec: &mut dyn Executor) -> Verdict {
    match (evaluate(case, exec), &case.expect) {
        // An error was expected and some stage produced one.
        (Verdict::Pass, Expect::Error(_)) => Verdict::Pass,
        (Verdict::Pass, _) => Verdict::Fail("negative case was accepted".into()),
        (Verdict::Fail(_), _) => Verdict::Pass,
        (Verdict::Skip(why), _) => Verdict::Fail(format!("negative case was skipped: {why}")),
    }
}
