//! rvbpf's reference interpreter against rbpf's and solana-sbpf's
//! interpreters on the same eBPF programs (an ALU loop, a memory loop, a
//! branchy loop, a bpf2bpf call loop; see `interp_support/programs.rs`).
//! Every engine's result is checked against a Rust model of the program
//! before timing. Throughput is in executed BPF instructions ("elem/s").
//!
//! ```text
//! cargo bench --bench interp            # add `-- --quick` for a fast pass
//! ```
//! For a one-shot table with the rvbpf/rbpf and rvbpf/sbpf ratios, run the
//! `interp_speed` example instead.

#[path = "interp_support/mod.rs"]
mod interp_support;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    for program in interp_support::programs() {
        let mut e = program.engines();
        let mut group = c.benchmark_group(program.name());
        group
            .throughput(Throughput::Elements(e.insns))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        group.bench_function("rvbpf", |b| b.iter(|| e.ours.run()));
        group.bench_function("rbpf", |b| b.iter(|| e.rbpf.run()));
        group.bench_function("sbpf", |b| b.iter(|| e.sbpf.run()));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
