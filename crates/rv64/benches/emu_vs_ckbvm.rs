//! rvbpf's RV64 emulator against ckb-vm on the same code: an ALU loop, a
//! load/store loop and a call-heavy loop. Throughput is in retired
//! instructions (criterion's "elem/s"), with instruction counting on in
//! every engine. ckb-vm runs in its plain decode-and-execute loop
//! (`ckb-vm-ref`), its faster Rust "trace" interpreter (`ckb-vm-rust`) and,
//! where the host has it, its assembly interpreter (`ckb-vm-asm`).
//!
//! ```text
//! cargo bench -p rvbpf-rv64 --bench emu_vs_ckbvm
//! ```
//! For a one-shot table with ratios, run the `emu_speed` example instead.

#[path = "../tests/emu_support/mod.rs"]
mod emu_support;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use emu_support::{ckb, ours, workloads};
use rvbpf_rv64::emu::Stop;

const ITERATIONS: i32 = 200_000;

fn bench(c: &mut Criterion) {
    for w in workloads::all(ITERATIONS) {
        // Count once, and check both machines agree on the count.
        let (mut hart, mut mem) = ours::load(&w.image);
        assert!(matches!(hart.run(&mut mem), Ok(Stop::Ecall { .. })));
        let count = hart.counters().instructions;
        assert_eq!(
            ckb::RustMode::new(&w.image, u64::MAX).run(),
            count,
            "{}",
            w.name
        );

        let mut group = c.benchmark_group(w.name);
        group
            .throughput(Throughput::Elements(count))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        group.bench_function("rvbpf", |b| {
            b.iter_batched(
                || ours::load(&w.image),
                |(mut hart, mut mem)| {
                    let stop = hart.run(&mut mem);
                    assert!(matches!(stop, Ok(Stop::Ecall { .. })));
                    hart.counters().instructions
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("ckb-vm-ref", |b| {
            b.iter_batched(
                || ckb::RefMode::new(&w.image, u64::MAX),
                |mut m| m.run(),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("ckb-vm-rust", |b| {
            b.iter_batched(
                || ckb::RustMode::new(&w.image, u64::MAX),
                |mut m| m.run(),
                BatchSize::PerIteration,
            )
        });
        #[cfg(any(target_arch = "x86_64", all(target_arch = "aarch64", unix)))]
        group.bench_function("ckb-vm-asm", |b| {
            b.iter_batched(
                || ckb::asm::AsmMode::new(&w.image, u64::MAX),
                |mut m| m.run(),
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
