//! End to end on the built-in demonstration objects (`demo/*.o`, compiled by
//! clang from `demo/*.c`): ELF loading, static prog-array init, globals,
//! bpf2bpf + tail calls sharing one budget, fentry/fexit on a subprogram.

mod runtime_support;

use runtime_support::run;
use rvbpf::{Ctx, GlobalValue, Vm};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/demo.o");
const TRACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/demo_trace.o");

fn int(v: GlobalValue) -> u64 {
    v.as_int().expect("integer global")
}

#[test]
fn demo_pipeline_spends_exactly_one_budget() {
    let mut vm = Vm::new();
    let o = vm.load_elf_file(DEMO).unwrap();
    let entry = vm.program(o, "entry").unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(64));
    // demo.c header: #1 parse, #2 filter, #3..#33 count (31 visits); the 34th
    // attempt fails inside next_stage(2), which returns 2; entry adds 100.
    assert_eq!(out.ret, 102);
    assert_eq!(out.stats.tail_calls, 33);
    assert_eq!(int(vm.global(o, "visits_parse").unwrap()), 1);
    assert_eq!(int(vm.global(o, "visits_filter").unwrap()), 1);
    assert_eq!(int(vm.global(o, "visits_count").unwrap()), 31);
    // next_stage runs once from entry and once per visited stage: 1 + 33.
    assert_eq!(int(vm.global(o, "hops").unwrap()), 34);
    assert_eq!(
        vm.trace_log(),
        "parse: packet of 64 bytes\nfilter: accepted\n"
    );
}

#[test]
fn demo_tracers_see_every_call_and_leave_the_budget_alone() {
    let mut vm = Vm::new();
    let o = vm.load_elf_file(DEMO).unwrap();
    let t = vm.load_elf_file(TRACE).unwrap();
    let entry = vm.program(o, "entry").unwrap();
    vm.attach(vm.program(t, "on_entry").unwrap(), o, "next_stage")
        .unwrap();
    vm.attach(vm.program(t, "on_exit").unwrap(), o, "next_stage")
        .unwrap();
    let out = run(&mut vm, entry, &Ctx::zeros(64));
    assert_eq!(out.ret, 102, "tracers must not change the traced run");
    assert_eq!(int(vm.global(o, "visits_count").unwrap()), 31);
    // 34 calls of next_stage, each traced on entry and exit.
    assert_eq!(int(vm.global(t, "entered").unwrap()), 34);
    assert_eq!(int(vm.global(t, "exited").unwrap()), 34);
    // The innermost call is next_stage(2), whose tail call fails: it returns 2.
    // fexit fires innermost-first, so the last fexit is the outermost call
    // (entry's next_stage(0)), which returns what the chain returned: 2.
    assert_eq!(int(vm.global(t, "last_ret").unwrap()), 2);
    // The last fentry was the innermost call: stage 2.
    assert_eq!(int(vm.global(t, "last_stage").unwrap()), 2);
    assert_eq!(out.stats.tracer_runs, 68);
}
