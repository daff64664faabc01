//! Differential tests: the interpreter (the reference) against every JIT
//! configuration, on random valid programs with subprograms, tail calls and
//! helper calls, and on one hand-written program of the same feature mix.
//! Compared after each run: r0 (or the error kind), the ctx and packet
//! bytes, the array map's values, the globals, and (catch-all) every other
//! memory region plus the trace log.

mod diff_support;

use diff_support::gen::{self, CTX_SIZE};
use diff_support::{load_spec, raw_program, run_all, standard_maps};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rvbpf::ebpf::object::Object;
use rvbpf::{Ctx, Engine, Vm};

/// Cases per run: 13 engines each, well under 30 s in release.
const CASES: u32 = 64;

/// Every case: load (the generator makes only valid programs, so a
/// rejection fails the test), then run each program in turn as the entry,
/// all engines from the same state, and compare.
fn check_spec(spec: &gen::Spec) -> Result<(), TestCaseError> {
    let mut vm = Vm::new();
    vm.set_prandom_seed(spec.seeds[0] as u64);
    let (o, progs) = match load_spec(&mut vm, spec) {
        Ok(x) => x,
        Err(e) => return Err(TestCaseError::fail(format!("generator bug, rejected: {e}"))),
    };
    let ctx = Ctx::raw(spec.ctx.clone());
    for (i, &p) in progs.iter().enumerate() {
        let (interp, bad) = run_all(&mut vm, o, p, &ctx);
        prop_assert!(
            interp.result.is_ok(),
            "prog{i}: the interpreter failed: {:?}",
            interp.result
        );
        if let Some(d) = bad.first() {
            let texts = diff_support::build_object(spec).1;
            let engines: Vec<&str> = bad.iter().map(|d| d.engine.name()).collect();
            return Err(TestCaseError::fail(format!(
                "prog{i}: {engines:?} disagree with interp (snapshot-only: {})\n\
                 interp: {:?}\n{}: {:?}\nprograms:\n{}",
                d.snapshot_only,
                d.interp,
                d.engine,
                d.other,
                texts.join("\n;----\n")
            )));
        }
    }
    Ok(())
}

#[test]
fn random_programs_agree_on_every_engine() {
    // A fixed seed: the same cases every run (failures are reproducible
    // from the printed program text).
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let started = std::time::Instant::now();
    runner
        .run(&gen::spec(), |spec| check_spec(&spec))
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{CASES} cases in {:?}", started.elapsed());
}

#[test]
fn generated_programs_use_every_feature() {
    // The generator is only useful if its programs really call subprograms,
    // tail-call and call helpers: count them over a batch of specs.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let (mut local, mut tail, mut helper) = (0, 0, 0);
    for _ in 0..CASES {
        let spec = gen::spec().new_tree(&mut runner).unwrap().current();
        for p in 0..spec.programs.len() {
            let text = gen::render_program(&spec, p);
            local += text.matches("call local").count();
            tail += text.matches("call 12").count();
            helper += text.matches("call 1\n").count() + text.matches("call 7").count();
        }
    }
    assert!(local > CASES as usize / 2, "{local} bpf2bpf calls");
    assert!(tail > CASES as usize / 2, "{tail} tail calls");
    assert!(helper > CASES as usize / 2, "{helper} helper calls");
}

/// `tail_call(ctx = r6, jmp_table, slot)`, then r0 re-initialised.
fn tail_call(slot: u32) -> String {
    format!("mov %r1, %r6\nlddw %r2, map:0\nmov %r3, {slot}\ncall 12\n")
}

/// `.bss` variable at `off` += 1 (clobbers r1, r2).
fn inc_global(off: u32) -> String {
    format!("lddw %r1, map_value:2+0\nldxdw %r2, [%r1+{off}]\nadd %r2, 1\nstxdw [%r1+{off}], %r2\n")
}

fn global(vm: &Vm, o: rvbpf::ObjectId, name: &str) -> u64 {
    vm.global(o, name).unwrap().as_int().unwrap()
}

