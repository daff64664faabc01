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

/// Cases per run (every engine each): a few seconds in a debug build.
/// `DIFF_CASES=n` runs more (`DIFF_SEED=k` varies the fixed seed) when
/// hunting for bugs.
const CASES: u32 = 256;

fn cases() -> u32 {
    std::env::var("DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES)
}

fn seed() -> [u8; 32] {
    let k: u8 = std::env::var("DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    [k; 32]
}

/// What the interpreter did over all cases, so the test can check that the
/// random programs really exercise the features under test.
#[derive(Debug, Default)]
struct Coverage {
    runs: u64,
    tail_calls: u64,
    bpf2bpf_calls: u64,
    helper_calls: u64,
    /// Runs that spent the whole 33-tail-call budget.
    budget_spent: u64,
    /// Runs the interpreter ended with a runtime error.
    errors: u64,
}

/// Every case: load (the generator makes only valid programs, so a
/// rejection fails the test), then run each program in turn as the entry,
/// all engines from the same state, and compare.
fn check_spec(spec: &gen::Spec, cov: &mut Coverage) -> Result<(), TestCaseError> {
    let mut vm = Vm::new();
    vm.set_prandom_seed(spec.seeds[0] as u64);
    let (o, progs) = match load_spec(&mut vm, spec) {
        Ok(x) => x,
        Err(e) => return Err(TestCaseError::fail(format!("generator bug, rejected: {e}"))),
    };
    let ctx = Ctx::raw(spec.ctx.clone());
    for (i, &p) in progs.iter().enumerate() {
        let c = run_all(&mut vm, o, p, &ctx);
        // Runtime errors (e.g. the call-depth limit, reachable by
        // re-entering a program through tail calls from a subprogram) are
        // compared like results.
        cov.errors += u64::from(c.interp.result.is_err());
        prop_assert_eq!(
            c.compared,
            Engine::all().len() - 1,
            "a JIT engine was skipped"
        );
        if let Some(s) = c.interp_stats {
            cov.runs += 1;
            cov.tail_calls += s.tail_calls;
            cov.bpf2bpf_calls += s.bpf2bpf_calls;
            cov.helper_calls += s.helper_calls;
            cov.budget_spent += u64::from(s.tail_calls == 33);
        }
        if let Some(d) = c.disagreements.first() {
            let texts = diff_support::build_object(spec).1;
            let engines: Vec<&str> = c.disagreements.iter().map(|d| d.engine.name()).collect();
            return Err(TestCaseError::fail(format!(
                "prog{i}: {engines:?} disagree with interp (snapshot-only: {})\n\
                 slots: {:?}\ninterp: {:?}\n{}: {:?}\nprograms:\n{}",
                d.snapshot_only,
                spec.slots,
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
    let cases = cases();
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed());
    let mut runner = TestRunner::new_with_rng(config, rng);
    let started = std::time::Instant::now();
    let cov = std::cell::RefCell::new(Coverage::default());
    runner
        .run(&gen::spec(), |spec| {
            check_spec(&spec, &mut cov.borrow_mut())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let cov = cov.into_inner();
    eprintln!("{cases} cases in {:?}: {cov:?}", started.elapsed());
    // The features must really run, not just appear in the text.
    assert!(cov.tail_calls > u64::from(cases), "{cov:?}");
    assert!(cov.bpf2bpf_calls > u64::from(cases), "{cov:?}");
    assert!(cov.helper_calls > u64::from(cases), "{cov:?}");
    assert!(cov.budget_spent > 0, "{cov:?}");
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
        kfunc_protos: vec![],
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
    let c = run_all(&mut vm, o, entry, &ctx);
    assert!(c.disagreements.is_empty(), "{:#?}", c.disagreements);
    assert_eq!(c.compared, Engine::all().len() - 1, "every JIT engine");
    let out = c.interp;
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
    let c = run_all(&mut vm, o, entry, &ctx);
    assert!(c.disagreements.is_empty(), "{:#?}", c.disagreements);
    assert_eq!(c.compared, Engine::all().len() - 1, "every JIT engine");
    let out = c.interp;
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
    let c = run_all(&mut vm, o, entry, &ctx);
    assert!(c.disagreements.is_empty(), "{:#?}", c.disagreements);
    assert_eq!(c.compared, Engine::all().len() - 1, "every JIT engine");
    let out = c.interp;
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
}

#[test]
fn call_depth_through_tail_calls_matches_linux() {
    // prog0 { sub1() }  sub1 { sub2() }  sub2 { tail_call(slot 0 = prog0); return 103 }
    // Each successful tail call replaces only sub2's frame, so prog0's and
    // sub1's frames stay live: after 33 tail calls 1 + 2 * 34 = 69 frames
    // are alive. Linux has no runtime frame limit (spec 3.1: "callers'
    // frames stay live, so the worst case is about 33 x 256 bytes"); the
    // verifier accepts the program (3 frames, 240 bytes < 256 above sub2).
    // The 34th tail call fails, sub2 returns 103 and every level passes it up.
    let asm = "mov %r6, %r1\ncall local sub1\nexit\n\
               sub1:\nmov %r6, %r1\ncall local sub2\nexit\n\
               sub2:\nmov %r6, %r1\nstdw [%r10-80], 0\n\
               mov %r1, %r6\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 103\nexit";
    let obj = Object {
        name: "depth".into(),
        programs: vec![raw_program("prog0", asm)],
        maps: standard_maps(),
        kfuncs: vec![],
        kfunc_protos: vec![],
    };
    let mut vm = Vm::new();
    let o = vm.load_object(obj).unwrap_or_else(|e| panic!("{e}"));
    let p = vm.program(o, "prog0").unwrap();
    let table = vm.map(o, "jmp_table").unwrap();
    vm.prog_array_set(table, 0, p).unwrap();
    let c = run_all(&mut vm, o, p, &Ctx::raw(vec![0; CTX_SIZE]));
    assert_eq!(c.interp.result, Ok(103));
    assert_eq!(c.interp.tail_calls, Some(33));
    assert!(c.disagreements.is_empty(), "{:#?}", c.disagreements);
    assert_eq!(c.compared, Engine::all().len() - 1, "every JIT engine");
}

#[test]
fn map_helpers_with_null_checks() {
    // update(arr, 1, {0x1234, 0x5678}) returns 0; lookup(arr, 4) is out of
    // range, so NULL (r8 = 1000, not 2000); lookup(arr, 1) finds the value,
    // whose second u64 (0x5678 = 22136) goes to ctx[0..8] and into r0:
    // 0 + 1000 + 22136 = 23136.
    let asm = "mov %r6, %r1\n\
        stw [%r10-4], 1\nstdw [%r10-24], 0x1234\nstdw [%r10-16], 0x5678\n\
        lddw %r1, map:1\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\n\
        call 2\nmov %r7, %r0\n\
        stw [%r10-4], 4\nlddw %r1, map:1\nmov %r2, %r10\nadd %r2, -4\ncall 1\n\
        mov %r8, 1000\njeq %r0, 0, +1\nmov %r8, 2000\n\
        stw [%r10-4], 1\nlddw %r1, map:1\nmov %r2, %r10\nadd %r2, -4\ncall 1\n\
        mov %r9, 0\njeq %r0, 0, +2\nldxdw %r9, [%r0+8]\nstxdw [%r6+0], %r9\n\
        mov %r0, %r7\nadd %r0, %r8\nadd %r0, %r9\nexit";
    let obj = Object {
        name: "maps".into(),
        programs: vec![raw_program("prog0", asm)],
        maps: standard_maps(),
        kfuncs: vec![],
        kfunc_protos: vec![],
    };
    let mut vm = Vm::new();
    let o = vm.load_object(obj).unwrap_or_else(|e| panic!("{e}"));
    let p = vm.program(o, "prog0").unwrap();
    let c = run_all(&mut vm, o, p, &Ctx::raw(vec![0xff; CTX_SIZE]));
    assert!(c.disagreements.is_empty(), "{:#?}", c.disagreements);
    assert_eq!(c.compared, Engine::all().len() - 1, "every JIT engine");
    assert_eq!(c.interp.result, Ok(23_136));
    assert_eq!(&c.interp.ctx[..9], &[0x78, 0x56, 0, 0, 0, 0, 0, 0, 0xff]);
    let mut value = vec![0x34, 0x12, 0, 0, 0, 0, 0, 0, 0x78, 0x56];
    value.resize(16, 0);
    assert_eq!(c.interp.array[1], Some(value));
    assert_eq!(c.interp.array[0], Some(vec![0; 16]));
    assert_eq!(c.interp.helper_calls, Some(3));
}
