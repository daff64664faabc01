//! fentry/fexit trampolines: firing rules, tracer ctx, budget isolation.
//! Expected numbers follow the Linux selftests of spec section 4.3/4.5.

mod runtime_support;

use runtime_support::{bss, object, prog, prog_array, run, tc, try_run};
use rvbpf::ebpf::object::{ProgKind, Program};
use rvbpf::{Ctx, Error, ObjectId, RunError, Vm};

fn inc(map: u32, off: u32) -> String {
    format!("lddw %r7, map_value:{map}+{off}\nldxdw %r8, [%r7]\nadd %r8, 1\nstxdw [%r7], %r8\n")
}

fn get(vm: &Vm, o: ObjectId, var: &str) -> u64 {
    vm.global(o, var).unwrap().as_int().unwrap()
}

fn fentry(name: &str, target: &str, asm: &str) -> Program {
    prog(
        name,
        ProgKind::Fentry {
            target: target.into(),
        },
        asm,
        &[],
    )
}

fn fexit(name: &str, target: &str, asm: &str) -> Program {
    prog(
        name,
        ProgKind::Fexit {
            target: target.into(),
        },
        asm,
        &[],
    )
}

/// A tracer object: `fentry_prog` and `fexit_prog` each bump their own counter.
fn load_counters(vm: &mut Vm, target: &str) -> ObjectId {
    let fe = fentry(
        "fentry_prog",
        target,
        &format!("{}mov %r0, 0\nexit", inc(0, 0)),
    );
    let fx = fexit(
        "fexit_prog",
        target,
        &format!("{}mov %r0, 0\nexit", inc(0, 8)),
    );
    vm.load_object(object(
        "tracers",
        vec![fe, fx],
        vec![bss(".bss", &["fentry_count", "fexit_count"])],
    ))
    .unwrap()
}

/// tailcall_bpf2bpf_hierarchy1: entry { count++; subprog_tail(); subprog_tail(); return 1 }, slot 0 = entry.
fn load_hierarchy1(vm: &mut Vm) -> (ObjectId, rvbpf::ProgId) {
    let sub = "subprog_tail:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit";
    let entry = tc(
        "entry",
        &format!("mov %r6, %r1\n{}mov %r1, %r6\ncall local subprog_tail\nmov %r1, %r6\ncall local subprog_tail\nmov %r0, 1\nexit\n{sub}", inc(1, 0)),
    );
    let o = vm
        .load_object(object(
            "hierarchy1",
            vec![entry],
            vec![prog_array("jmp_table", 1), bss(".bss", &["count"])],
        ))
        .unwrap();
    let e = vm.program(o, "entry").unwrap();
    vm.prog_array_set(vm.map(o, "jmp_table").unwrap(), 0, e)
        .unwrap();
    (o, e)
}

#[test]
fn hierarchy_fentry_fexit_fire_on_every_subprogram_call() {
    let mut vm = Vm::new();
    let (o, entry) = load_hierarchy1(&mut vm);
    let t = load_counters(&mut vm, "subprog_tail");
    vm.attach(vm.program(t, "fentry_prog").unwrap(), o, "subprog_tail")
        .unwrap();
    vm.attach(vm.program(t, "fexit_prog").unwrap(), o, "subprog_tail")
        .unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(128));
    // Tracers must preserve the tail-call context: still 34 entries, and
    // subprog_tail runs twice per entry instance: 68.
    assert_eq!(out.ret, 1);
    assert_eq!(get(&vm, o, "count"), 34);
    assert_eq!(get(&vm, t, "fentry_count"), 68);
    assert_eq!(get(&vm, t, "fexit_count"), 68);
    vm.map_delete(vm.map(o, "jmp_table").unwrap(), &0u32.to_le_bytes())
        .unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(128)).ret, 1);
    assert_eq!(get(&vm, o, "count"), 35);
    assert_eq!(get(&vm, t, "fentry_count"), 70);
    assert_eq!(get(&vm, t, "fexit_count"), 70);
}

/// tailcall_bpf2bpf2: subprog_tail { tail_call(key 0); return 1 };
/// classifier_0 { count++; return subprog_tail(skb) }; entry { tail_call(0); return 0 }.
fn load_bpf2bpf2(vm: &mut Vm) -> ObjectId {
    let sub = "subprog_tail:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit";
    let c0 = tc(
        "classifier_0",
        &format!(
            "mov %r6, %r1\n{}mov %r1, %r6\ncall local subprog_tail\nexit\n{sub}",
            inc(1, 0)
        ),
    );
    let entry = tc(
        "entry",
        "lddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
    );
    let o = vm
        .load_object(object(
            "bpf2bpf2",
            vec![c0, entry],
            vec![prog_array("jmp_table", 1), bss(".bss", &["count"])],
        ))
        .unwrap();
    vm.prog_array_set(
        vm.map(o, "jmp_table").unwrap(),
        0,
        vm.program(o, "classifier_0").unwrap(),
    )
    .unwrap();
    o
}

