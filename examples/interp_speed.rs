//! Prints the time per run of rvbpf's reference interpreter next to rbpf's
//! and solana-sbpf's interpreters on the same eBPF programs (see
//! `benches/interp_support/programs.rs`), and the speed ratios
//! (`x` > 1 means rvbpf is faster). Each engine's result is checked against
//! a Rust model first. Best of `reps` runs each (default 5); a second
//! argument runs only the programs whose name contains it (for profiling).
//!
//! ```text
//! cargo run --release --example interp_speed [reps [program]]
//! ```

#[path = "../benches/interp_support/mod.rs"]
mod interp_support;

use std::time::Instant;

/// Best-of-`reps` seconds of one call of `run`.
fn best_time<T>(reps: usize, mut run: impl FnMut() -> T) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(run());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let reps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let only = args.next().unwrap_or_default();
    println!(
        "{:<8} {:>9} {:>10} {:>10} {:>10} {:>9} {:>11} {:>11}",
        "program",
        "insns",
        "rvbpf ms",
        "rbpf ms",
        "sbpf ms",
        "rvbpf M/s",
        "rbpf/rvbpf",
        "sbpf/rvbpf"
    );
    for program in interp_support::programs() {
        if !program.name().contains(only.as_str()) {
            continue;
        }
        let mut e = program.engines();
        let ours = best_time(reps, || e.ours.run());
        let rbpf = best_time(reps, || e.rbpf.run());
        let sbpf = best_time(reps, || e.sbpf.run());
        println!(
            "{:<8} {:>9} {:>10.3} {:>10.3} {:>10.3} {:>9.0} {:>10.2}x {:>10.2}x",
            program.name(),
            e.insns,
            ours * 1e3,
            rbpf * 1e3,
            sbpf * 1e3,
            e.insns as f64 / ours / 1e6,
            rbpf / ours,
            sbpf / ours,
        );
    }
}
