//! Prints, per C kernel of `kernels/kernels.c`, the exact number of RV64
//! instructions retired by clang's native riscv64 code and by the JIT's
//! translation of clang's BPF code, their ratio and code sizes.
//!
//! ```text
//! cargo run --release -p rvbpf-jit --example measure_kernels [-- --listing NAME] [-- --len N]
//! ```
//!
//! `--listing NAME` also prints the JIT listing of kernel NAME (rv64gc), to
//! see which lowering costs the extra instructions.

#[path = "../benches/kernels_support/mod.rs"]
mod kernels_support;

use kernels_support::{measure, KERNELS, VARIANTS};

/// Input size used unless `--len` says otherwise: big enough that loop
/// bodies dominate the prologue/epilogue costs.
const DEFAULT_LEN: usize = 1024;
/// The code-quality target from the project plan.
const TARGET_RATIO: f64 = 1.3;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let len = value_of("--len").map_or(DEFAULT_LEN, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("--len takes a number, not {v}"))
    });
    let listing = value_of("--listing");

    println!("input: {len} bytes; instructions retired in the rv64 emulator (exact)\n");
    println!(
        "{:<10} {:<15} {:>10} {:>10} {:>6} {:>8} {:>8}  result",
        "kernel", "target", "native", "jit", "ratio", "nat.B", "jit.B"
    );
    for variant @ (target, _) in VARIANTS {
        for kernel in &KERNELS {
            let m = measure(kernel, variant, len)
                .unwrap_or_else(|e| panic!("{} {target}: {e}", kernel.name));
            assert_eq!(
                m.native.result, m.jit.result,
                "{} {target}: native and JIT disagree",
                kernel.name
            );
            let ratio = m.ratio();
            println!(
                "{:<10} {:<15} {:>10} {:>10} {:>5.2}{} {:>8} {:>8}  {:#x}",
                m.kernel,
                m.target,
                m.native.counters.instructions,
                m.jit.counters.instructions,
                ratio,
                if ratio > TARGET_RATIO { "!" } else { " " },
                m.native_bytes,
                m.jit_bytes,
                m.native.result,
            );
            if listing.as_deref() == Some(kernel.name) && target == "rv64gc" {
                println!("{}", m.listing);
            }
        }
        println!();
    }
    println!("! = above the {TARGET_RATIO}x target");
}
