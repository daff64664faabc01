//! `Sandbox::Masked` as real RV64 code under `qemu-riscv64`: the harness
//! (`native/harness.c`, built as a PIE so that it and everything it owns
//! lie above 2^36) reserves `[0x10000, 2^36)`, maps the program's memory
//! and stack at their VM addresses inside it and calls the image on that
//! stack, the way a native engine would.
//!
//! * The bpf_conformance and ubpf suites, compiled masked for every
//!   target and scheme, must give the interpreter's results.
//! * Hostile programs get the real address of a harness variable, the
//!   "secret", and load, store and run atomics through it and through
//!   arbitrary 64-bit pointers. Masked, each must fault or land inside the
//!   sandbox; the secret must stay unchanged and never be returned. The
//!   same programs compiled with `Sandbox::None` and run in the same
//!   environment do read or modify the secret, so the checks can fail.
//! * Return addresses are out of reach: masked code runs on a native stack
//!   above 2^36 and its BPF stack is that stack's mirror in the sandbox;
//!   with sp inside the sandbox instead, the same programs do reach them.
//!
//! Skipped, with a message, when a suite or one of the tools is missing.

mod qemu_support;

use qemu_support::batch::{self, NativeCase, NativeOutcome, SECRET_VALUE};
use qemu_support::corpus::{harness_has_helper, TARGETS};
use qemu_support::suite::run_suite;
use qemu_support::tools::{self, Harness, Tools};
use rvbpf_ebpf::asm::assemble_object;
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_jit::{compile, JitOptions, Sandbox, TccScheme, SANDBOX_SIZE};
use rvbpf_rv64::Target;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Share of bpf_conformance's files that must run natively.
const MIN_NATIVE_SHARE: f64 = 0.95;
/// The VM stack's top (`rvbpf::memory::STACK_TOP`), where the harness
/// starts sp for sandboxed cases.
const VM_STACK_TOP: u64 = 0x4000_0000 + 256 * 1024;
/// What hostile programs find at mem[8..16] (mem[0..8] is the secret's
/// address, written by the harness).
const MARKER: u64 = 0x1122_3344_5566_7788;

fn setup(work: &str) -> Option<(Tools, Harness, PathBuf)> {
    let tools = match tools::find() {
        Ok(t) => t,
        Err(missing) => {
            eprintln!(
                "SKIP native sandbox: {} not found in PATH (scripts/setup.sh installs it)",
                missing.join(" and ")
            );
            return None;
        }
    };
    let work_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(work);
    std::fs::create_dir_all(&work_dir).unwrap_or_else(|e| panic!("{}: {e}", work_dir.display()));
    let harness = tools::build_sandbox_harness(&tools, &work_dir).unwrap_or_else(|e| panic!("{e}"));
    Some((tools, harness, work_dir))
}

fn suite_dir(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    p.is_dir().then_some(p)
}

fn run_masked_suite(rel: &str, work: &str) -> Option<qemu_support::suite::SuiteReport> {
    let Some(dir) = suite_dir(rel) else {
        eprintln!("SKIP native sandbox {rel}: suite not found next to the repository");
        return None;
    };
    let (tools, harness, work_dir) = setup(work)?;
    let report = run_suite(&dir, &tools, &harness, &work_dir);
    eprintln!("native sandboxed {rel}: {report}");
    assert!(
        report.problems.is_empty(),
        "{} problem(s):\n{}",
        report.problems.len(),
        report.problems.join("\n\n")
    );
    Some(report)
}

#[test]
fn bpf_conformance_masked_runs_sandboxed_under_qemu_and_agrees_with_the_interpreter() {
    let Some(r) = run_masked_suite("bpf_conformance_tests/tests", "qemu_sandbox_conformance")
    else {
        return;
    };
    assert!(
        r.ran as f64 >= MIN_NATIVE_SHARE * r.files as f64,
        "only {} of {} files ran natively",
        r.ran,
        r.files
    );
}

