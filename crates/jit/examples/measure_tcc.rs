//! Measures the three tail-call counter schemes (`TccScheme::{Reg, Stack,
//! Ptr}`) and prints markdown tables:
//!
//! ```text
//! cargo run --release -p rvbpf-jit --example measure_tcc
//! ```
//!
//! * (a) per operation — bpf2bpf call, helper call, tail call (miss and
//!   hit): RV64 instructions, loads and stores (stack ones separately)
//!   added per operation, from minimal programs run in the rv64 emulator
//!   and differenced (`(with − without) / n`), where the added instructions
//!   retire (call site, prologue, epilogue ...), and the static bytes of
//!   the call site and of the prologues/epilogues;
//! * (b) the ported selftests `tests/bpf/*.o`: total code bytes per scheme
//!   and the cost of five representative scenario runs;
//! * (c) code bytes per BPF instruction over the bpf_conformance corpus.
//!
//! `-- --listings` also prints the annotated listing of every measured
//! part-(a) program.
//!
//! Every count is exact (the emulator counts retired instructions and
//! memory accesses); all code is compiled for rv64gc unless a table says
//! otherwise.

mod measure_support;

use measure_support::corpus::{corpus_dir, corpus_totals};
use measure_support::micro::{self, measure_all, Op, OpMeasurement, Variant};
use measure_support::sections::Section;
use measure_support::selftests::{code_totals, measure_run, RUNS};
use rvbpf_jit::TccScheme;
use rvbpf_rv64::Target;

const SCHEMES: [TccScheme; 3] = [TccScheme::Reg, TccScheme::Stack, TccScheme::Ptr];
const TARGETS: [&str; 4] = ["rv64g", "rv64gc", "rv64g_zba_zbb", "rv64gc_zba_zbb"];

fn main() {
    let rows = measure_all("rv64gc").unwrap_or_else(|e| panic!("part (a): {e}"));
    for r in &rows {
        assert_eq!(
            r.results.0,
            micro::expected_result(r.op),
            "{:?} {:?}: wrong result",
            r.op,
            r.variant
        );
    }
    if std::env::args().any(|a| a == "--listings") {
        for r in &rows {
            println!(
                "### {} / {}\n```{}```\n",
                r.op.describe(),
                r.variant.name(),
                r.listing
            );
        }
    }
    print_per_op(&rows);
    print_static(&rows);
    summarize_targets();
    print_selftests();
    print_corpus();
}

fn f(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn print_per_op(rows: &[OpMeasurement]) {
    let (n, n2, k) = (micro::LOOP_N, 2 * micro::LOOP_N, micro::TAIL_K);
    println!(
        "## (a) Cost added per operation (rv64gc, retired in the emulator)\n\n\
         Per loop iteration with the operation minus per iteration without it (each \
         from runs of {n} and {n2} iterations, so one-time costs cancel); taken tail \
         call: {k} self tail calls minus none, divided by {k}. `none` = the program \
         has no tail call at all (no counter code). Stack = accesses whose address \
         lies in the stack region (found by replaying the trace). The last columns \
         say where the added instructions retire: the operation's own lowering \
         (site), prologues, epilogues, the rest of the BPF body.\n"
    );
    println!(
        "| operation | scheme | insns | loads | stores | stack ld | stack st | site | prologue | epilogue | body |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let p = &r.per_op;
        let s = |sec: Section| f(p.by_section[sec as usize]);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.op.describe(),
            r.variant.name(),
            f(p.insns),
            f(p.loads),
            f(p.stores),
            f(p.stack_loads),
            f(p.stack_stores),
            s(Section::Site),
            s(Section::Prologue) + &header_note(p.by_section[Section::Header as usize]),
            s(Section::Epilogue),
            s(Section::Body),
        );
    }
    println!();
    println!(
        "Notes: the tail-calling callee has a guard (`jne r2, NEVER`) that adds one \
         compare per call under every scheme. A taken tail call includes re-entering \
         the program: its prologue and its BPF instructions up to the next `call 12`.\n"
    );
}

/// Header instructions only run on a fresh entry; mention them if any.
fn header_note(v: f64) -> String {
    if v == 0.0 {
        String::new()
    } else {
        format!(" (+{} hdr)", f(v))
    }
}

fn print_static(rows: &[OpMeasurement]) {
    println!("## (a) Static code bytes (rv64gc)\n");
    println!(
        "| operation | scheme | site bytes | entry prologue | entry epilogue | callee prologue | callee epilogue | program text |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let s = &r.static_cost;
        let (cp, ce) = s.callee.map_or(("-".to_string(), "-".to_string()), |c| {
            (c.prologue.to_string(), c.epilogue.to_string())
        });
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.op.describe(),
            r.variant.name(),
            s.site_bytes,
            s.entry.prologue,
            s.entry.epilogue,
            cp,
            ce,
            s.text_bytes
        );
    }
    println!(
        "\n(every function also has a 12-byte header: patch site + tcc init; an epilogue's \
         bytes include the `c.nop` that aligns the next function)\n"
    );
}

