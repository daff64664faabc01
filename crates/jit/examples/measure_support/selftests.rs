//! Part (b): the ported Linux tail-call selftests (`tests/bpf/*.o`) —
//! total code size of every program that loads, and the cost of a few
//! representative scenario runs, each set up as `tests/bpf/README.md`
//! says (prog-array slots, input) and checked against its expected result.
//!
//! The tc programs get a `__sk_buff` built here with the fields these
//! scenarios read: `len` @0, `data` @76, `data_end` @80 (32-bit, the packet
//! lies below 4 GiB), the packet right behind it in the ctx region.

use super::common::emu::CTX_BASE;
use super::common::opts;
use super::common::scenario::{load, Scenario};
use super::run::{measured_run, MeasureError, RunStats};
use super::sections::{function_bytes, FunctionBytes, SectionMap};
use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_jit::{compile, TccScheme};
use std::path::{Path, PathBuf};

const SKB_LEN: u64 = 0;
const SKB_DATA: u64 = 76;
const SKB_DATA_END: u64 = 80;
/// Where the packet starts, inside the emulator's ctx region.
const PACKET_AT: u64 = CTX_BASE + 0x200;

/// The selftests' inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// 128 zero bytes.
    Zero128,
    /// 54 bytes: Ethernet (zero MACs, type 0x0800), IPv4, TCP.
    PktV4,
}

impl Input {
    /// The input bytes (the packet).
    pub fn bytes(self) -> Vec<u8> {
        match self {
            Input::Zero128 => vec![0; 128],
            Input::PktV4 => {
                let mut p = vec![0u8; 54];
                p[12..14].copy_from_slice(&[0x08, 0x00]);
                p[14] = 0x45; // IPv4, 20-byte header
                p[16..18].copy_from_slice(&40u16.to_be_bytes()); // total length
                p[23] = 6; // TCP
                p[46] = 0x50; // TCP data offset: 20 bytes
                p
            }
        }
    }
}

/// A scenario run and what it must produce.
pub struct ScenarioRun {
    pub name: &'static str,
    pub file: &'static str,
    /// (map, slot, program) beyond the static initialisers.
    pub slots: &'static [(&'static str, u32, &'static str)],
    pub input: Input,
    pub program: &'static str,
    pub result: u64,
    /// Globals and their expected values after the run.
    pub globals: &'static [(&'static str, u32)],
}

/// The representative runs (expected values from `tests/bpf/README.md`).
pub const RUNS: [ScenarioRun; 5] = [
    ScenarioRun {
        name: "tailcall_3",
        file: "tailcall3.o",
        slots: &[("jmp_table", 0, "classifier_0")],
        input: Input::Zero128,
        program: "entry",
        result: 1,
        globals: &[("count", 33)],
    },
    ScenarioRun {
        name: "tailcall_bpf2bpf_2",
        file: "tailcall_bpf2bpf2.o",
        slots: &[("jmp_table", 0, "classifier_0")],
        input: Input::Zero128,
        program: "entry",
        result: 1,
        globals: &[("count", 33)],
    },
    ScenarioRun {
        name: "hierarchy_1",
        file: "tailcall_bpf2bpf_hierarchy1.o",
        slots: &[("jmp_table", 0, "entry")],
        input: Input::PktV4,
        program: "entry",
        result: 1,
        globals: &[("count", 34)],
    },
    ScenarioRun {
        name: "hierarchy_2",
        file: "tailcall_bpf2bpf_hierarchy2.o",
        slots: &[],
        input: Input::PktV4,
        program: "entry",
        result: 33,
        globals: &[("count0", 33), ("count1", 0)],
    },
    ScenarioRun {
        name: "hierarchy_3",
        file: "tailcall_bpf2bpf_hierarchy3.o",
        slots: &[],
        input: Input::PktV4,
        program: "entry",
        result: 33,
        globals: &[("count", 33)],
    },
];

/// Why a scenario measurement failed.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{name} {scheme:?}: {source}")]
    Run {
        name: &'static str,
        scheme: TccScheme,
        source: MeasureError,
    },
    #[error("{name} {scheme:?}: {what} is {got}, expected {want}")]
    Wrong {
        name: &'static str,
        scheme: TccScheme,
        what: String,
        got: u64,
        want: u64,
    },
}