#[test]
fn fentry_on_a_tail_call_reachable_subprogram() {
    // tailcall_bpf2bpf_fentry_fexit: subprog_tail is called 33 times.
    let mut vm = Vm::new();
    let o = load_bpf2bpf2(&mut vm);
    let t = load_counters(&mut vm, "subprog_tail");
    vm.attach(vm.program(t, "fentry_prog").unwrap(), o, "subprog_tail")
        .unwrap();
    vm.attach(vm.program(t, "fexit_prog").unwrap(), o, "subprog_tail")
        .unwrap();
    let entry = vm.program(o, "entry").unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(128)).ret, 1);
    assert_eq!(get(&vm, o, "count"), 33);
    assert_eq!(get(&vm, t, "fentry_count"), 33);
    assert_eq!(get(&vm, t, "fexit_count"), 33);
    vm.map_delete(vm.map(o, "jmp_table").unwrap(), &0u32.to_le_bytes())
        .unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(128)).ret, 0);
}

#[test]
fn fentry_on_a_program_entry_fires_only_on_direct_entry() {
    // tailcall_bpf2bpf_fentry_entry: fentry on classifier_0, run it directly:
    // 1 direct entry + 33 tail-call entries = count 34, but fentry fires once.
    let mut vm = Vm::new();
    let o = load_bpf2bpf2(&mut vm);
    let t = load_counters(&mut vm, "classifier_0");
    vm.attach(vm.program(t, "fentry_prog").unwrap(), o, "classifier_0")
        .unwrap();
    vm.attach(vm.program(t, "fexit_prog").unwrap(), o, "classifier_0")
        .unwrap();
    let c0 = vm.program(o, "classifier_0").unwrap();
    assert_eq!(run(&mut vm, c0, &Ctx::zeros(128)).ret, 1);
    assert_eq!(get(&vm, o, "count"), 34);
    assert_eq!(get(&vm, t, "fentry_count"), 1);
    assert_eq!(get(&vm, t, "fexit_count"), 1);
}

#[test]
fn a_tracer_gets_its_own_fresh_budget() {
    // tailcall_bpf2bpf_hierarchy_fentry_entry: the dummy target returns 1; the
    // fentry program { count++; subprog_tail(); subprog_tail(); return 0 } sits
    // in slot 0 of its own jmp_table. 1 + 33 = 34 tracer entries per run.
    let mut vm = Vm::new();
    let dummy = vm
        .load_object(object(
            "tc_dummy",
            vec![tc("entry", "mov %r0, 1\nexit")],
            vec![],
        ))
        .unwrap();
    let sub = "subprog_tail:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit";
    let tracer = fentry(
        "fentry",
        "dummy",
        &format!(
            "mov %r6, %r1\nmov %r9, 7\nstxdw [%r10-8], %r9\n{}mov %r1, %r6\ncall local subprog_tail\nmov %r1, %r6\ncall local subprog_tail\nmov %r0, 0\nexit\n{sub}",
            inc(1, 0)
        ),
    );
    let t = vm
        .load_object(object(
            "hierarchy_fentry",
            vec![tracer],
            vec![prog_array("jmp_table", 1), bss(".bss", &["count"])],
        ))
        .unwrap();
    let fe = vm.program(t, "fentry").unwrap();
    vm.prog_array_set(vm.map(t, "jmp_table").unwrap(), 0, fe)
        .unwrap();
    vm.attach(fe, dummy, "entry").unwrap();
    let entry = vm.program(dummy, "entry").unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(128));
    assert_eq!(out.ret, 1);
    assert_eq!(get(&vm, t, "count"), 34);
    assert_eq!(out.stats.tracer_runs, 1);
    vm.map_delete(vm.map(t, "jmp_table").unwrap(), &0u32.to_le_bytes())
        .unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(128)).ret, 1);
    assert_eq!(get(&vm, t, "count"), 35);
}

#[test]
fn tracers_do_not_spend_the_traced_runs_budget() {
    // bpf2bpf2 target (33 tail calls through subprog_tail) with an fexit on
    // subprog_tail that itself tail-calls into itself until its own budget
    // is spent: the traced run must still get its full 33.
    let mut vm = Vm::new();
    let o = load_bpf2bpf2(&mut vm);
    let loop_prog = fexit(
        "spin",
        "subprog_tail",
        &format!(
            "mov %r6, %r1\n{}lddw %r2, map:0\nmov %r1, %r6\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
            inc(1, 0)
        ),
    );
    let t = vm
        .load_object(object(
            "spin",
            vec![loop_prog],
            vec![prog_array("spin_table", 1), bss(".bss", &["spins"])],
        ))
        .unwrap();
    let spin = vm.program(t, "spin").unwrap();
    vm.prog_array_set(vm.map(t, "spin_table").unwrap(), 0, spin)
        .unwrap();
    vm.attach(spin, o, "subprog_tail").unwrap();
    let entry = vm.program(o, "entry").unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(128));
    assert_eq!(out.ret, 1);
    assert_eq!(get(&vm, o, "count"), 33);
    // 33 fexit runs × (1 + 33 tail calls) each.
    assert_eq!(get(&vm, t, "spins"), 33 * 34);
    assert_eq!(out.stats.tail_calls, 33 + 33 * 33);
}

