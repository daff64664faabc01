//! The `rvbpf` binary end to end: the demonstration, `run --json`, and the
//! exit status and message for bad input.

use std::process::{Command, Output};

fn rvbpf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvbpf"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run rvbpf")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Expected numbers of demo/demo.c, reasoned in its header comment: 33 tail
/// calls (parse, filter, then 31 x count), next_stage entered 34 times, the
/// 34th tail call fails in a next_stage(2) that returns 2, entry adds 100.
#[test]
fn demo_runs_with_hand_computed_counters() {
    let o = rvbpf(&[]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("entry returned 102"), "{out}");
    assert!(
        out.contains("parse 1, filter 1, count 31   next_stage calls: 34"),
        "{out}"
    );
    assert!(
        out.contains("fentry fired 34, fexit fired 34, last stage 2, last return 2"),
        "{out}"
    );
    assert!(
        out.contains("trace_printk: parse: packet of 54 bytes"),
        "{out}"
    ); // Every JIT configuration agrees with the interpreter (the demo exits 1
       // and marks the row otherwise).
    assert!(out.contains("jit-rv64gc_zba_zbb-ptr"), "{out}");
    assert!(!out.contains("differs"), "{out}");
}

#[test]
fn run_json_reports_return_globals_and_stats() {
    let o = rvbpf(&[
        "run",
        "demo/demo.o",
        "--prog",
        "entry",
        "--ctx-hex",
        "00 11 22 33",
        "--attach",
        "demo/demo_trace.o",
        "--json",
        "--repeat",
        "2",
    ]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["return"], 102);
    // Two runs keep map state: every counter doubles.
    assert_eq!(v["globals"]["demo.o"]["visits_count"], 62);
    assert_eq!(v["globals"]["demo.o"]["hops"], 68);
    assert_eq!(v["globals"]["demo_trace.o"]["entered"], 68);
    assert_eq!(v["stats"]["tail_calls"], 66);
}

#[test]
fn tail_call_slots_can_be_set_from_the_command_line() {
    // Slot 3 is empty in the object; pointing it anywhere changes nothing for
    // `entry`, but a bad spec or a missing program is a clear error.
    let ok = rvbpf(&[
        "run",
        "demo/demo.o",
        "--prog",
        "entry",
        "--tail-call",
        "stages:3=parse",
        "--json",
    ]);
    assert!(ok.status.success(), "{ok:?}");
    let bad = rvbpf(&[
        "run",
        "demo/demo.o",
        "--prog",
        "entry",
        "--tail-call",
        "stages:3=nope",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no program `nope`"));
}

#[test]
fn malformed_input_is_a_located_error_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("rvbpf-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A truncated ELF object.
    let full = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/demo.o")).unwrap();
    let truncated = dir.join("truncated.o");
    std::fs::write(&truncated, &full[..300]).unwrap();
    let o = rvbpf(&["run", truncated.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("truncated.o"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // An infinite loop in assembler text: stopped by the instruction budget.
    let looping = dir.join("loop.s");
    std::fs::write(&looping, "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit\n").unwrap();
    let o = rvbpf(&["run", looping.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("budget"), "{err}");

    // Out-of-bounds access: a load far past the ctx.
    let oob = dir.join("oob.s");
    std::fs::write(&oob, "ldxdw %r0, [%r1+4096]\nexit\n").unwrap();
    let o = rvbpf(&["run", oob.to_str().unwrap(), "--ctx-hex", "0011"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("pc 0"), "{err}");

    // A missing file.
    let o = rvbpf(&["run", "/nonexistent/file.o"]);
    assert_eq!(o.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_and_disasm_describe_the_object() {
    let o = rvbpf(&["verify", "demo/demo.o"]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("next_stage"), "{out}");
    assert!(out.contains("tail call"), "{out}");
    let o = rvbpf(&["disasm", "demo/demo.o", "--prog", "entry"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("exit"));
}

#[test]
fn usage_errors_exit_with_2() {
    let o = rvbpf(&["run"]);
    assert_eq!(o.status.code(), Some(2));
    let o = rvbpf(&["run", "demo/demo.o", "--engine", "warp"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn jit_prints_a_listing_and_emits_raw_code() {
    let o = rvbpf(&[
        "jit",
        "demo/demo.o",
        "--prog",
        "entry",
        "--target",
        "rv64g",
        "--tcc",
        "ptr",
    ]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    // The header's patch site is two 4-byte nops (13 00 00 00) at offsets 0 and 4.
    assert!(out.contains("0: 13 00 00 00  nop"), "{out}");
    assert!(out.contains("call local"), "{out}");
    let file = std::env::temp_dir().join(format!("rvbpf-jit-{}.bin", std::process::id()));
    let o = rvbpf(&[
        "jit",
        "demo/demo.o",
        "--prog",
        "entry",
        "--emit",
        "bin",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..8], &[0x13, 0, 0, 0, 0x13, 0, 0, 0]);
    let _ = std::fs::remove_file(&file);
    let bad = rvbpf(&["jit", "demo/demo.o", "--prog", "entry", "--target", "rv32i"]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn jit_lists_the_baseline_tier_and_refuses_what_it_does_not_support() {
    let o = rvbpf(&[
        "jit",
        "demo/demo.o",
        "--prog",
        "entry",
        "--tier",
        "baseline",
    ]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("tier Baseline"), "{out}");
    // Same header as the optimizing tier: two 4-byte nops, then `li a6, 33`.
    assert!(out.contains("8: 13 08 10 02  li a6, 33"), "{out}");
    // The baseline tier only has the `reg` scheme: a clear error, status 1.
    let o = rvbpf(&[
        "jit",
        "demo/demo.o",
        "--prog",
        "entry",
        "--tier",
        "baseline",
        "--tcc",
        "ptr",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tail-call scheme other than `reg`"), "{err}");
}

#[test]
fn run_on_the_jit_reports_rv64_counters() {
    let o = rvbpf(&[
        "run",
        "demo/demo.o",
        "--prog",
        "entry",
        "--engine",
        "jit-rv64g-stack",
        "--attach",
        "demo/demo_trace.o",
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["return"], 102);
    assert_eq!(v["globals"]["demo_trace.o"]["exited"], 34);
    assert_eq!(v["stats"]["tail_calls"], 33);
    assert!(v["stats"]["insns_retired"].as_u64().unwrap() > 1000);
    assert!(v["stats"]["code_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn a_reader_closing_the_pipe_ends_the_output_quietly() {
    // `rvbpf disasm big.s | head -1`: 20,000 instructions print far more
    // than a pipe buffer holds (64 KiB), so rvbpf keeps writing after the
    // reader is gone and gets EPIPE. It must stop with status 0 and no
    // panic message (a plain `println!` would panic).
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = std::env::temp_dir().join(format!("rvbpf-cli-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("big.s");
    let mut text = "mov %r0, 1\n".repeat(20_000);
    text.push_str("exit\n");
    std::fs::write(&src, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rvbpf"))
        .args(["disasm", src.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader (and with it the pipe's read end) is dropped here.
    assert!(!first.is_empty());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {:?}, stderr: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
