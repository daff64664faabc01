//! Prints code size per BPF instruction for the clang-built fixtures on
//! each target: `cargo run -p rvbpf-jit --example code_size`.

use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_jit::{compile, JitOptions, TccScheme};
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let env = VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| true,
        entry_args: 1,
    };
    let targets = ["rv64g", "rv64gc", "rv64gc_zba_zbb"];
    println!(
        "{:<40} {:>6} {}",
        "program",
        "insns",
        targets.map(|t| format!("{t:>16}")).join("")
    );
    let mut totals = [0usize; 3];
    let mut total_insns = 0;
    for dir in ["crates/ebpf/tests/fixtures", "tests/bpf"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "o"))
        {
            let Ok(obj) = load_elf("x", &std::fs::read(path).unwrap()) else {
                continue;
            };
            for i in 0..obj.programs.len() {
                let Ok(prog) = verify(&obj, i, &env) else {
                    continue;
                };
                let n = prog.insts().len();
                let mut row = String::new();
                for (k, t) in targets.iter().enumerate() {
                    let opts = JitOptions {
                        target: t.parse().unwrap(),
                        tcc: TccScheme::Reg,
                        ..JitOptions::default()
                    };
                    let image = compile(&prog, &opts).unwrap();
                    totals[k] += image.text_len;
                    row.push_str(&format!(
                        "{:>9} {:>5.2}/i",
                        image.text_len,
                        image.text_len as f64 / n as f64
                    ));
                }
                total_insns += n;
                let name = format!(
                    "{}:{}",
                    path.file_stem().unwrap().to_string_lossy(),
                    prog.name()
                );
                println!("{name:<40} {n:>6} {row}");
            }
        }
    }
    let row: String = totals
        .iter()
        .map(|&b| format!("{b:>9} {:>5.2}/i", b as f64 / total_insns as f64))
        .collect();
    println!("{:<40} {total_insns:>6} {row}", "TOTAL");
}