#[test]
fn ubpf_suite_masked_runs_sandboxed_under_qemu_and_agrees_with_the_interpreter() {
    let Some(r) = run_masked_suite("ubpf_tests/tests", "qemu_sandbox_ubpf") else {
        return;
    };
    assert_eq!(r.ran, r.with_result(), "{r}");
}

/// A hostile program and what each kind of code must do with it.
struct Hostile {
    name: &'static str,
    /// r1 = mem (16 bytes: the secret's address, then MARKER), r2 = 16.
    src: &'static str,
    /// Masked: `Some(v)` = returns v (landed inside the sandbox), `None` =
    /// faults.
    masked: Option<u64>,
    /// Unconfined: `Some(v)` = returns v (for reads: the secret).
    unconfined: Option<u64>,
    /// Unconfined: the secret is modified.
    unconfined_writes: bool,
}

const HOSTILE: &[Hostile] = &[
    Hostile {
        name: "load64",
        src: "ldxdw %r2, [%r1]\nldxdw %r0, [%r2]\nexit",
        masked: None,
        unconfined: Some(SECRET_VALUE),
        unconfined_writes: false,
    },
    Hostile {
        // An offset that does not fit 12 bits (the `li; add` path).
        name: "load32_far_offset",
        src: "ldxdw %r2, [%r1]\nadd %r2, -20000\nldxw %r0, [%r2+20000]\nexit",
        masked: None,
        unconfined: Some(SECRET_VALUE & 0xffff_ffff),
        unconfined_writes: false,
    },
    Hostile {
        name: "store_imm",
        src: "ldxdw %r2, [%r1]\nstdw [%r2], 0\nmov %r0, 0\nexit",
        masked: None,
        unconfined: Some(0),
        unconfined_writes: true,
    },
    Hostile {
        name: "store_reg_offset",
        src: "ldxdw %r2, [%r1]\nadd %r2, -8\nstxdw [%r2+8], %r1\nmov %r0, 0\nexit",
        masked: None,
        unconfined: Some(0),
        unconfined_writes: true,
    },
    Hostile {
        name: "atomic_add",
        src: "ldxdw %r2, [%r1]\nmov %r3, 1\nlock add [%r2], %r3\nmov %r0, 0\nexit",
        masked: None,
        unconfined: Some(0),
        unconfined_writes: true,
    },
    Hostile {
        name: "atomic_fetch_add",
        src: "ldxdw %r2, [%r1]\nmov %r0, 0\nlock fetch add [%r2], %r0\nexit",
        masked: None,
        unconfined: Some(SECRET_VALUE),
        unconfined_writes: false,
    },
    Hostile {
        name: "xchg",
        src: "ldxdw %r2, [%r1]\nmov %r0, 7\nlock xchg [%r2], %r0\nexit",
        masked: None,
        unconfined: Some(SECRET_VALUE),
        unconfined_writes: true,
    },
    Hostile {
        name: "cmpxchg",
        src: "ldxdw %r2, [%r1]\nlddw %r0, 0x5ec7e75ec7e75ec7\nmov %r3, 0\n\
              lock cmpxchg [%r2], %r3\nexit",
        masked: None,
        unconfined: Some(SECRET_VALUE),
        unconfined_writes: true,
    },
    Hostile {
        // The secret's address plus 7 * 2^36: the same low 36 bits.
        name: "secret_alias",
        src: "ldxdw %r2, [%r1]\nlddw %r3, 0x7000000000\nadd %r2, %r3\nldxdw %r0, [%r2]\nexit",
        masked: None,
        unconfined: None,
        unconfined_writes: false,
    },
    Hostile {
        name: "wild_load_top",
        src: "lddw %r2, 0xfffffffffffffff8\nldxdw %r0, [%r2]\nexit",
        masked: None,
        unconfined: None,
        unconfined_writes: false,
    },
    Hostile {
        name: "wild_store_sign_bit",
        src: "lddw %r2, 0x8000000000000000\nstdw [%r2+16], 1\nmov %r0, 0\nexit",
        masked: None,
        unconfined: None,
        unconfined_writes: false,
    },
    Hostile {
        name: "wild_atomic",
        src: "lddw %r2, 0x123456789abcdef0\nmov %r0, 1\nlock xchg [%r2], %r0\nexit",
        masked: None,
        unconfined: None,
        unconfined_writes: false,
    },
    Hostile {
        // mem + 3 * 2^36 masks back to mem itself: the load lands inside
        // the sandbox and reads MARKER.
        name: "alias_into_the_sandbox",
        src: "lddw %r3, 0x3000000000\nadd %r3, %r1\nldxdw %r0, [%r3+8]\nexit",
        masked: Some(MARKER),
        unconfined: None,
        unconfined_writes: false,
    },
];