#[test]
fn tracer_ctx_holds_arguments_and_return_value() {
    // sub(a, b) = a * 10 + b, called as sub(4, 2) → 42.
    let mut vm = Vm::new();
    let target = prog(
        "main",
        ProgKind::SchedCls,
        "mov %r1, 4\nmov %r2, 2\ncall local sub\nexit\nsub:\nmov %r0, %r1\nmul %r0, 10\nadd %r0, %r2\nexit",
        &[("sub", 2)],
    );
    let o = vm
        .load_object(object("target", vec![target], vec![]))
        .unwrap();
    let fx = fexit(
        "seen",
        "sub",
        "lddw %r9, map_value:0+0\nldxdw %r2, [%r1+0]\nstxdw [%r9+0], %r2\nldxdw %r2, [%r1+8]\nstxdw [%r9+8], %r2\nldxdw %r2, [%r1+16]\nstxdw [%r9+16], %r2\nmov %r0, 0\nexit",
    );
    let t = vm
        .load_object(object("t", vec![fx], vec![bss(".bss", &["a", "b", "ret"])]))
        .unwrap();
    let id = vm.attach(vm.program(t, "seen").unwrap(), o, "sub").unwrap();
    let main = vm.program(o, "main").unwrap();
    assert_eq!(run(&mut vm, main, &Ctx::zeros(14)).ret, 42);
    assert_eq!(
        (get(&vm, t, "a"), get(&vm, t, "b"), get(&vm, t, "ret")),
        (4, 2, 42)
    );
    // After detach the tracer no longer runs.
    vm.set_global(t, "ret", 0).unwrap();
    vm.detach(id).unwrap();
    let out = run(&mut vm, main, &Ctx::zeros(14));
    assert_eq!(out.stats.tracer_runs, 0);
    assert_eq!(get(&vm, t, "ret"), 0);
    assert!(matches!(vm.detach(id), Err(Error::NoSuchAttachment(_))));
}

#[test]
fn tracer_ctx_is_read_only() {
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "target",
            vec![tc("entry", "mov %r0, 1\nexit")],
            vec![],
        ))
        .unwrap();
    let t = vm
        .load_object(object(
            "t",
            vec![fentry("w", "entry", "stdw [%r1+0], 5\nmov %r0, 0\nexit")],
            vec![],
        ))
        .unwrap();
    vm.attach(vm.program(t, "w").unwrap(), o, "entry").unwrap();
    let entry = vm.program(o, "entry").unwrap();
    let e = try_run(&mut vm, entry, &Ctx::zeros(14)).unwrap_err();
    assert!(
        matches!(e, RunError::ReadOnly { pc: 0, size: 8, .. }),
        "{e:?}"
    );
}

#[test]
fn attach_rejects_bad_requests() {
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "target",
            vec![tc("entry", "mov %r0, 1\nexit")],
            vec![],
        ))
        .unwrap();
    let t = load_counters(&mut vm, "entry");
    let fe = vm.program(t, "fentry_prog").unwrap();
    // Not a tracing program.
    let entry = vm.program(o, "entry").unwrap();
    assert!(matches!(
        vm.attach(entry, o, "entry"),
        Err(Error::Attach { .. })
    ));
    // No such function.
    assert!(matches!(
        vm.attach(fe, o, "nope"),
        Err(Error::Attach { .. })
    ));
    // Tracing programs cannot be traced.
    assert!(matches!(
        vm.attach(fe, t, "fexit_prog"),
        Err(Error::Attach { .. })
    ));
}

#[test]
fn tracer_instructions_count_against_the_run() {
    // target: 2 instructions (mov, exit).
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "target",
            vec![tc("entry", "mov %r0, 1\nexit")],
            vec![],
        ))
        .unwrap();
    let t = load_counters(&mut vm, "entry");
    let entry = vm.program(o, "entry").unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(14)).stats.insns_executed, 2);
    vm.attach(vm.program(t, "fentry_prog").unwrap(), o, "entry")
        .unwrap();
    // The tracer runs lddw, ldxdw, add, stxdw, mov, exit: 6 more.
    assert_eq!(run(&mut vm, entry, &Ctx::zeros(14)).stats.insns_executed, 8);
    // Budget 4: the tracer runs first and spends it on lddw, ldxdw, add,
    // stxdw (pcs 0-4); its mov at pc 5 is refused, and names the tracer.
    vm.set_insn_budget(4);
    let e = try_run(&mut vm, entry, &Ctx::zeros(14)).unwrap_err();
    assert_eq!(e, RunError::BudgetExhausted { pc: 5 });
    assert_eq!(
        vm.last_fault_program(),
        Some(vm.program(t, "fentry_prog").unwrap())
    );
}
