//! Prints the speed of rvbpf's RV64 emulator next to ckb-vm's interpreters
//! on the same code (an ALU loop, a load/store loop, a call-heavy loop), in
//! millions of retired instructions per second, with instruction counting on
//! in every engine. Best of 3 runs each. ckb-vm modes: `ref` = its plain
//! decode-and-execute loop (`DefaultMachine::run`), `rust` = its fastest
//! pure-Rust mode (`TraceMachine`), `asm` = its assembly interpreter. The
//! ratios compare against each.
//!
//! ```text
//! cargo run --release -p rvbpf-rv64 --example emu_speed [iterations]
//! ```

#[path = "../tests/emu_support/mod.rs"]
mod emu_support;

use std::time::Instant;

use emu_support::{ckb, ours, workloads};
use rvbpf_rv64::emu::Stop;

const REPS: usize = 3;

/// Best-of-`REPS` M insn/s of `run`, which returns instructions retired.
fn measure(mut run: impl FnMut() -> u64) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..REPS {
        let t = Instant::now();
        count = run();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (count as f64 / best / 1e6, count)
}

fn main() {
    let iterations: i32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3_000_000);
    let budget = u64::MAX;
    println!(
        "{:<11} {:>10} {:>10} {:>8} {:>9} {:>8} {:>7} {:>8} {:>7}",
        "workload",
        "insns",
        "rvbpf M/s",
        "ckb-ref",
        "ckb-rust",
        "ckb-asm",
        "vs ref",
        "vs rust",
        "vs asm"
    );
    for w in workloads::all(iterations) {
        let (ours_rate, ours_count) = measure(|| {
            let (mut hart, mut mem) = ours::load(&w.image);
            match hart.run(&mut mem) {
                Ok(Stop::Ecall { .. }) => hart.counters().instructions,
                other => panic!("{}: unexpected end {other:?}", w.name),
            }
        });
        let (ref_rate, ref_count) = measure(|| ckb::RefMode::new(&w.image, budget).run());
        assert_eq!(
            ours_count, ref_count,
            "{}: instruction counts differ",
            w.name
        );
        let (rust_rate, rust_count) = measure(|| ckb::RustMode::new(&w.image, budget).run());
        assert_eq!(
            ours_count, rust_count,
            "{}: instruction counts differ",
            w.name
        );
        let asm = asm_rate(&w.image, budget, ours_count);
        let (asm_col, asm_ratio) = match asm {
            Some(r) => (format!("{r:.0}"), format!("{:.2}x", ours_rate / r)),
            None => ("n/a".into(), "n/a".into()),
        };
        println!(
            "{:<11} {:>10} {:>10.0} {:>8.0} {:>9.0} {:>8} {:>7} {:>8} {:>7}",
            w.name,
            ours_count,
            ours_rate,
            ref_rate,
            rust_rate,
            asm_col,
            format!("{:.2}x", ours_rate / ref_rate),
            format!("{:.2}x", ours_rate / rust_rate),
            asm_ratio
        );
    }
}

#[cfg(any(target_arch = "x86_64", all(target_arch = "aarch64", unix)))]
fn asm_rate(image: &ckb::Image, budget: u64, expected: u64) -> Option<f64> {
    let (rate, count) = measure(|| ckb::asm::AsmMode::new(image, budget).run());
    assert_eq!(count, expected, "asm instruction count differs");
    Some(rate)
}

#[cfg(not(any(target_arch = "x86_64", all(target_arch = "aarch64", unix))))]
fn asm_rate(_: &ckb::Image, _: u64, _: u64) -> Option<f64> {
    None
}
