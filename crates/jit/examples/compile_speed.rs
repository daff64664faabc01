//! JIT compile time per BPF instruction, one quick run for quoting:
//! `cargo run --release -p rvbpf-jit --example compile_speed [-- N [SLOTS [ONLY]]]`.
//! `ONLY` (e.g. `rv64gc` or `sbpf`) keeps the rows whose name contains it,
//! for `perf record`/`perf stat` of one compiler. `rvbpf baseline` is the
//! fast-compile tier (`compile_baseline`, rv64gc, uncompressed code).
//!
//! Each row is the median of N compiles (default 21) of the generated
//! program in `benches/compile_support/program.rs`, timed with
//! `std::time::Instant`. rvbpf's target is at most 10 ns per instruction on
//! the ~100k-instruction program. rbpf's JIT writes into one fixed 4 KiB
//! page, so it only gets the small program; rvbpf and sbpf are shown on both
//! sizes for a like-for-like row. The criterion version of the same
//! measurement is `cargo bench -p rvbpf-jit --bench compile`.
//!
//! Wall-clock medians swing by tens of percent when other processes share
//! the cores. CPU time is steadier: the task-clock difference between 61
//! and 1 compiles of one row, divided by 60 and by the instruction count,
//! e.g. `perf stat -e task-clock target/release/examples/compile_speed 61
//! 100000 rv64gc` (and the same with `1`); compare builds back to back.

#[path = "../benches/compile_support/mod.rs"]
mod compile_support;

use compile_support::{Compiler, Rvbpf, Workload, LARGE_SLOTS, SMALL_SLOTS};
use std::time::Instant;

/// Median wall time of `runs` compiles, in nanoseconds, and the code size.
fn median_ns(compiler: &mut dyn Compiler, runs: usize) -> (f64, usize) {
    let size = compiler.compile_once(); // warm-up (allocator, caches)
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(compiler.compile_once());
            start.elapsed().as_nanos() as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[runs / 2], size)
}

fn row(name: &str, workload: &Workload, compiler: &mut dyn Compiler, runs: usize) {
    let (ns, size) = median_ns(compiler, runs);
    println!(
        "{name:<18} {:>8} {:>12.3} {:>10.2} {:>10}",
        workload.slots,
        ns / 1e6,
        ns / workload.slots as f64,
        size
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args
        .first()
        .map(|a| a.parse().expect("N must be a number"))
        .unwrap_or(21)
        .max(1);
    // One size only when given (e.g. for `perf record` of one case).
    let sizes = match args.get(1) {
        Some(a) => vec![a.parse().expect("SLOTS must be a number")],
        None => vec![LARGE_SLOTS, SMALL_SLOTS],
    };
    let only = args.get(2).cloned().unwrap_or_default();
    let wanted = |name: &str| name.contains(only.as_str());
    println!("median of {runs} compiles");
    for slots in sizes {
        let workload = Workload::new(slots);
        let (far, all) = compile_support::far_conditional_jumps(&workload, "rv64gc");
        println!("\n{slots} slots: {far} of {all} conditional jumps need relaxation on rv64gc");
        println!(
            "{:<18} {:>8} {:>12} {:>10} {:>10}",
            "jit", "insns", "ms/compile", "ns/insn", "code bytes"
        );
        for target in ["rv64g", "rv64gc"] {
            let name = format!("rvbpf {target}");
            // `rv64g` alone would also match `rv64gc`.
            if wanted(&name) && (only != "rv64g" || target == "rv64g") {
                let mut jit = Rvbpf::new(&workload, target);
                row(&name, &workload, &mut jit, runs);
            }
        }
        if wanted("rvbpf baseline") {
            let mut jit = Rvbpf::baseline(&workload, "rv64gc");
            row("rvbpf baseline", &workload, &mut jit, runs);
        }
        #[cfg(target_arch = "x86_64")]
        {
            if slots <= SMALL_SLOTS && wanted("rbpf x86-64") {
                let mut jit = compile_support::Rbpf::new(&workload);
                row("rbpf x86-64", &workload, &mut jit, runs);
            }
            if wanted("solana-sbpf x86-64") {
                let mut jit = compile_support::Sbpf::new(&workload);
                row("solana-sbpf x86-64", &workload, &mut jit, runs);
            }
        }
    }
}