#[test]
fn subprogram_tail_calls_twice_from_the_entry() {
    // entry { g0++; a = sub(); b = sub(); return a * 1000 + b }
    // sub   { g1++; tail_call(slot 0); return 100 }
    // leaf  { g2++; ctx[0] += 1; return 7 }
    let entry = format!(
        "mov %r6, %r1\n{}mov %r1, %r6\ncall local sub\nmov %r7, %r0\nmul %r7, 1000\n\
         mov %r1, %r6\ncall local sub\nadd %r0, %r7\nexit\n\
         sub:\nmov %r6, %r1\n{}{}mov %r0, 100\nexit",
        inc_global(0),
        inc_global(8),
        tail_call(0)
    );
    let leaf = format!(
        "mov %r6, %r1\n{}ldxb %r3, [%r6+0]\nadd %r3, 1\nstxb [%r6+0], %r3\nmov %r0, 7\nexit",
        inc_global(16)
    );
    let obj = Object {
        name: "hand".into(),
        programs: vec![raw_program("entry", &entry), raw_program("leaf", &leaf)],
        maps: standard_maps(),
        kfuncs: vec![],
    };
    let mut vm = Vm::new();
    let o = vm.load_object(obj).unwrap_or_else(|e| panic!("{e}"));
    let entry = vm.program(o, "entry").unwrap();
    let leaf = vm.program(o, "leaf").unwrap();
    let table = vm.map(o, "jmp_table").unwrap();
    let mut input = vec![0u8; CTX_SIZE];
    input[0] = 5;
    let ctx = Ctx::raw(input);

    // Slot 0 = leaf: each sub() call is replaced by leaf, which returns 7 to
    // entry: 7 * 1000 + 7; leaf ran twice, so ctx[0] = 5 + 2.
    vm.prog_array_set(table, 0, leaf).unwrap();
    let (out, bad) = run_all(&mut vm, o, entry, &ctx);
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(out.result, Ok(7007));
    assert_eq!(out.ctx[0], 7);
    assert_eq!(
        [
            global(&vm, o, "g0"),
            global(&vm, o, "g1"),
            global(&vm, o, "g2")
        ],
        [1, 2, 2]
    );

    // Slot 0 empty: the tail calls fall through and sub returns 100 twice;
    // globals accumulate across runs, the ctx is fresh each run.
    vm.map_delete(table, &0u32.to_le_bytes()).unwrap();
    let (out, bad) = run_all(&mut vm, o, entry, &ctx);
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(out.result, Ok(100_100));
    assert_eq!(out.ctx[0], 5);
    assert_eq!(
        [
            global(&vm, o, "g0"),
            global(&vm, o, "g1"),
            global(&vm, o, "g2")
        ],
        [2, 4, 2]
    );

    // Slot 0 = entry itself: every sub() tail-calls a new entry instance
    // until the 33-call budget is spent. Instance k (k = 0..33) is entered by
    // k tail calls; its first sub() succeeds while the budget lasts, so the
    // chain is entry_0 -> sub -> entry_1 -> ... -> entry_33, whose sub()
    // calls both fall through (100, 100) and return 100_100. Each instance
    // below then gets r0 = 100_100 from its first sub(), whose second sub()
    // falls through too (budget spent): 100_100 * 1000 + 100 = 100_100_100
    // (wrapping in u64 further up the chain is the same on every engine).
    vm.prog_array_set(table, 0, entry).unwrap();
    let (out, bad) = run_all(&mut vm, o, entry, &ctx);
    assert!(bad.is_empty(), "{bad:#?}");
    // g0: 2 + 34 instances; g1: 4 + 34 * 2 sub() calls.
    assert_eq!(
        [
            global(&vm, o, "g0"),
            global(&vm, o, "g1"),
            global(&vm, o, "g2")
        ],
        [36, 72, 2]
    );
    // Innermost r = 100_100; each of the 33 outer levels: r = r * 1000 + 100.
    let mut expected: u64 = 100_100;
    for _ in 0..33 {
        expected = expected.wrapping_mul(1000).wrapping_add(100);
    }
    assert_eq!(out.result, Ok(expected));
    assert!(Engine::all().len() == 13);
}
