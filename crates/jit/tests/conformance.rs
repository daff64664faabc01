//! The shared conformance suites (bpf_conformance, ubpf) run on JIT'd code
//! in the emulator: every case that assembles, verifies and uses only the
//! ubpf test helpers 0..=4 (gather_bytes, memfrob, no_op, sqrti, strcmp_ext)
//! must return the
//! suite's expected r0 on every target and counter scheme, unconfined and
//! with `Sandbox::Masked`. Cases expecting
//! an error, needing other helpers or rejected by the verifier are counted
//! as skipped here (the runtime's own conformance test covers them).
//!
//! The baseline tier (`compile_baseline`) runs every case too, on every
//! target with the `reg` scheme (the only one it implements); cases it
//! reports `Unsupported` for (legacy packet loads) are counted apart.

mod common;

use common::emu::{world, CTX_BASE};
use common::{opts, SCHEMES, TARGETS};
use rvbpf_ebpf::asm::{assemble_object, object_from_insts};
use rvbpf_ebpf::data_file::{self, Expect};
use rvbpf_ebpf::inst::decode_program;
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_jit::{compile, compile_baseline, JitError, JitOptions, Sandbox, TccScheme};
use rvbpf_rv64::emu::Memory;
use std::path::{Path, PathBuf};

fn suite_dir(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    p.is_dir().then_some(p)
}

fn data_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            data_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "data") {
            out.push(p);
        }
    }
}

fn c_string(mem: &Memory, mut addr: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = mem.read_u8(addr).expect("string inside memory");
        if b == 0 || out.len() >= 4096 {
            return out;
        }
        out.push(b);
        addr += 1;
    }
}

fn helper(n: u32, a: [u64; 8], mem: &mut Memory) -> u64 {
    match n {
        // memfrob(addr, len): xor every byte with 42.
        1 => {
            for i in 0..a[1] {
                let b = mem.read_u8(a[0] + i).expect("memfrob inside memory");
                mem.write_u8(a[0] + i, b ^ 42).unwrap();
            }
            0
        }
        // strcmp_ext(a, b): -1, 0 or 1.
        4 => c_string(mem, a[0]).cmp(&c_string(mem, a[1])) as i64 as u64,
        0 => {
            ((a[0] & 0xff) << 32)
                | ((a[1] & 0xff) << 24)
                | ((a[2] & 0xff) << 16)
                | ((a[3] & 0xff) << 8)
                | (a[4] & 0xff)
        }
        2 => 0,
        3 => (a[0] as f64).sqrt() as u64,
        // ubpf's `unwind`: returns its argument; a zero would stop the
        // program, which this harness cannot model (no case does it via callx).
        5 if a[0] != 0 => a[0],
        _ => panic!("helper {n} was not declared known"),
    }
}

/// Runs one suite; returns (passed cases, skipped cases, cases the
/// baseline tier compiled).
fn run_suite(rel: &str) -> Option<(usize, usize, usize)> {
    let dir = suite_dir(rel)?;
    let mut files = Vec::new();
    data_files(&dir, &mut files);
    files.sort();
    let env = VerifyEnv {
        helper_known: &|n| matches!(n, 0..=4),
        kfunc_known: &|_| false,
        entry_args: 2,
    };
    let (mut passed, mut skipped, mut baseline_ran) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in files {
        let case = match data_file::load(&path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skip {}: {e}", path.display());
                skipped += 1;
                continue;
            }
        };
        let Expect::Result(expected) = case.expect else {
            skipped += 1;
            continue;
        };
        if let Some(why) = &case.skip {
            if !why.contains("pyelf") {
                eprintln!("skip {}: {why}", case.name);
            }
            skipped += 1;
            continue;
        }
        let obj = match (&case.asm, &case.raw) {
            (Some(asm), _) => assemble_object(&case.name, &asm.text).ok(),
            (None, Some(raw)) => decode_program(raw)
                .ok()
                .map(|insts| object_from_insts(&case.name, &insts)),
            _ => None,
        };
        let Some(obj) = obj else {
            eprintln!("skip {}: does not assemble", case.name);
            skipped += 1;
            continue;
        };
        let prog = match verify(&obj, 0, &env) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("skip {}: {e}", case.name);
                skipped += 1;
                continue;
            }
        };
        let mut case_ok = true;
        let variants = TARGETS
            .iter()
            .flat_map(|&t| SCHEMES.iter().map(move |&s| (t, s)))
            .flat_map(|(t, s)| [Sandbox::None, Sandbox::Masked].map(|sb| (t, s, sb, false)))
            .chain(
                TARGETS
                    .iter()
                    .map(|&t| (t, TccScheme::Reg, Sandbox::None, true)),
            );
        for (t, s, sandbox, baseline) in variants {
            let options = JitOptions {
                sandbox,
                ..opts(t, s)
            };
            let tier = if baseline { " baseline" } else { "" };
            let compiled = if baseline {
                compile_baseline(&prog, &options)
            } else {
                compile(&prog, &options)
            };
            let image = match compiled {
                Err(JitError::Unsupported { .. }) if baseline => continue,
                Ok(i) => {
                    baseline_ran += (baseline && t == TARGETS[0]) as usize;
                    i
                }
                Err(e) => {
                    failures.push(format!("{}: {t} {s:?} {sandbox:?}{}: {e}", case.name, tier));
                    case_ok = false;
                    continue;
                }
            };
            let mut w = world(&[&image], 0, &[]);
            if case.mem.len() > 0x1000 {
                failures.push(format!("{}: memory too large for the harness", case.name));
                case_ok = false;
                continue;
            }
            w.mem.write(CTX_BASE, &case.mem).unwrap();
            // Like ubpf: no memory means a null r1 and r2 = 0.
            let args = if case.mem.is_empty() {
                [0, 0]
            } else {
                [CTX_BASE, case.mem.len() as u64]
            };
            match w.run_with_args(0, &args, &mut |n, a, m| helper(n, a, m)) {
                Ok(r) if r == expected => {}
                Ok(r) => {
                    failures.push(format!(
                        "{}: {t} {s:?} {sandbox:?}{}: returned {r:#x}, expected {expected:#x}",
                        case.name, tier
                    ));
                    case_ok = false;
                }
                Err(e) => {
                    failures.push(format!("{}: {t} {s:?} {sandbox:?}{}: {e}", case.name, tier));
                    case_ok = false;
                }
            }
        }
        if case_ok {
            passed += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    Some((passed, skipped, baseline_ran))
}

#[test]
fn bpf_conformance_suite_on_jit() {
    let Some((passed, skipped, baseline)) = run_suite("bpf_conformance_tests/tests") else {
        eprintln!("bpf_conformance suite not found: skipping");
        return;
    };
    eprintln!(
        "bpf_conformance: {passed} passed, {skipped} skipped, {baseline} on the baseline tier"
    );
    assert!(passed >= 250, "only {passed} cases ran ({skipped} skipped)");
    assert!(
        baseline >= 240,
        "only {baseline} cases ran on the baseline tier"
    );
}

#[test]
fn ubpf_suite_on_jit() {
    let Some((passed, skipped, baseline)) = run_suite("ubpf_tests/tests") else {
        eprintln!("ubpf suite not found: skipping");
        return;
    };
    eprintln!("ubpf: {passed} passed, {skipped} skipped, {baseline} on the baseline tier");
    assert!(passed >= 40, "only {passed} cases ran ({skipped} skipped)");
    assert!(
        baseline >= 30,
        "only {baseline} cases ran on the baseline tier"
    );
}
