//! The tail-call model: one budget of 33 successful tail calls per
//! top-level run, shared by every frame; failures fall through and consume
//! nothing; a tail call in a subprogram replaces only that subprogram's
//! frame. Scenarios follow the Linux selftests (spec section 4) with the
//! same expected numbers, written here in assembler.

mod runtime_support;

use runtime_support::{bss, object, prog_array, run, tc};
use rvbpf::ebpf::object::{MapDef, Program};
use rvbpf::{Ctx, MapError, ObjectId, Vm};

/// `count_at(map, off)++` (clobbers r7, r8).
fn inc(map: u32, off: u32) -> String {
    format!("lddw %r7, map_value:{map}+{off}\nldxdw %r8, [%r7]\nadd %r8, 1\nstxdw [%r7], %r8\n")
}

/// `bpf_tail_call(ctx = r6, map, key)`.
fn tail_call(map: u32, key: i32) -> String {
    format!("mov %r1, %r6\nlddw %r2, map:{map}\nmov %r3, {key}\ncall 12\n")
}

fn load(vm: &mut Vm, progs: Vec<Program>, maps: Vec<MapDef>) -> ObjectId {
    vm.load_object(object("tailcalls", progs, maps))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn count(vm: &Vm, o: ObjectId, var: &str) -> u64 {
    vm.global(o, var).unwrap().as_int().unwrap()
}

#[test]
fn exactly_33_tail_calls_then_fall_through() {
    // tailcall_3: classifier_0 { count++; tail_call(0); return 1 } ; entry { tail_call(0); return 0 }.
    let mut vm = Vm::new();
    let c0 = tc(
        "classifier_0",
        &format!(
            "mov %r6, %r1\n{}{}mov %r0, 1\nexit",
            inc(1, 0),
            tail_call(0, 0)
        ),
    );
    let entry = tc(
        "entry",
        &format!("mov %r6, %r1\n{}mov %r0, 0\nexit", tail_call(0, 0)),
    );
    let o = load(
        &mut vm,
        vec![c0, entry],
        vec![prog_array("jmp_table", 1), bss(".bss", &["count"])],
    );
    let table = vm.map(o, "jmp_table").unwrap();
    vm.prog_array_set(table, 0, vm.program(o, "classifier_0").unwrap())
        .unwrap();
    let entry = vm.program(o, "entry").unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(128));
    // entry→c0 is #1, c0→c0 #2..#33; the 34th attempt fails and c0 returns 1.
    assert_eq!(out.ret, 1);
    assert_eq!(count(&vm, o, "count"), 33);
    assert_eq!(out.stats.tail_calls, 33);
    vm.map_delete(table, &0u32.to_le_bytes()).unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(128)).ret, 0);
    // Deleting an empty slot is ENOENT.
    assert!(matches!(
        vm.map_delete(table, &0u32.to_le_bytes()).unwrap_err(),
        rvbpf::Error::Map(MapError::NotFound { .. })
    ));
}

#[test]
fn ping_pong_pins_the_limit_at_33() {
    // tailcall_2 with key 0 deleted: entry→3 (#1), 3→4 (#2), 4→3 (#3) ...
    // #33 is odd so it lands in classifier_3, whose #34 fails → returns 3.
    // A limit of 32 or 34 would give 4.
    let mut vm = Vm::new();
    let c = |n: i32, next: i32| {
        tc(
            &format!("classifier_{n}"),
            &format!("mov %r6, %r1\n{}mov %r0, {n}\nexit", tail_call(0, next)),
        )
    };
    let entry = tc(
        "entry",
        &format!(
            "mov %r6, %r1\n{}{}{}mov %r0, 3\nexit",
            tail_call(0, 0),
            tail_call(0, 2),
            tail_call(0, 3)
        ),
    );
    let leaf = tc("classifier_2", "mov %r0, 2\nexit");
    let o = load(
        &mut vm,
        vec![c(0, 1), c(1, 2), leaf, c(3, 4), c(4, 3), entry],
        vec![prog_array("jmp_table", 5)],
    );
    let table = vm.map(o, "jmp_table").unwrap();
    for i in 0..5 {
        vm.prog_array_set(table, i, vm.program(o, &format!("classifier_{i}")).unwrap())
            .unwrap();
    }
    let entry = vm.program(o, "entry").unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(128)).ret, 2, "0→1→2");
    vm.map_delete(table, &2u32.to_le_bytes()).unwrap();
    assert_eq!(
        run(&mut vm, entry, &Ctx::zeros(128)).ret,
        1,
        "0→1, 1's tail call fails"
    );
    vm.map_delete(table, &0u32.to_le_bytes()).unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(128));
    assert_eq!(out.ret, 3);
    assert_eq!(out.stats.tail_calls, 33);
}

