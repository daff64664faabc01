//! Times emulator runs of each C kernel of `kernels/kernels.c`: clang's
//! native riscv64 code versus the JIT's translation of clang's BPF code.
//! Host time tracks retired instructions closely (the emulator charges
//! every instruction about the same), so this mostly confirms
//! `examples/measure_kernels.rs`; the exact counts live there.

#[path = "kernels_support/mod.rs"]
mod kernels_support;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use kernels_support::{load_jit, load_native, KERNELS, NATIVE_RV64GC};
use rvbpf_rv64::Target;

const LEN: usize = 1024;

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    for kernel in &KERNELS {
        let input = (kernel.input)(LEN);
        let (mut native, _) = load_native(kernel, NATIVE_RV64GC, &input).expect("native");
        let (mut jit, _) = load_jit(kernel, Target::RV64GC, &input).expect("jit");
        group.bench_function(BenchmarkId::new("native", kernel.name), |b| {
            b.iter(|| native.run().expect("native run").result)
        });
        group.bench_function(BenchmarkId::new("jit", kernel.name), |b| {
            b.iter(|| jit.run().expect("jit run").result)
        });
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
