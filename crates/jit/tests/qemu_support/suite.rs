//! Runs a whole conformance directory natively and judges every case
//! against the interpreter and the file.

use super::batch::{self, NativeCase, NativeOutcome};
use super::corpus::{self, NotRun, PreparedFile, Variant};
use super::tools::{self, Harness, Tools};
use rvbpf_jit::Sandbox;
use rvbpf_rv64::Target;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Listing lines shown for a disagreement.
const LISTING_EXCERPT_LINES: usize = 200;

/// What happened to one directory of `.data` files.
#[derive(Debug, Default)]
pub struct SuiteReport {
    pub files: usize,
    /// Files whose every variant ran natively to a result.
    pub ran: usize,
    /// Files that ran and whose every variant agreed with the interpreter
    /// and the file (and the interpreter with the file).
    pub agreed: usize,
    pub not_run: Vec<(PathBuf, NotRun)>,
    /// One entry per disagreement or failed native run (with a listing
    /// excerpt for the first of each file).
    pub problems: Vec<String>,
    pub elapsed: Duration,
}

impl SuiteReport {
    /// Files that have a result to compare (not error / assemble-only /
    /// `-- pyelf` cases).
    pub fn with_result(&self) -> usize {
        self.files
            - self
                .not_run
                .iter()
                .filter(|(_, w)| matches!(w, NotRun::NoResultToCompare(_)))
                .count()
    }
    pub fn needing_helpers(&self) -> usize {
        self.not_run
            .iter()
            .filter(|(_, w)| matches!(w, NotRun::NeedsHelpers(_)))
            .count()
    }
}

impl fmt::Display for SuiteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} cases ({} with a result to compare); {} ran natively (per target: {} schemes, \
             and the baseline tier where it compiles; {} targets); {} agree with the interpreter and the file; not run: {} \
             ({} need helpers the harness lacks); {:.1} s",
            self.files,
            self.with_result(),
            self.ran,
            corpus::SCHEMES.len(),
            corpus::TARGETS.len(),
            self.agreed,
            self.not_run.len(),
            self.needing_helpers(),
            self.elapsed.as_secs_f64()
        )?;
        for (path, why) in &self.not_run {
            writeln!(f, "  not run: {}: {why:?}", path.display())?;
        }
        Ok(())
    }
}

/// qemu `-cpu` value with exactly the target's Zba/Zbb, so an instruction
/// the target lacks traps (SIGILL). C stays on: the harness is RVC code.
fn qemu_cpu(t: Target) -> String {
    format!("rv64,zba={},zbb={}", t.zba, t.zbb)
}

/// The case's name in a batch: `file@target/scheme`.
fn case_name(f: &PreparedFile, v: &Variant) -> String {
    format!("{}@{}", f.name, v.label())
}

fn show(interp: &Result<u64, String>) -> String {
    match interp {
        Ok(r) => format!("{r:#x}"),
        Err(e) => format!("failed ({e})"),
    }
}

fn listing_excerpt(v: &Variant) -> String {
    let listing = v.image.listing();
    let lines: Vec<&str> = listing.lines().collect();
    let mut out = lines[..lines.len().min(LISTING_EXCERPT_LINES)].join("\n");
    if lines.len() > LISTING_EXCERPT_LINES {
        out.push_str(&format!(
            "\n... ({} more lines)",
            lines.len() - LISTING_EXCERPT_LINES
        ));
    }
    out
}

/// Runs every variant of every prepared file, one qemu process per CPU
/// configuration; returns each case's outcome by name.
fn run_natively(
    prepared: &[PreparedFile],
    tools: &Tools,
    harness: &Harness,
    work_dir: &Path,
) -> HashMap<String, NativeOutcome> {
    let mut by_cpu: BTreeMap<String, Vec<NativeCase>> = BTreeMap::new();
    for f in prepared {
        for v in &f.variants {
            let mut case = NativeCase::from_image(case_name(f, v), &v.image, &f.mem, f.expected);
            case.sandboxed = harness.sandboxed;
            by_cpu.entry(qemu_cpu(v.target)).or_default().push(case);
        }
    }
    let mut outcomes = HashMap::new();
    for (i, (cpu, cases)) in by_cpu.iter().enumerate() {
        let path = work_dir.join(format!("batch{i}.bin"));
        std::fs::write(&path, batch::encode(cases))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stdout = tools::run_batch(tools, harness, cpu, &path).unwrap_or_else(|e| panic!("{e}"));
        outcomes.extend(batch::parse_output(&stdout).unwrap_or_else(|e| panic!("{e}")));
    }
    outcomes
}

/// Judges one file: (ran natively, agreed), pushing what went wrong.
fn judge(
    f: &PreparedFile,
    outcomes: &HashMap<String, NativeOutcome>,
    problems: &mut Vec<String>,
) -> (bool, bool) {
    let (mut ran, mut agrees) = (true, true);
    if f.interp != Ok(f.expected) {
        agrees = false;
        problems.push(format!(
            "{}: interpreter gave {}, expected {:#x}",
            f.path.display(),
            show(&f.interp),
            f.expected
        ));
    }
    let mut listed = false;
    for v in &f.variants {
        let name = case_name(f, v);
        let problem = match outcomes.get(&name) {
            Some(NativeOutcome::Returned(r)) if Ok(*r) == f.interp && *r == f.expected => continue,
            Some(NativeOutcome::Returned(r)) => {
                agrees = false;
                format!(
                    "{name}: native r0 = {r:#x}, interpreter {}, expected {:#x}",
                    show(&f.interp),
                    f.expected
                )
            }
            Some(NativeOutcome::Failed(why)) => {
                ran = false;
                format!("{name}: native run failed: {why}")
            }
            None => {
                ran = false;
                format!("{name}: the harness printed nothing for it")
            }
        };
        // One listing per file is enough to see what the JIT emitted.
        if listed {
            problems.push(problem);
        } else {
            listed = true;
            problems.push(format!("{problem}\n{}", listing_excerpt(v)));
        }
    }
    (ran, ran && agrees)
}

/// Prepares every `.data` file under `dir`, runs the images natively with
/// `harness` (intermediate files go to `work_dir`) and judges them. A
/// sandboxed harness gets `Sandbox::Masked` images.
pub fn run_suite(dir: &Path, tools: &Tools, harness: &Harness, work_dir: &Path) -> SuiteReport {
    let started = Instant::now();
    let mut report = SuiteReport::default();
    let paths = corpus::data_files(dir);
    report.files = paths.len();
    let mut prepared = Vec::new();
    for path in paths {
        let sandbox = if harness.sandboxed {
            Sandbox::Masked
        } else {
            Sandbox::None
        };
        match corpus::prepare_with(&path, sandbox) {
            Ok(p) => prepared.push(p),
            Err(why) => report.not_run.push((path, why)),
        }
    }
    run_and_judge(&prepared, tools, harness, work_dir, &mut report);
    report.elapsed = started.elapsed();
    report
}

/// Runs `prepared` natively and adds the verdicts to `report` (`ran`,
/// `agreed`, `problems`).
pub fn run_and_judge(
    prepared: &[PreparedFile],
    tools: &Tools,
    harness: &Harness,
    work_dir: &Path,
    report: &mut SuiteReport,
) {
    std::fs::create_dir_all(work_dir).unwrap_or_else(|e| panic!("{}: {e}", work_dir.display()));
    let outcomes = run_natively(prepared, tools, harness, work_dir);
    for f in prepared {
        let (ran, agreed) = judge(f, &outcomes, &mut report.problems);
        report.ran += ran as usize;
        report.agreed += agreed as usize;
    }
}