#[test]
fn failed_tail_calls_consume_nothing() {
    // entry makes 40 out-of-range attempts (key 7) and 40 empty-slot attempts
    // (key 1) before entering the self-loop of classifier_0: it still gets 33.
    let mut vm = Vm::new();
    let c0 = tc(
        "classifier_0",
        &format!(
            "mov %r6, %r1\n{}{}mov %r0, 1\nexit",
            inc(1, 0),
            tail_call(0, 0)
        ),
    );
    let entry = tc(
        "entry",
        &format!("mov %r6, %r1\nmov %r9, 40\nagain:\n{}{}sub %r9, 1\njne %r9, 0, again\n{}mov %r0, 0\nexit", tail_call(0, 7), tail_call(0, 1), tail_call(0, 0)),
    );
    let o = load(
        &mut vm,
        vec![c0, entry],
        vec![prog_array("jmp_table", 2), bss(".bss", &["count"])],
    );
    let table = vm.map(o, "jmp_table").unwrap();
    vm.prog_array_set(table, 0, vm.program(o, "classifier_0").unwrap())
        .unwrap();
    let p = vm.program(o, "entry").unwrap();
    let out = run(&mut vm, p, &Ctx::zeros(128));
    assert_eq!(out.ret, 1);
    assert_eq!(count(&vm, o, "count"), 33);
}

#[test]
fn tail_call_in_a_subprogram_returns_to_its_caller() {
    // tailcall_bpf2bpf_1: subprog_tail { tail_call(0); return len*2 };
    // entry { tail_call(1); return subprog_tail(skb) }.
    let sub = "subprog_tail:\nmov %r6, %r1\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nldxw %r0, [%r6+0]\nlsh %r0, 1\nexit";
    let entry = tc(
        "entry",
        &format!(
            "mov %r6, %r1\n{}mov %r1, %r6\ncall local subprog_tail\nexit\n{sub}",
            tail_call(0, 1)
        ),
    );
    let c0 = tc("classifier_0", "mov %r0, 0\nexit");
    let c1 = tc("classifier_1", "mov %r0, 1\nexit");
    let mut vm = Vm::new();
    let o = load(
        &mut vm,
        vec![c0, c1, entry],
        vec![prog_array("jmp_table", 2)],
    );
    let table = vm.map(o, "jmp_table").unwrap();
    for i in 0..2 {
        vm.prog_array_set(table, i, vm.program(o, &format!("classifier_{i}")).unwrap())
            .unwrap();
    }
    let entry = vm.program(o, "entry").unwrap();
    let pkt = Ctx::zeros(54);
    assert_eq!(run(&mut vm, entry, &pkt).ret, 1);
    vm.map_delete(table, &1u32.to_le_bytes()).unwrap();
    // subprog_tail's frame is replaced by classifier_0, whose 0 returns to entry.
    assert_eq!(run(&mut vm, entry, &pkt).ret, 0);
    vm.map_delete(table, &0u32.to_le_bytes()).unwrap();
    assert_eq!(run(&mut vm, entry, &pkt).ret, 108);
}

