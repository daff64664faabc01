//! The measurement harness of `examples/measure_tcc.rs` runs, and its
//! programs compute what they should on every scheme. Costs are asserted
//! only where the crate's design doc fixes them (the tail-call sequence,
//! the helper call sequence, the 12-byte header); nothing here is timing.

#[path = "../examples/measure_support/mod.rs"]
mod measure_support;

use measure_support::corpus::{corpus_dir, corpus_totals};
use measure_support::micro::{measure_all, measure_op, Op, Variant, LOOP_N, TAIL_K};
use measure_support::sections::{function_bytes, pieces, Section};
use measure_support::selftests::{code_totals, measure_run, RUNS};
use rvbpf_jit::{TccScheme, TAIL_CALL_ENTRY_OFFSET};
use rvbpf_rv64::Target;

const SCHEMES: [TccScheme; 3] = [TccScheme::Reg, TccScheme::Stack, TccScheme::Ptr];

#[test]
fn every_measured_program_computes_its_result_on_every_scheme() {
    // Loops add r7 = n, n-1, ..., 1: 64 * 65 / 2 = 2080, with or without
    // the operation. The self tail-calling program returns 7 and has
    // counted its map counter from TAIL_K down to 0 (every tail call taken).
    assert_eq!(LOOP_N, 64);
    for target in ["rv64g", "rv64gc", "rv64g_zba_zbb", "rv64gc_zba_zbb"] {
        for m in measure_all(target).expect("harness runs") {
            let tag = format!("{target} {:?} {}", m.op, m.variant.name());
            match m.op {
                Op::TailCallHit => {
                    assert_eq!(m.results, (7, 7), "{tag}");
                    assert_eq!(m.counter_after, 0, "{tag}: {TAIL_K} tail calls");
                }
                _ => assert_eq!(m.results, (2080, 2080), "{tag}"),
            }
        }
    }
}

#[test]
fn differences_are_whole_numbers() {
    // run(2N) - run(N) removes every one-time cost, so an operation costs
    // a whole number of instructions and accesses.
    for m in measure_all("rv64gc").expect("harness runs") {
        let p = m.per_op;
        for v in [p.insns, p.loads, p.stores, p.stack_loads, p.stack_stores]
            .into_iter()
            .chain(p.by_section)
        {
            assert_eq!(v.fract(), 0.0, "{:?} {}: {v}", m.op, m.variant.name());
        }
        assert_eq!(p.by_section[Section::Outside as usize], 0.0);
    }
}

#[test]
fn helper_call_site_is_the_documented_sequence() {
    // Crate docs: `auipc t1; ld t1; jalr ra, 0(t1); mv a5, a0` — four
    // instructions, one (pool) load, no stack access, without counter code.
    let m = measure_op(Op::Helper, Variant::NoTailCalls, "rv64gc").unwrap();
    assert_eq!(m.per_op.by_section[Section::Site as usize], 4.0);
    assert_eq!((m.per_op.loads, m.per_op.stores), (1.0, 0.0));
    assert_eq!(m.per_op.stack_loads + m.per_op.stack_stores, 0.0);
}

#[test]
fn failed_tail_call_reads_the_count_where_the_scheme_keeps_it() {
    // Crate docs, tail-call sequence on an empty slot: every scheme loads
    // max_entries and the entry (2 loads, not on the stack); `reg` has the
    // count in a6, `stack` loads it from the frame slot, `ptr` from the
    // counter home in the entry frame: one more load, on the stack. A
    // failure commits nothing: no store.
    for (scheme, loads, stack_loads) in [
        (TccScheme::Reg, 2.0, 0.0),
        (TccScheme::Stack, 3.0, 1.0),
        (TccScheme::Ptr, 3.0, 1.0),
    ] {
        let m = measure_op(Op::TailCallMiss, Variant::Scheme(scheme), "rv64gc").unwrap();
        let p = m.per_op;
        assert_eq!((p.loads, p.stack_loads), (loads, stack_loads), "{scheme:?}");
        assert_eq!(p.stores, 0.0, "{scheme:?}");
    }
}

#[test]
fn taken_tail_call_touches_the_stack_more_under_stack_and_ptr() {
    // `ptr` stores the decremented counter through the pointer (sd t0,
    // 0(p)); `stack` keeps a6 and stores it into the callee's slot in the
    // prologue; `reg` only decrements a6. So each of stack and ptr does at
    // least one more stack load and store per taken tail call than reg.
    let per = |s| {
        measure_op(Op::TailCallHit, Variant::Scheme(s), "rv64gc")
            .unwrap()
            .per_op
    };
    let reg = per(TccScheme::Reg);
    for s in [TccScheme::Stack, TccScheme::Ptr] {
        let p = per(s);
        assert!(p.stack_loads > reg.stack_loads, "{s:?}");
        assert!(p.stack_stores > reg.stack_stores, "{s:?}");
    }
}

#[test]
fn every_function_header_is_twelve_bytes() {
    for m in measure_all("rv64gc").expect("harness runs") {
        let s = m.static_cost;
        assert_eq!(s.entry.header, TAIL_CALL_ENTRY_OFFSET);
        if let Some(c) = s.callee {
            assert_eq!(c.header, TAIL_CALL_ENTRY_OFFSET);
        }
    }
}