/// Sum of the per-operation costs over the five operations, per target
/// and scheme: a one-line answer to "which is cheapest".
fn summarize_targets() {
    println!("## (a) Summary: per-operation costs summed over the 5 operations\n");
    println!("| target | scheme | insns | loads | stores | stack ld+st | site bytes | program text bytes |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for target in TARGETS {
        let rows = measure_all(target).unwrap_or_else(|e| panic!("part (a), {target}: {e}"));
        for scheme in SCHEMES {
            let mine: Vec<_> = rows
                .iter()
                .filter(|r| r.variant == Variant::Scheme(scheme))
                .collect();
            for r in &mine {
                assert_eq!(
                    r.results.0,
                    micro::expected_result(r.op),
                    "{target} {:?}",
                    r.op
                );
            }
            let sum = |g: &dyn Fn(&OpMeasurement) -> f64| mine.iter().map(|r| g(r)).sum::<f64>();
            println!(
                "| {target} | {} | {} | {} | {} | {} | {} | {} |",
                Variant::Scheme(scheme).name(),
                f(sum(&|r| r.per_op.insns)),
                f(sum(&|r| r.per_op.loads)),
                f(sum(&|r| r.per_op.stores)),
                f(sum(&|r| r.per_op.stack_loads + r.per_op.stack_stores)),
                f(sum(&|r| r.static_cost.site_bytes as f64)),
                f(sum(&|r| r.static_cost.text_bytes as f64)),
            );
        }
    }
    let ops: Vec<_> = Op::ALL.iter().map(|o| o.describe()).collect();
    println!(
        "\n(operations: {}; program text = the five measured programs' whole text)\n",
        ops.join("; ")
    );
}

fn print_selftests() {
    println!("## (b) Ported selftests `tests/bpf/*.o`: code size (rv64gc)\n");
    println!(
        "| scheme | objects | programs | rejected | BPF slots | text bytes | bytes/slot | headers | prologues | bodies | epilogues | pool bytes |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for scheme in SCHEMES {
        let t = code_totals("rv64gc", scheme);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {} |",
            Variant::Scheme(scheme).name(),
            t.objects,
            t.programs,
            t.rejected,
            t.bpf_slots,
            t.text_bytes,
            t.text_bytes as f64 / t.bpf_slots.max(1) as f64,
            t.parts.header,
            t.parts.prologue,
            t.parts.body,
            t.parts.epilogue,
            t.pool_bytes
        );
    }
    println!("\n(rejected = programs the verifier refuses: the `reject_*` fixtures, on purpose)\n");
    println!(
        "## (b) Scenario runs (rv64gc; result and globals checked against tests/bpf/README.md)\n"
    );
    println!(
        "| scenario | scheme | insns | loads | stores | stack ld | stack st | in headers+prologues+epilogues |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut totals = [[0u64; 6]; 3];
    for run in &RUNS {
        for (i, scheme) in SCHEMES.into_iter().enumerate() {
            let s = measure_run(run, scheme).unwrap_or_else(|e| panic!("{e}"));
            let frame: u64 = [Section::Header, Section::Prologue, Section::Epilogue]
                .iter()
                .map(|&sec| s.by_section[sec as usize])
                .sum();
            let v = [
                s.insns,
                s.loads,
                s.stores,
                s.stack_loads,
                s.stack_stores,
                frame,
            ];
            for (t, x) in totals[i].iter_mut().zip(v) {
                *t += x;
            }
            println!(
                "| {} | {} | {} |",
                run.name,
                Variant::Scheme(scheme).name(),
                join(&v)
            );
        }
    }
    for (i, scheme) in SCHEMES.into_iter().enumerate() {
        println!(
            "| **total** | {} | {} |",
            Variant::Scheme(scheme).name(),
            join(&totals[i])
        );
    }
    println!();
}

fn join(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(" | ")
}

fn print_corpus() {
    println!("## (c) bpf_conformance corpus: code bytes per BPF instruction slot\n");
    let Some(dir) = corpus_dir() else {
        println!("(corpus not found next to the repository: skipped)\n");
        return;
    };
    let targets = [
        Target::RV64G,
        Target::RV64GC,
        Target {
            c: false,
            zba: true,
            zbb: true,
        },
        Target::RV64GC_ZBA_ZBB,
    ];
    println!("| target | files | skipped | BPF slots | text bytes | bytes/slot |");
    println!("|---|---:|---:|---:|---:|---:|");
    for t in corpus_totals(&dir, &targets) {
        println!(
            "| {} | {} | {} | {} | {} | {:.2} |",
            t.target,
            t.files,
            t.skipped,
            t.bpf_slots,
            t.text_bytes,
            t.bytes_per_insn()
        );
    }
    println!(
        "\n(text = headers, prologues, epilogues and body; literal pool excluded; \
         corpus programs have no tail calls, so the scheme does not change them)"
    );
}
