//! One `Vm` runs the same program many times with the same result and
//! count. (Speed is measured by `benches/interp.rs` and
//! `examples/interp_speed.rs`, not by tests.)

mod runtime_support;

use rvbpf::{Ctx, Engine, Vm};

/// 2 + 5 × n + 1 instructions: a counted loop with a stack store and load.
fn looping(n: u32) -> String {
    format!("mov %r0, 0\nmov %r1, {n}\nloop:\nstxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nadd %r0, %r2\nsub %r1, 1\njne %r1, 0, loop\nexit")
}

#[test]
fn repeated_runs_reuse_the_vm() {
    let mut vm = Vm::new();
    let p = runtime_support::load_raw(&mut vm, &looping(100));
    for _ in 0..1000 {
        let out = vm.run(p, &Ctx::empty(), Engine::Interp).unwrap();
        // sum 1..=100
        assert_eq!(out.ret, 5050);
        assert_eq!(out.stats.insns_executed, 2 + 5 * 100 + 1);
    }
}