#[test]
fn hierarchy_1_one_budget_for_all_frames() {
    // entry { count++; subprog_tail(); subprog_tail(); return 1 }, slot 0 = entry.
    // 1 direct entry + 33 successful tail calls = 34; a per-frame counter
    // would explode exponentially instead.
    let sub = "subprog_tail:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit";
    let entry = tc(
        "entry",
        &format!("mov %r6, %r1\n{}mov %r1, %r6\ncall local subprog_tail\nmov %r1, %r6\ncall local subprog_tail\nmov %r0, 1\nexit\n{sub}", inc(1, 0)),
    );
    let mut vm = Vm::new();
    let o = load(
        &mut vm,
        vec![entry],
        vec![prog_array("jmp_table", 1), bss(".bss", &["count"])],
    );
    let table = vm.map(o, "jmp_table").unwrap();
    let entry = vm.program(o, "entry").unwrap();
    vm.prog_array_set(table, 0, entry).unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(128));
    assert_eq!(out.ret, 1);
    assert_eq!(count(&vm, o, "count"), 34);
    // 34 entry instances × 2 subprogram calls each.
    assert_eq!(out.stats.bpf2bpf_calls, 68);
    vm.map_delete(table, &0u32.to_le_bytes()).unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(128)).ret, 1);
    assert_eq!(count(&vm, o, "count"), 35, ".bss is not reset between runs");
}

#[test]
fn hierarchy_2_first_subprogram_burns_the_whole_budget() {
    // Static prog-array init: slot 0 = classifier_0, slot 1 = classifier_1.
    // test: subprog_tail0(); subprog_tail1(); return count1 << 16 | count0.
    // classifier_N { countN++; return subprog_tailN() }.
    // Expected 33: count0 = 33 and subprog_tail1's tail call fails (count1 = 0).
    let subs = "sub0:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit\nsub1:\nlddw %r2, map:0\nmov %r3, 1\ncall 12\nmov %r0, 0\nexit";
    let test = tc(
        "test",
        &format!("mov %r6, %r1\ncall local sub0\nmov %r1, %r6\ncall local sub1\nlddw %r1, map_value:1+0\nldxdw %r0, [%r1+8]\nlsh %r0, 16\nldxdw %r2, [%r1+0]\nor %r0, %r2\nexit\n{subs}"),
    );
    let c0 = tc(
        "classifier_0",
        &format!(
            "mov %r6, %r1\n{}mov %r1, %r6\ncall local sub0\nexit\n{subs}",
            inc(1, 0)
        ),
    );
    let c1 = tc(
        "classifier_1",
        &format!(
            "mov %r6, %r1\n{}mov %r1, %r6\ncall local sub1\nexit\n{subs}",
            inc(1, 8)
        ),
    );
    let mut table = prog_array("jmp_table", 2);
    table.prog_init = vec![(0, "classifier_0".into()), (1, "classifier_1".into())];
    let mut vm = Vm::new();
    let o = load(
        &mut vm,
        vec![test, c0, c1],
        vec![table, bss(".bss", &["count0", "count1"])],
    );
    let p = vm.program(o, "test").unwrap();
    let out = run(&mut vm, p, &Ctx::zeros(128));
    assert_eq!(out.ret, 33);
    assert_eq!(count(&vm, o, "count0"), 33);
    assert_eq!(count(&vm, o, "count1"), 0);
}

#[test]
fn hierarchy_3_two_tables_share_the_budget() {
    // jmp_table0[0] = jmp_table1[0] = classifier_0.
    // classifier_0 { count++; subprog_tail(table0); subprog_tail(table1); return count }.
    // test { tail_call(table0, 0); return 0 }. Expected 33.
    let sub = "subprog_tail:\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit";
    let c0 = tc(
        "classifier_0",
        &format!(
            "mov %r6, %r1\n{}mov %r1, %r6\nlddw %r2, map:0\ncall local subprog_tail\nmov %r1, %r6\nlddw %r2, map:1\ncall local subprog_tail\nlddw %r7, map_value:2+0\nldxdw %r0, [%r7]\nexit\n{sub}",
            inc(2, 0)
        ),
    );
    let c0 = {
        let mut p = c0;
        for f in &mut p.functions {
            if f.name == "subprog_tail" {
                f.arg_count = Some(2);
            }
        }
        p
    };
    let test = tc(
        "test",
        &format!("mov %r6, %r1\n{}mov %r0, 0\nexit", tail_call(0, 0)),
    );
    let mut t0 = prog_array("jmp_table0", 1);
    t0.prog_init = vec![(0, "classifier_0".into())];
    let mut t1 = prog_array("jmp_table1", 1);
    t1.prog_init = vec![(0, "classifier_0".into())];
    let mut vm = Vm::new();
    let o = load(
        &mut vm,
        vec![c0, test],
        vec![t0, t1, bss(".bss", &["count"])],
    );
    let p = vm.program(o, "test").unwrap();
    let out = run(&mut vm, p, &Ctx::zeros(128));
    assert_eq!(out.ret, 33);
    assert_eq!(out.stats.tail_calls, 33);
}

