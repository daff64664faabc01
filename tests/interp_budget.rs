//! The instruction budget is exact: `insns_executed` counts every executed
//! instruction, and a run stops at precisely the first instruction past the
//! budget. This pins the interpreter's fused ops (an ALU op and the `ja`
//! after it dispatched together) to the one-instruction-at-a-time model.
//! Interpreter only: the JIT may report exhaustion at block granularity.

mod runtime_support;

use runtime_support::load_raw;
use rvbpf::{Ctx, Engine, Outcome, ProgId, RunError, Vm};

fn interp(vm: &mut Vm, p: ProgId) -> Result<Outcome, RunError> {
    vm.run(p, &Ctx::empty(), Engine::Interp)
}

/// `mov` at pc 0, then `add` (pc 1) and `ja` (pc 2) forever.
const ENDLESS: &str = "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit";

#[test]
fn every_budget_stops_at_the_next_instruction() {
    for budget in 1..=12u64 {
        let mut vm = Vm::new();
        vm.set_insn_budget(budget);
        let p = load_raw(&mut vm, ENDLESS);
        let e = interp(&mut vm, p).unwrap_err();
        // Executed pcs: 0, 1, 2, 1, 2, ... — instruction #k (0-based) is at
        // pc 1 for odd k and pc 2 for even k > 0; #budget is the refused one.
        let refused = if budget % 2 == 1 { 1 } else { 2 };
        assert_eq!(
            e,
            RunError::BudgetExhausted { pc: refused },
            "budget {budget}"
        );
    }
}

#[test]
fn fused_jumps_count_as_two_instructions() {
    let mut vm = Vm::new();
    let p = load_raw(
        &mut vm,
        "mov %r0, 0\nmov %r1, 3\nloop:\njeq %r1, 0, done\nsub %r1, 1\nadd %r0, 2\nja loop\ndone:\nexit",
    );
    let out = interp(&mut vm, p).unwrap();
    assert_eq!(out.ret, 6);
    // 2 movs + 3 × (jeq, sub, add, ja) + the taken jeq + exit.
    assert_eq!(out.stats.insns_executed, 2 + 3 * 4 + 1 + 1);
}

#[test]
fn a_jump_to_the_ja_of_a_fused_pair_runs_only_the_ja() {
    let mut vm = Vm::new();
    let p = load_raw(
        &mut vm,
        "mov %r0, 1\njeq %r0, 1, j\nadd %r0, 10\nj:\nja end\nadd %r0, 100\nend:\nexit",
    );
    let out = interp(&mut vm, p).unwrap();
    // The add before the ja is skipped: r0 stays 1.
    assert_eq!(out.ret, 1);
    // mov, jeq (taken), ja, exit.
    assert_eq!(out.stats.insns_executed, 4);
}
