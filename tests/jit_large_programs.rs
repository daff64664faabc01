//! Large generated programs on every engine: the compile benchmark's
//! programs (`crates/jit/benches/compile_support/program.rs`: ALU64/ALU32,
//! stack loads and stores, forward jumps of three distance bands, some
//! beyond a RISC-V branch's ±4 KiB, `lddw`, bpf2bpf calls) are only
//! compiled there; here they run. At 12k instructions a function spans
//! several of the baseline tier's 2048-pc windows and both tiers relax
//! branches, so this checks, against the interpreter, what small programs
//! cannot reach. Every jump goes forward, so each run ends.

mod runtime_support;

#[allow(dead_code)]
#[path = "../crates/jit/benches/compile_support/program.rs"]
mod program;

use runtime_support::{load_raw, run};
use rvbpf::{Ctx, Vm};

#[test]
fn generated_12k_instruction_programs_agree_on_every_engine() {
    let mut returns = Vec::new();
    for seed in [1, 0x5eed, 0xdead_beef] {
        let generated = program::generate(12_000, seed);
        let mut vm = Vm::new();
        let p = load_raw(&mut vm, &generated.asm);
        // `run` compares every engine's return value, memory and maps with
        // the interpreter's.
        returns.push(run(&mut vm, p, &Ctx::empty()).ret);
    }
    // Different programs compute different values (the comparison above
    // is not between constant results).
    returns.sort();
    returns.dedup();
    assert_eq!(returns.len(), 3, "{returns:x?}");
}