/// Writes the `__sk_buff` and packet for `input` into the scenario's ctx.
fn set_input(s: &mut Scenario, input: Input) {
    let pkt = input.bytes();
    let mem = &mut s.world.mem;
    let end = PACKET_AT + pkt.len() as u64;
    mem.write(PACKET_AT, &pkt).expect("ctx region");
    mem.write_u32(CTX_BASE + SKB_LEN, pkt.len() as u32)
        .expect("ctx region");
    mem.write_u32(CTX_BASE + SKB_DATA, PACKET_AT as u32)
        .expect("ctx region");
    mem.write_u32(CTX_BASE + SKB_DATA_END, end as u32)
        .expect("ctx region");
}

/// Runs `run` under `scheme` (rv64gc), checks its outcome, returns its cost.
pub fn measure_run(run: &ScenarioRun, scheme: TccScheme) -> Result<RunStats, ScenarioError> {
    let mut s = load(run.file, &opts("rv64gc", scheme), run.slots);
    set_input(&mut s, run.input);
    let k = s
        .obj
        .programs
        .iter()
        .position(|p| p.name == run.program)
        .expect("scenario names an existing program");
    let images = recompile_all(&s, scheme);
    let refs: Vec<_> = images.iter().collect();
    let sections = SectionMap::new(&refs, &s.world.entries, &[]);
    let stats = measured_run(&mut s.world, k, &[CTX_BASE], &sections, &mut |n, _, _| {
        panic!("{}: unexpected helper {n}", run.name)
    })
    .map_err(|source| ScenarioError::Run {
        name: run.name,
        scheme,
        source,
    })?;
    let wrong = |what: String, got: u64, want: u64| ScenarioError::Wrong {
        name: run.name,
        scheme,
        what,
        got,
        want,
    };
    if stats.result != run.result {
        return Err(wrong("result".into(), stats.result, run.result));
    }
    for &(g, want) in run.globals {
        let got = s.global(g);
        if got != want {
            return Err(wrong(format!("global {g}"), got.into(), want.into()));
        }
    }
    Ok(stats)
}

/// The scenario loader keeps only the linked code; the section map needs
/// the images, so compile them again (compilation is deterministic).
fn recompile_all(s: &Scenario, scheme: TccScheme) -> Vec<rvbpf_jit::Image> {
    (0..s.obj.programs.len())
        .map(|i| {
            let prog = verify(&s.obj, i, &ENV).expect("verified by the loader");
            compile(&prog, &opts("rv64gc", scheme)).expect("compiled by the loader")
        })
        .collect()
}

const ENV: VerifyEnv<'static> = VerifyEnv {
    helper_known: &|_| true,
    kfunc_known: &|_| true,
    entry_args: 1,
};

/// Code size of every program of `tests/bpf/*.o` under one scheme.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeTotals {
    pub objects: usize,
    /// Programs verified and compiled.
    pub programs: usize,
    /// Programs the verifier rejects (the `reject_*` fixtures, on purpose).
    pub rejected: usize,
    /// BPF instruction slots of the compiled programs.
    pub bpf_slots: usize,
    /// Text bytes (instructions; pool excluded).
    pub text_bytes: usize,
    /// Of the text: every function's parts (see `sections`).
    pub parts: FunctionBytes,
    /// Literal-pool bytes.
    pub pool_bytes: usize,
}

/// The fixture directory (`tests/bpf` of the repository).
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bpf")
}

/// Compiles every program of every fixture object for `target`/`scheme`.
pub fn code_totals(target: &str, scheme: TccScheme) -> CodeTotals {
    let mut t = CodeTotals::default();
    let mut paths: Vec<_> = std::fs::read_dir(fixture_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "o"));
    paths.sort();
    for path in paths {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(obj) = load_elf(&path.to_string_lossy(), &bytes) else {
            continue;
        };
        t.objects += 1;
        for i in 0..obj.programs.len() {
            let Ok(prog) = verify(&obj, i, &ENV) else {
                t.rejected += 1;
                continue;
            };
            let Ok(image) = compile(&prog, &opts(target, scheme)) else {
                t.rejected += 1;
                continue;
            };
            t.programs += 1;
            t.bpf_slots += prog.insts().len();
            t.text_bytes += image.text_len;
            for f in 0..image.functions.len() {
                let b = function_bytes(&image, f);
                t.parts.header += b.header;
                t.parts.prologue += b.prologue;
                t.parts.body += b.body;
                t.parts.epilogue += b.epilogue;
            }
            t.pool_bytes += 8 * image.pool.len();
        }
    }
    t
}
