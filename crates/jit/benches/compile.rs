//! JIT compile time: rvbpf (rv64g, rv64gc, the baseline tier) versus the x86-64 JITs of rbpf
//! and solana-sbpf on the same generated program
//! (`compile_support/program.rs`: ALU64/ALU32 imm and reg, stack loads and
//! stores, conditional forward jumps of three distance bands incl. ones
//! past a RISC-V branch's reach, `lddw`, bpf2bpf calls).
//!
//! `cargo bench -p rvbpf-jit --bench compile`. Throughput is in BPF
//! instructions (slots) compiled, so criterion's "elem/s" inverts to ns per
//! instruction; the target for rvbpf is ≤ 10 ns/insn on ~100k instructions.
//! rbpf's JIT has a fixed 4 KiB code buffer and so appears only in the
//! `small` group. `examples/compile_speed.rs` prints ns/insn directly.

#[path = "compile_support/mod.rs"]
mod compile_support;

use compile_support::{Compiler, Rvbpf, Workload, LARGE_SLOTS, SMALL_SLOTS};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    for (name, slots) in [
        ("compile_100k", LARGE_SLOTS),
        ("compile_small", SMALL_SLOTS),
    ] {
        let workload = Workload::new(slots);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(workload.slots as u64));
        if slots == LARGE_SLOTS {
            // Each compile takes milliseconds; keep the run short.
            group
                .sample_size(20)
                .measurement_time(Duration::from_secs(5));
        }
        for target in ["rv64g", "rv64gc"] {
            let mut jit = Rvbpf::new(&workload, target);
            group.bench_function(format!("rvbpf_{target}"), |b| b.iter(|| jit.compile_once()));
        }
        let mut jit = Rvbpf::baseline(&workload, "rv64gc");
        group.bench_function("rvbpf_baseline", |b| b.iter(|| jit.compile_once()));
        #[cfg(target_arch = "x86_64")]
        {
            if slots <= SMALL_SLOTS {
                let mut jit = compile_support::Rbpf::new(&workload);
                group.bench_function("rbpf_x86_64", |b| b.iter(|| jit.compile_once()));
            }
            let mut jit = compile_support::Sbpf::new(&workload);
            group.bench_function("sbpf_x86_64", |b| b.iter(|| jit.compile_once()));
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
