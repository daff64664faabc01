//! Prints, per C kernel of `kernels/kernels.c`, the exact number of RV64
//! instructions retired by clang's native riscv64 code and by the JIT's
//! translation of clang's BPF code, their ratio and code sizes.
//!
//! ```text
//! cargo run --release -p rvbpf-jit --example measure_kernels
//!     [-- [--len N] [--breakdown] [--listing NAME]]
//! ```
//!
//! * `--len N`: input size in bytes (default 1024);
//! * `--breakdown`: where the JIT's instructions go, by class (alu32
//!   zero-extensions, jmp32 sign-extensions, constant building, two-address
//!   copies, frame, work) and the hottest BPF instructions of each kernel;
//! * `--listing NAME`: the JIT listing of kernel NAME (rv64gc);
//! * `--baseline`: also the baseline tier's code (`compile_baseline`)
//!   against the optimizing JIT's: instructions retired and code bytes.

#[path = "../benches/kernels_support/mod.rs"]
mod kernels_support;

use kernels_support::attribution::{Attribution, CLASSES};
use kernels_support::{load_jit, measure, Kernel, Measurement, KERNELS, VARIANTS};

/// Input size used unless `--len` says otherwise: big enough that loop
/// bodies dominate the prologue/epilogue costs.
const DEFAULT_LEN: usize = 1024;
/// The code-quality target from the project plan.
const TARGET_RATIO: f64 = 1.3;
/// BPF instructions listed per kernel by `--breakdown`.
const HOTTEST: usize = 8;

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
    let breakdown = args.iter().any(|a| a == "--breakdown");

    println!("input: {len} bytes; instructions retired in the rv64 emulator (exact)\n");
    println!(
        "{:<10} {:<15} {:>10} {:>10} {:>6} {:>8} {:>8}  result",
        "kernel", "target", "native", "jit", "ratio", "nat.B", "jit.B"
    );
    let mut measured = Vec::new();
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
            measured.push((kernel, m));
        }
        println!();
    }
    println!("! = above the {TARGET_RATIO}x target");
    if args.iter().any(|a| a == "--baseline") {
        print_baseline(len);
    }
    if breakdown {
        for (kernel, m) in &measured {
            print_breakdown(kernel, m, len);
        }
    }
}

/// The baseline tier against the optimizing JIT on every kernel (rv64gc):
/// RV64 instructions retired and code bytes.
fn print_baseline(len: usize) {
    use kernels_support::bpf::compile_tier;
    use kernels_support::Loaded;
    use rvbpf_jit::{Sandbox, Tier};
    println!("\nbaseline tier vs optimizing JIT, rv64gc, {len}-byte input");
    println!(
        "{:<10} {:>10} {:>10} {:>6} {:>8} {:>8} {:>6}",
        "kernel", "opt", "baseline", "ratio", "opt.B", "base.B", "ratio"
    );
    let target = "rv64gc".parse().expect("valid target");
    let (mut sum_opt, mut sum_base, mut bytes_opt, mut bytes_base) = (0u64, 0u64, 0, 0);
    for kernel in &KERNELS {
        let input = (kernel.input)(len);
        let run = |tier| {
            let image = compile_tier(kernel.name, target, Sandbox::None, tier)
                .unwrap_or_else(|e| panic!("{} {tier:?}: {e}", kernel.name));
            let mut loaded = Loaded::new(image.code.clone(), image.entry() as u64, &input)
                .unwrap_or_else(|e| panic!("{}: {e}", kernel.name));
            let run = loaded
                .run()
                .unwrap_or_else(|e| panic!("{}: {e}", kernel.name));
            (run, image.text_len)
        };
        let (opt, opt_bytes) = run(Tier::Optimizing);
        let (base, base_bytes) = run(Tier::Baseline);
        assert_eq!(opt.result, base.result, "{}: tiers disagree", kernel.name);
        let (o, b) = (opt.counters.instructions, base.counters.instructions);
        println!(
            "{:<10} {o:>10} {b:>10} {:>6.2} {opt_bytes:>8} {base_bytes:>8} {:>6.2}",
            kernel.name,
            b as f64 / o as f64,
            base_bytes as f64 / opt_bytes as f64
        );
        (sum_opt, sum_base) = (sum_opt + o, sum_base + b);
        (bytes_opt, bytes_base) = (bytes_opt + opt_bytes, bytes_base + base_bytes);
    }
    println!(
        "{:<10} {sum_opt:>10} {sum_base:>10} {:>6.2} {bytes_opt:>8} {bytes_base:>8} {:>6.2}",
        "total",
        sum_base as f64 / sum_opt as f64,
        bytes_base as f64 / bytes_opt as f64
    );
}

/// Re-runs the JIT side traced and prints its instructions by class, what
/// the ratio would be without each overhead class, and the hottest BPF
/// instructions with their expansion.
fn print_breakdown(kernel: &Kernel, m: &Measurement, len: usize) {
    let input = (kernel.input)(len);
    let target = m.target.parse().expect("variant names are targets");
    let (mut jit, image) = load_jit(kernel, target, &input).expect("loaded before");
    let (_, offsets) = jit.run_traced().expect("ran before");
    let b = Attribution::from_listing(&image.listing()).count(offsets);
    let native = m.native.counters.instructions as f64;
    let total = m.jit.counters.instructions;
    println!(
        "\n== {} {} (native {native}, jit {total})",
        m.kernel, m.target
    );
    let classes: Vec<String> = CLASSES
        .iter()
        .map(|c| format!("{c} {}", b.class(c)))
        .collect();
    println!("   jit by class: {}", classes.join(", "));
    println!(
        "   BPF instructions executed: {} ({:.2}x native: the ratio a one-to-one translation would give)",
        b.bpf_executed,
        b.bpf_executed as f64 / native
    );
    if b.unattributed > 0 {
        println!("   unattributed: {}", b.unattributed);
    }
    let without = |classes: &[&str]| {
        let saved: u64 = classes.iter().map(|c| b.class(c)).sum();
        (total - saved) as f64 / native
    };
    println!(
        "   ratio {:.2}; without zext {:.2}; without zext+sext {:.2}; \
         without zext+sext+const {:.2}; without zext+sext+const+copy {:.2}",
        total as f64 / native,
        without(&["zext"]),
        without(&["zext", "sext"]),
        without(&["zext", "sext", "const"]),
        without(&["zext", "sext", "const", "copy"]),
    );
    for (owner, n, classes) in b.hottest(HOTTEST) {
        let detail: Vec<String> = classes.iter().map(|(c, k)| format!("{c} {k}")).collect();
        println!("   {n:>8}  {owner:<40} [{}]", detail.join(", "));
    }
}