#[test]
fn listing_pieces_tile_the_text() {
    let obj = rvbpf_ebpf::asm::assemble_object(
        "t",
        "mov %r0, 1\ncall local f\nexit\nf:\nmov %r0, 2\nexit",
    )
    .unwrap();
    let env = rvbpf_ebpf::verifier::VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| true,
        entry_args: 1,
    };
    let prog = rvbpf_ebpf::verifier::verify(&obj, 0, &env).unwrap();
    let image = rvbpf_jit::compile(&prog, &Default::default()).unwrap();
    let ps = pieces(&image);
    // Contiguous from 0, in order, ending at the text's end (up to the
    // padding before the pool, which the listing does not show).
    let mut at = 0;
    for p in &ps {
        assert_eq!(p.offset, at, "{}", image.listing());
        at += p.len;
    }
    assert!(image.text_len - at < 8, "{at} of {}", image.text_len);
    let parts: usize = (0..image.functions.len())
        .map(|f| {
            let b = function_bytes(&image, f);
            b.header + b.prologue + b.body + b.epilogue
        })
        .sum();
    assert_eq!(parts, at);
}

#[test]
fn selftest_scenario_runs_give_the_readme_results_on_every_scheme() {
    // measure_run checks the result and globals from tests/bpf/README.md.
    for run in &RUNS {
        for s in SCHEMES {
            let stats = measure_run(run, s).unwrap_or_else(|e| panic!("{e}"));
            assert!(stats.insns > 0);
        }
    }
}

#[test]
fn selftest_code_totals_cover_the_same_programs_on_every_scheme() {
    let totals: Vec<_> = SCHEMES.iter().map(|&s| code_totals("rv64gc", s)).collect();
    assert!(totals[0].programs > 0);
    for t in &totals {
        assert_eq!(
            (t.objects, t.programs, t.rejected, t.bpf_slots),
            (
                totals[0].objects,
                totals[0].programs,
                totals[0].rejected,
                totals[0].bpf_slots
            )
        );
    }
}

#[test]
fn compressed_targets_need_fewer_bytes_per_insn_on_the_corpus() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIP: bpf_conformance corpus not found next to the repository");
        return;
    };
    let t = corpus_totals(&dir, &[Target::RV64G, Target::RV64GC]);
    assert!(t[0].files > 0);
    assert_eq!(t[0].bpf_slots, t[1].bpf_slots);
    // Every compressible instruction shrinks from 4 to 2 bytes with C.
    assert!(t[1].bytes_per_insn() < t[0].bytes_per_insn());
}

/// Runs `run` on the runtime's JIT engine (its own ctx, maps, prog arrays
/// and tail-call thunks); returns (r0, insns retired, loads, stores).
fn runtime_run(run: &measure_support::selftests::ScenarioRun, tcc: TccScheme) -> [u64; 4] {
    use rvbpf::{Ctx, Engine, JitConfig, Vm};
    let mut vm = Vm::new();
    let path = measure_support::selftests::fixture_dir().join(run.file);
    let obj = vm.load_elf_file(path).unwrap();
    for &(map, slot, prog) in run.slots {
        let m = vm.map(obj, map).unwrap();
        let p = vm.program(obj, prog).unwrap();
        vm.prog_array_set(m, slot, p).unwrap();
    }
    let p = vm.program(obj, run.program).unwrap();
    let engine = Engine::Jit(JitConfig {
        target: Target::RV64GC,
        tcc,
        ..JitConfig::default()
    });
    let out = vm
        .run(p, &Ctx::new(run.input.bytes()), engine)
        .unwrap_or_else(|e| panic!("{} {tcc:?}: {e}", run.name));
    let s = out.stats;
    [out.ret, s.insns_retired, s.loads, s.stores]
}

#[test]
fn scheme_costs_agree_with_the_runtime_jit_engine() {
    // Two independent setups of the same scenario — this harness (hand-made
    // __sk_buff, prog-array views pointing at program entries) and the
    // runtime's engine (its own ctx, maps, and a counting thunk in front of
    // every tail callee) — must see the same result, and the same extra
    // cost of one scheme over another: the counter code is all that
    // differs between schemes, whatever surrounds it.
    for run in &RUNS {
        let ours: Vec<[u64; 4]> = SCHEMES
            .iter()
            .map(|&s| {
                let m = measure_run(run, s).unwrap_or_else(|e| panic!("{e}"));
                [m.result, m.insns, m.loads, m.stores]
            })
            .collect();
        let theirs: Vec<[u64; 4]> = SCHEMES.iter().map(|&s| runtime_run(run, s)).collect();
        for i in 0..SCHEMES.len() {
            assert_eq!(
                ours[i][0], theirs[i][0] as u32 as u64,
                "{} result",
                run.name
            );
            for k in 1..4 {
                assert_eq!(
                    theirs[i][k] as i64 - theirs[0][k] as i64,
                    ours[i][k] as i64 - ours[0][k] as i64,
                    "{} {:?} vs Reg, counter {k}",
                    run.name,
                    SCHEMES[i]
                );
            }
        }
    }
}