fn qemu_cpu(t: Target) -> String {
    format!("rv64,zba={},zbb={}", t.zba, t.zbb)
}

fn hostile_mem() -> Vec<u8> {
    let mut mem = vec![0u8; 16];
    mem[8..].copy_from_slice(&MARKER.to_le_bytes());
    mem
}

/// Compiles each program for every target masked and unconfined, runs all
/// of them sandboxed (sp in the VM stack region when `stack_in_sandbox`)
/// with the secret's address at mem[0..8]; returns outcomes and secret
/// states by case name (`prog@target/Masked|None`).
fn run_hostile(
    progs: &[(&str, &str)],
    stack_in_sandbox: bool,
    tools: &Tools,
    harness: &Harness,
    work_dir: &Path,
) -> (HashMap<String, NativeOutcome>, HashMap<String, bool>) {
    let env = VerifyEnv {
        helper_known: &harness_has_helper,
        kfunc_known: &|_| false,
        entry_args: 2,
    };
    let mut by_cpu: HashMap<String, Vec<NativeCase>> = HashMap::new();
    for &(name, src) in progs {
        let obj = assemble_object(name, src).unwrap_or_else(|e| panic!("{name}: {e}"));
        let prog = verify(&obj, 0, &env).unwrap_or_else(|e| panic!("{name}: {e}"));
        for target in TARGETS {
            for sandbox in [Sandbox::Masked, Sandbox::None] {
                let opts = JitOptions {
                    target,
                    tcc: TccScheme::Reg,
                    sandbox,
                };
                let image = compile(&prog, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
                let case_name = format!("{name}@{target}/{sandbox:?}");
                let mut case = NativeCase::from_image(case_name, &image, &hostile_mem(), 0);
                case.sandboxed = true;
                case.stack_in_sandbox = stack_in_sandbox;
                case.secret_at = Some(0);
                by_cpu.entry(qemu_cpu(target)).or_default().push(case);
            }
        }
    }
    let (mut outcomes, mut secrets) = (HashMap::new(), HashMap::new());
    for (i, (cpu, cases)) in by_cpu.iter().enumerate() {
        let path = work_dir.join(format!("hostile{i}-{stack_in_sandbox}.bin"));
        std::fs::write(&path, batch::encode(cases)).unwrap();
        let stdout = tools::run_batch(tools, harness, cpu, &path).unwrap_or_else(|e| panic!("{e}"));
        outcomes.extend(batch::parse_output(&stdout).unwrap_or_else(|e| panic!("{e}")));
        secrets.extend(batch::parse_secrets(&stdout).unwrap_or_else(|e| panic!("{e}")));
    }
    (outcomes, secrets)
}

/// A fault the harness caught (not a harness setup error).
fn is_fault(o: Option<&NativeOutcome>) -> bool {
    matches!(o, Some(NativeOutcome::Failed(why)) if why.starts_with("signal "))
}

#[test]
fn hostile_programs_cannot_reach_the_host_secret_when_masked() {
    let Some((tools, harness, work_dir)) = setup("qemu_sandbox_hostile") else {
        return;
    };
    let progs: Vec<(&str, &str)> = HOSTILE.iter().map(|h| (h.name, h.src)).collect();
    let (outcomes, secrets) = run_hostile(&progs, false, &tools, &harness, &work_dir);
    let mut problems = Vec::new();
    for h in HOSTILE {
        for target in TARGETS {
            let masked = format!("{}@{target}/Masked", h.name);
            let (o, intact) = (outcomes.get(&masked), secrets.get(&masked));
            if intact != Some(&true) {
                problems.push(format!("{masked}: secret not intact ({intact:?})"));
            }
            match (h.masked, o) {
                (_, Some(NativeOutcome::Returned(SECRET_VALUE))) => {
                    problems.push(format!("{masked}: returned the secret"))
                }
                (Some(v), Some(NativeOutcome::Returned(r))) if *r == v => {}
                (None, _) if is_fault(o) => {}
                (want, got) => problems.push(format!(
                    "{masked}: expected {}, got {got:?}",
                    want.map_or("a fault".into(), |v| format!("r0 = {v:#x}"))
                )),
            }
            // The same program unconfined, same environment: the checks
            // above would have caught it.
            let unconfined = format!("{}@{target}/None", h.name);
            let o = outcomes.get(&unconfined);
            if let Some(v) = h.unconfined {
                if o != Some(&NativeOutcome::Returned(v)) {
                    problems.push(format!("{unconfined}: expected r0 = {v:#x}, got {o:?}"));
                }
            }
            if h.unconfined_writes && secrets.get(&unconfined) != Some(&false) {
                problems.push(format!("{unconfined}: expected the secret to be modified"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The entry function of a program that makes a call saves `ra` at its
/// caller's sp - 8. Run on the native stack 2^36 above the VM stack (the
/// engine contract), that slot's mirror, VM stack top - 8, holds nothing:
/// reading it gives 0 and overwriting it changes nothing. Run with sp in
/// the VM stack region itself (`stack_in_sandbox`, the weaker layout), the
/// same masked programs read a host return address and crash the return,
/// which is what the native stack's placement prevents.
#[test]
fn return_addresses_are_out_of_reach_of_masked_code() {
    let Some((tools, harness, work_dir)) = setup("qemu_sandbox_stack") else {
        return;
    };
    let read = "call 2\nlddw %r2, 0x4003fff8\nldxdw %r0, [%r2]\nexit";
    let smash = "call 2\nlddw %r2, 0x4003fff8\nstdw [%r2], 0\nmov %r0, 5\nexit";
    assert_eq!(VM_STACK_TOP - 8, 0x4003_fff8);
    let progs = [("read", read), ("smash", smash)];
    let (outcomes, _) = run_hostile(&progs, false, &tools, &harness, &work_dir);
    let (weak, _) = run_hostile(&progs, true, &tools, &harness, &work_dir);
    for target in TARGETS {
        let get = |m: &HashMap<String, NativeOutcome>, name: &str| {
            m.get(&format!("{name}@{target}/Masked")).cloned()
        };
        assert_eq!(
            get(&outcomes, "read"),
            Some(NativeOutcome::Returned(0)),
            "{target}"
        );
        assert_eq!(
            get(&outcomes, "smash"),
            Some(NativeOutcome::Returned(5)),
            "{target}"
        );
        match get(&weak, "read") {
            Some(NativeOutcome::Returned(ra)) => assert!(
                ra >= SANDBOX_SIZE,
                "{target}: expected a host return address, got {ra:#x}"
            ),
            other => panic!("{target}: read, stack in the sandbox: {other:?}"),
        }
        assert!(
            is_fault(get(&weak, "smash").as_ref()),
            "{target}: smash, stack in the sandbox: {:?}",
            get(&weak, "smash")
        );
    }
}
