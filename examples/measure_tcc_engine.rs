//! The selftest scenario runs of `tests/bpf` on the runtime's JIT engine
//! (`Engine::Jit`, code run in the rv64 emulator), once per tail-call
//! counter scheme, with the runtime's own context (a real `__sk_buff`) and
//! prog arrays; prints the exact RV64 counts of `Outcome::stats` as a
//! markdown table:
//!
//! ```text
//! cargo run --release --example measure_tcc_engine
//! ```
//!
//! Every run's result and globals are checked against `tests/bpf/README.md`
//! first. The engine enters a tail callee through a per-program thunk that
//! counts the tail call for `Stats::tail_calls` (6 instructions, 1 load, 1
//! store, the same under every scheme), so these totals exceed those of the
//! JIT crate's harness (which has no thunk) by exactly that per tail call. The per-operation costs and code sizes are measured by the JIT
//! crate's `cargo run --release -p rvbpf-jit --example measure_tcc`.

use rvbpf::{Ctx, Engine, JitConfig, Vm};
use rvbpf_jit::TccScheme;
use rvbpf_rv64::Target;
use std::path::PathBuf;

/// A scenario run: object, prog-array slots (`jmp_table` key → program),
/// input, program, expected result and globals (tests/bpf/README.md).
struct Run {
    name: &'static str,
    file: &'static str,
    slots: &'static [(u32, &'static str)],
    input: &'static [u8],
    program: &'static str,
    result: u64,
    globals: &'static [(&'static str, u64)],
}

const ZERO128: [u8; 128] = [0; 128];

/// The selftests' pkt_v4 (54 bytes: Ethernet type 0x0800, IPv4, TCP).
#[rustfmt::skip]
const PKT_V4: [u8; 54] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x26, 0xce,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x30, 0x39, 0x00, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
];

const RUNS: [Run; 5] = [
    Run {
        name: "tailcall_3",
        file: "tailcall3",
        slots: &[(0, "classifier_0")],
        input: &ZERO128,
        program: "entry",
        result: 1,
        globals: &[("count", 33)],
    },
    Run {
        name: "tailcall_bpf2bpf_2",
        file: "tailcall_bpf2bpf2",
        slots: &[(0, "classifier_0")],
        input: &ZERO128,
        program: "entry",
        result: 1,
        globals: &[("count", 33)],
    },
    Run {
        name: "hierarchy_1",
        file: "tailcall_bpf2bpf_hierarchy1",
        slots: &[(0, "entry")],
        input: &PKT_V4,
        program: "entry",
        result: 1,
        globals: &[("count", 34)],
    },
    Run {
        name: "hierarchy_2",
        file: "tailcall_bpf2bpf_hierarchy2",
        slots: &[],
        input: &PKT_V4,
        program: "entry",
        result: 33,
        globals: &[("count0", 33), ("count1", 0)],
    },
    Run {
        name: "hierarchy_3",
        file: "tailcall_bpf2bpf_hierarchy3",
        slots: &[],
        input: &PKT_V4,
        program: "entry",
        result: 33,
        globals: &[("count", 33)],
    },
];

const SCHEMES: [TccScheme; 3] = [TccScheme::Reg, TccScheme::Stack, TccScheme::Ptr];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/bpf/{name}.o"))
}

/// Loads the run's object into a fresh `Vm`, fills its slots, runs it on
/// `engine` and checks the README's values; returns the outcome's stats.
fn measure(run: &Run, engine: Engine) -> Result<rvbpf::Stats, String> {
    let mut vm = Vm::new();
    let obj = vm
        .load_elf_file(fixture(run.file))
        .map_err(|e| format!("{}: load: {e}", run.name))?;
    for &(key, prog) in run.slots {
        let map = vm.map(obj, "jmp_table").map_err(|e| e.to_string())?;
        let p = vm.program(obj, prog).map_err(|e| e.to_string())?;
        vm.prog_array_set(map, key, p)
            .map_err(|e| format!("{}: slot {key}: {e}", run.name))?;
    }
    let p = vm.program(obj, run.program).map_err(|e| e.to_string())?;
    let out = vm
        .run(p, &Ctx::new(run.input), engine)
        .map_err(|e| format!("{} on {engine}: {e}", run.name))?;
    if out.ret as u32 as u64 != run.result {
        return Err(format!(
            "{} on {engine}: returned {}, expected {}",
            run.name, out.ret, run.result
        ));
    }
    for &(g, want) in run.globals {
        let got = vm
            .global(obj, g)
            .ok()
            .and_then(|v| v.as_int())
            .ok_or_else(|| format!("{}: no integer global {g}", run.name))?;
        if got != want {
            return Err(format!(
                "{} on {engine}: {g} = {got}, expected {want}",
                run.name
            ));
        }
    }
    Ok(out.stats)
}

fn main() {
    println!("## Selftest scenario runs on the runtime's JIT engine (rv64gc, emulator)\n");
    println!("| scenario | scheme | RV64 insns | loads | stores | tail calls | code bytes |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut totals = [[0u64; 3]; 3];
    for run in &RUNS {
        for (i, tcc) in SCHEMES.into_iter().enumerate() {
            let engine = Engine::Jit(JitConfig {
                target: Target::RV64GC,
                tcc,
                ..JitConfig::default()
            });
            let s = measure(run, engine).unwrap_or_else(|e| panic!("{e}"));
            for (t, v) in totals[i]
                .iter_mut()
                .zip([s.insns_retired, s.loads, s.stores])
            {
                *t += v;
            }
            println!(
                "| {} | {tcc:?} | {} | {} | {} | {} | {} |",
                run.name, s.insns_retired, s.loads, s.stores, s.tail_calls, s.code_bytes
            );
        }
    }
    for (i, tcc) in SCHEMES.into_iter().enumerate() {
        let [insns, loads, stores] = totals[i];
        println!("| **total** | {tcc:?} | {insns} | {loads} | {stores} | | |");
    }
    println!(
        "\n(each successful tail call includes the engine's counting thunk: 6 instructions, \
         1 load, 1 store on every scheme; code bytes = the run's code region)"
    );
}