#[test]
fn bpf2bpf_4_budget_spent_in_nested_subprograms() {
    // tailcall_bpf2bpf_4: entry→sub→#1 c0→sub1→#2 c1→sub2→#3 c2 [count=1] ...
    // #33 → c2 [count=31]; #34 fails, sub2 returns len*3 = 162.
    let subs = |k: i32, mul: i32| {
        format!("subprog_tail_{k}:\nmov %r6, %r1\nlddw %r2, map:0\nmov %r3, {k}\ncall 12\nldxw %r0, [%r6+0]\nmul %r0, {mul}\nexit\n")
    };
    let all_subs = format!("{}{}{}", subs(0, 1), subs(1, 2), subs(2, 3));
    let entry = tc(
        "entry",
        &format!("call local subprog_tail_0\nexit\n{all_subs}"),
    );
    let c0 = tc(
        "classifier_0",
        &format!("call local subprog_tail_1\nexit\n{all_subs}"),
    );
    let c1 = tc(
        "classifier_1",
        &format!("call local subprog_tail_2\nexit\n{all_subs}"),
    );
    let c2 = tc(
        "classifier_2",
        &format!(
            "mov %r6, %r1\n{}mov %r1, %r6\ncall local subprog_tail_2\nexit\n{all_subs}",
            inc(1, 0)
        ),
    );
    let mut table = prog_array("jmp_table", 3);
    table.prog_init = (0..3).map(|i| (i, format!("classifier_{i}"))).collect();
    let mut vm = Vm::new();
    let o = load(
        &mut vm,
        vec![entry, c0, c1, c2],
        vec![table, bss(".bss", &["count"])],
    );
    let p = vm.program(o, "entry").unwrap();
    let out = run(&mut vm, p, &Ctx::zeros(54));
    assert_eq!(out.ret, 162);
    assert_eq!(count(&vm, o, "count"), 31);
}

#[test]
fn a_helper_call_in_a_tail_called_program_keeps_the_count_for_the_caller() {
    // entry calls subprog_tail, which tail-calls `leaf` (#1). leaf calls a
    // helper (get_prandom_u32) and returns to entry in subprog_tail's place.
    // entry then tail-calls `spin` (#2), which counts itself and tail-calls
    // itself (#3..#33) until the budget is spent: spin runs 32 times and
    // returns its count. A JIT that lets the helper call clobber the count
    // on its way back to entry (a real C helper may overwrite a6; the
    // emulator's host calls do too) gives spin a wrong budget.
    let sub = "subprog_tail:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 5\nexit";
    let entry = tc(
        "entry",
        &format!(
            "mov %r6, %r1\ncall local subprog_tail\n{}mov %r0, 99\nexit\n{sub}",
            tail_call(0, 1)
        ),
    );
    let leaf = tc("leaf", "call 7\nmov %r0, 0\nexit");
    let spin = tc(
        "spin",
        &format!(
            "mov %r6, %r1\n{}{}lddw %r7, map_value:1+0\nldxdw %r0, [%r7]\nexit",
            inc(1, 0),
            tail_call(0, 1)
        ),
    );
    let mut vm = Vm::new();
    let o = load(
        &mut vm,
        vec![leaf, spin, entry],
        vec![prog_array("jmp_table", 2), bss(".bss", &["count"])],
    );
    let table = vm.map(o, "jmp_table").unwrap();
    vm.prog_array_set(table, 0, vm.program(o, "leaf").unwrap())
        .unwrap();
    vm.prog_array_set(table, 1, vm.program(o, "spin").unwrap())
        .unwrap();
    let entry = vm.program(o, "entry").unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(64));
    assert_eq!(out.ret, 32);
    assert_eq!(out.stats.tail_calls, 33);
}
