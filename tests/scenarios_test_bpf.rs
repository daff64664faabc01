//! Catalogue 4.8: the tail-call tests #0..#9 of Linux lib/test_bpf.c,
//! ported in tests/bpf/test_bpf_tail_calls.c. The context is a 4-byte u32
//! `state` word; tail_call_table is initialised from the object (slot i =
//! tail_call_i, slot 10 empty).

mod scenario_support;

use rvbpf::{Engine, Vm};
use scenario_support::{engines, Scenario};

/// Linux's MAX_TESTRUNS: the stateful tests run this often without
/// resetting the state.
const RUNS: u32 = 1000;

/// The object with the kfunc #7 calls registered. In Linux the callee
/// clobbers CPU registers; here it does some work and returns junk, which
/// is what a caller may observe of a call (r0 and r1..r5 are dead after it).
fn load(engine: Engine) -> Scenario {
    let mut vm = Vm::new();
    vm.register_kfunc("rvbpf_test_clobber", |_env, args| {
        let junk = args
            .iter()
            .fold(0x9e37_79b9_7f4a_7c15u64, |acc, a| acc.rotate_left(7) ^ a);
        Ok(junk)
    });
    Scenario::load_into(vm, "test_bpf_tail_calls", engine)
}

/// Runs test `n` once with the state starting at 0; returns R0.
fn run_once(n: u32) -> Vec<(Engine, u32)> {
    engines()
        .into_iter()
        .map(|engine| {
            let mut s = load(engine);
            (
                engine,
                s.run(&format!("tail_call_{n}"), &0u32.to_le_bytes()),
            )
        })
        .collect()
}

/// Runs test `n` RUNS times, feeding each run the state the previous run
/// left in the ctx; returns the final state.
fn run_accumulating(n: u32) -> Vec<(Engine, u32)> {
    engines()
        .into_iter()
        .map(|engine| {
            let mut s = load(engine);
            let mut state = 0u32;
            for _ in 0..RUNS {
                s.run(&format!("tail_call_{n}"), &state.to_le_bytes());
                let ctx = s.vm.ctx_bytes();
                state = u32::from_le_bytes([ctx[0], ctx[1], ctx[2], ctx[3]]);
            }
            (engine, state)
        })
        .collect()
}

fn expect_ret(n: u32, expected: u32) {
    for (engine, ret) in run_once(n) {
        assert_eq!(ret, expected, "{engine:?}: test #{n}");
    }
}

fn expect_state(n: u32, expected: u32) {
    for (engine, state) in run_accumulating(n) {
        assert_eq!(
            state, expected,
            "{engine:?}: test #{n} state after {RUNS} runs"
        );
    }
}

#[test]
fn tail_call_leaf() {
    expect_ret(0, 1); // 0 + 1
}

#[test]
fn tail_call_2() {
    expect_ret(1, 3); // +2, then #0 adds 1
}

#[test]
fn tail_call_3() {
    expect_ret(2, 6); // +3 +2 +1
}

#[test]
fn tail_call_4() {
    expect_ret(3, 10); // +4 +3 +2 +1
}

#[test]
fn tail_call_load_store_leaf() {
    expect_ret(4, 0); // stack values read back intact
}

#[test]
fn tail_call_load_store() {
    expect_ret(5, 0); // #5 tail-calls #4, which gets a usable stack
}

#[test]
fn tail_call_error_path_max_count_reached() {
    // Per run: the first entry plus 33 successful tail calls = 34.
    expect_state(6, 34 * RUNS);
}

#[test]
fn tail_call_count_preserved_across_function_calls() {
    // As #6, with helper and kfunc calls before every tail call.
    expect_state(7, 34 * RUNS);
}

#[test]
fn tail_call_error_path_null_target() {
    // One increment per run; the tail call to empty slot 10 falls through.
    expect_state(8, RUNS);
}

#[test]
fn tail_call_error_path_index_out_of_range() {
    // One increment per run; index 11 >= 11 slots falls through.
    expect_state(9, RUNS);
}
