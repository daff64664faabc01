//! Throughput smoke check of the interpreter (ignored by default; run with
//! `cargo test --release -p rvbpf --test interp_speed -- --ignored --nocapture`).
//! Also checks that one `Vm` can run the same program many times.

mod runtime_support;

use rvbpf::{Ctx, Engine, Vm};
use std::time::Instant;

/// 2 + 5 × n + 1 instructions: a counted loop with a stack store and load.
fn looping(n: u32) -> String {
    format!("mov %r0, 0\nmov %r1, {n}\nloop:\nstxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nadd %r0, %r2\nsub %r1, 1\njne %r1, 0, loop\nexit")
}

#[test]
fn repeated_runs_reuse_the_vm() {
    let mut vm = Vm::new();
    let p = runtime_support::load_raw(&mut vm, &looping(100));
    for _ in 0..1000 {
        let out = vm.run(p, &Ctx::empty(), Engine::Interp).unwrap();
        // sum 1..=100
        assert_eq!(out.ret, 5050);
        assert_eq!(out.stats.insns_executed, 2 + 5 * 100 + 1);
    }
}

#[test]
#[ignore = "timing only; run in release"]
fn interpreter_throughput() {
    let mut vm = Vm::new();
    vm.set_insn_budget(u64::MAX);
    let p = runtime_support::load_raw(&mut vm, &looping(2_000_000));
    let t = Instant::now();
    let out = vm.run(p, &Ctx::empty(), Engine::Interp).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} insns in {secs:.3}s: {:.1} M insns/s",
        out.stats.insns_executed,
        out.stats.insns_executed as f64 / secs / 1e6
    );
}
