//! What `Sandbox::Masked` costs over `Sandbox::None`:
//!
//! ```text
//! cargo run --release -p rvbpf-jit --example measure_sandbox [-- --len N]
//! ```
//!
//! 1. Static, over the bpf_conformance and ubpf corpora (every file with a
//!    program that assembles, verifies with two entry arguments and
//!    compiles): RV64 instructions and text bytes, and how many loads,
//!    stores and atomics are masked (base register other than r10).
//! 2. Dynamic, over the C kernels of `measure_kernels` (clang's BPF code on
//!    a `--len`-byte input, default 1024): instructions retired in the
//!    emulator, next to clang's native riscv64 code, and text bytes.
//!
//! When written (rv64gc): the corpus grows by 8.2% in instructions and
//! 9.4% in bytes (573 instructions for its 168 masked accesses and the
//! masked prologues, 3.4 per access); the kernels retire 4%
//! (crc32, table lookups among much arithmetic) to 40% (checksum, a byte
//! load per 2.5 instructions) more.
//! Each access costs `slli; srli` plus an `addi` when the offset is not 0
//! (and each prologue that sets r10 another `slli; srli`);
//! the plain access often had a compressed form (`c.ld rd', off(rs')`)
//! that `0(t4)` loses, since t4 is not a compressible register.

#[path = "../benches/kernels_support/mod.rs"]
mod kernels_support;

use kernels_support::{bpf, load_native, Loaded, KERNELS, VARIANTS};
use rvbpf_ebpf::asm::{assemble_object, object_from_insts};
use rvbpf_ebpf::data_file;
use rvbpf_ebpf::inst::{decode_program, Inst, Reg};
use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv};
use rvbpf_jit::{compile, Image, JitOptions, Sandbox};
use rvbpf_rv64::{decode, Target};
use std::path::{Path, PathBuf};

const SUITES: [&str; 2] = ["bpf_conformance_tests/tests", "ubpf_tests/tests"];
const TARGETS: [Target; 2] = [Target::RV64GC, Target::RV64GC_ZBA_ZBB];

/// RV64 instructions in the image's text (the pool excluded).
fn instructions(image: &Image) -> usize {
    let (mut at, mut n) = (0, 0);
    while at < image.text_len {
        let (_, len) = decode(&image.code[at..]).expect("the JIT emits valid code");
        at += len;
        n += 1;
    }
    n
}

fn data_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            data_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "data") {
            out.push(p);
        }
    }
}

/// Every verifiable program of the two suites (missing suites are skipped).
fn corpus() -> Vec<VerifiedProgram> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let mut files = Vec::new();
    for suite in SUITES {
        data_files(&root.join(suite), &mut files);
    }
    files.sort();
    let env = VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| false,
        entry_args: 2,
    };
    files
        .iter()
        .filter_map(|path| {
            let case = data_file::load(path).ok()?;
            let obj = match (&case.asm, &case.raw) {
                (Some(asm), _) => assemble_object(&case.name, &asm.text).ok()?,
                (None, Some(raw)) => object_from_insts(&case.name, &decode_program(raw).ok()?),
                _ => return None,
            };
            verify(&obj, 0, &env).ok()
        })
        .collect()
}

/// Loads, stores and atomics whose base is not r10 (the masked ones).
fn masked_accesses(prog: &VerifiedProgram) -> usize {
    prog.insts()
        .iter()
        .filter(|i| match i {
            Inst::Load { src: base, .. }
            | Inst::Store { dst: base, .. }
            | Inst::Atomic { dst: base, .. } => *base != Reg::R10,
            _ => false,
        })
        .count()
}

fn options(target: Target, sandbox: Sandbox) -> JitOptions {
    JitOptions {
        target,
        sandbox,
        ..JitOptions::default()
    }
}

fn percent(base: u64, masked: u64) -> f64 {
    (masked as f64 / base as f64 - 1.0) * 100.0
}

/// Prints the corpus totals; `+insn/acc` and `+B/acc` divide all the extra
/// code (accesses and prologue masks) by the number of masked accesses.
fn corpus_costs(progs: &[VerifiedProgram]) {
    let accesses: usize = progs.iter().map(masked_accesses).sum();
    let slots: usize = progs.iter().map(|p| p.insts().len()).sum();
    println!(
        "corpus: {} programs, {slots} BPF slots, {accesses} masked loads/stores/atomics\n",
        progs.len()
    );
    println!(
        "{:<16} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7} {:>10} {:>10}",
        "target", "insns", "masked", "+%", "bytes", "masked", "+%", "+insn/acc", "+B/acc"
    );
    for target in TARGETS {
        let (mut insns, mut bytes) = ([0u64; 2], [0u64; 2]);
        for prog in progs {
            for (k, sandbox) in [Sandbox::None, Sandbox::Masked].into_iter().enumerate() {
                let Ok(image) = compile(prog, &options(target, sandbox)) else {
                    continue;
                };
                insns[k] += instructions(&image) as u64;
                bytes[k] += image.text_len as u64;
            }
        }
        println!(
            "{:<16} {:>9} {:>9} {:>6.1}% {:>9} {:>9} {:>6.1}% {:>10.2} {:>10.2}",
            target.to_string(),
            insns[0],
            insns[1],
            percent(insns[0], insns[1]),
            bytes[0],
            bytes[1],
            percent(bytes[0], bytes[1]),
            (insns[1] - insns[0]) as f64 / accesses.max(1) as f64,
            (bytes[1] - bytes[0]) as f64 / accesses.max(1) as f64,
        );
    }
}

fn kernel_costs(len: usize) {
    println!("\nkernels, {len}-byte input: RV64 instructions retired (emulator, exact)\n");
    println!(
        "{:<10} {:<15} {:>10} {:>10} {:>10} {:>7} {:>6} {:>6} {:>7} {:>7}",
        "kernel", "target", "native", "jit", "masked", "+%", "ratio", "masked", "jit.B", "mask.B"
    );
    for (target, object) in VARIANTS {
        let parsed: Target = target.parse().expect("variant names are targets");
        for kernel in &KERNELS {
            let input = (kernel.input)(len);
            let (mut native, _) = load_native(kernel, object, &input).expect("native loads");
            let native = native.run().expect("native runs");
            let run = |sandbox| {
                let image = bpf::compile_with(kernel.name, parsed, sandbox).expect("compiles");
                let mut jit = Loaded::new(image.code.clone(), image.entry() as u64, &input)
                    .expect("JIT image loads");
                let r = jit.run().expect("JIT image runs");
                assert_eq!(r.result, native.result, "{} {target}", kernel.name);
                (r.counters.instructions, image.text_len)
            };
            let (plain, plain_bytes) = run(Sandbox::None);
            let (masked, masked_bytes) = run(Sandbox::Masked);
            let n = native.counters.instructions;
            println!(
                "{:<10} {:<15} {:>10} {:>10} {:>10} {:>6.1}% {:>6.2} {:>6.2} {:>7} {:>7}",
                kernel.name,
                target,
                n,
                plain,
                masked,
                percent(plain, masked),
                plain as f64 / n as f64,
                masked as f64 / n as f64,
                plain_bytes,
                masked_bytes,
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let len = args
        .iter()
        .position(|a| a == "--len")
        .and_then(|i| args.get(i + 1))
        .map_or(1024, |v| v.parse().expect("--len takes a number"));
    corpus_costs(&corpus());
    kernel_costs(len);
}
