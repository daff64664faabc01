//! The emulated JIT engine (`rvbpf::engine`): engine names, JIT-only
//! statistics, the budget unit, and fentry/fexit attach/detach on compiled
//! code. (Every other run test already loops over `Engine::all()`, which
//! lists each JIT configuration, and compares it with the interpreter.)

mod runtime_support;

use runtime_support::{bss, object, prog, tc};
use rvbpf::ebpf::object::ProgKind;
use rvbpf::rv64::Target;
use rvbpf::{Ctx, Engine, JitConfig, RunError, Vm};
use rvbpf_jit::{Sandbox, TccScheme, Tier};

/// The emulated JIT engines (on riscv64 Linux `Engine::all()` also lists
/// native ones, whose statistics and budget unit differ).
fn jit_engines() -> impl Iterator<Item = Engine> {
    Engine::all()
        .iter()
        .copied()
        .filter(|e| matches!(e, Engine::Jit(_)))
}

#[test]
fn all_lists_the_interpreter_then_every_target_and_scheme() {
    let all: Vec<Engine> = Engine::all()
        .iter()
        .copied()
        .filter(|e| !matches!(e, Engine::Native(_)))
        .collect();
    // 1 interpreter + 4 targets x 3 schemes + 1 masked + 1 baseline tier
    // (+ the native engines on riscv64 Linux, left out here).
    assert_eq!(all.len(), 15);
    assert_eq!(all[0], Engine::Interp);
    let mut names: Vec<&str> = all.iter().map(|e| e.name()).collect();
    for &e in &all {
        assert_eq!(Engine::from_name(e.name()), Some(e));
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 15, "names are unique");
    assert_eq!(
        Engine::from_name("jit-rv64g_zba_zbb-stack"),
        Some(Engine::Jit(JitConfig {
            target: Target {
                c: false,
                zba: true,
                zbb: true
            },
            tcc: TccScheme::Stack,
            sandbox: Sandbox::None,
            tier: Tier::Optimizing,
        }))
    );
    // Plain `jit` is the compiler's default configuration: rv64gc, reg
    // (emulated; on riscv64 Linux it names the native engine).
    #[cfg(not(all(target_arch = "riscv64", target_os = "linux")))]
    assert_eq!(
        Engine::from_name("jit"),
        Some(Engine::Jit(JitConfig {
            target: Target::RV64GC,
            tcc: TccScheme::Reg,
            sandbox: Sandbox::None,
            tier: Tier::Optimizing,
        }))
    );
    // The one masked engine: rv64gc, reg, address masking.
    assert_eq!(
        Engine::from_name("jit-rv64gc-reg-masked"),
        Some(Engine::Jit(JitConfig {
            target: Target::RV64GC,
            tcc: TccScheme::Reg,
            sandbox: Sandbox::Masked,
            tier: Tier::Optimizing,
        }))
    );
    // The baseline tier: rv64gc, reg, no masking.
    assert_eq!(
        Engine::from_name("jit-baseline"),
        Some(Engine::Jit(JitConfig {
            target: Target::RV64GC,
            tcc: TccScheme::Reg,
            sandbox: Sandbox::None,
            tier: Tier::Baseline,
        }))
    );
    assert_eq!(Engine::from_name("jit-rv64gc-nope"), None);
}

#[test]
fn jit_baseline_runs_baseline_code_and_falls_back_for_what_it_lacks() {
    let baseline = Engine::from_name("jit-baseline").unwrap();
    let optimizing = Engine::from_name("jit-rv64gc-reg").unwrap();
    // ALU32: the baseline tier zero-extends after every operation and
    // never compresses, so its code is larger for the same result,
    // (0xffff_fff0 + 0x20) mod 2^32 = 0x10, then 0x10 * 3 = 0x30.
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "a",
            vec![tc(
                "main",
                "mov32 %r0, -16\nadd32 %r0, 0x20\nmul32 %r0, 3\nexit",
            )],
            vec![],
        ))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    let b = vm.run(p, &Ctx::zeros(14), baseline).unwrap();
    let j = vm.run(p, &Ctx::zeros(14), optimizing).unwrap();
    assert_eq!((b.ret, j.ret), (0x30, 0x30));
    assert!(
        b.stats.code_bytes > j.stats.code_bytes,
        "baseline {} bytes vs optimizing {}",
        b.stats.code_bytes,
        j.stats.code_bytes
    );
    // `ldabs` is not in the baseline tier: the optimizing JIT compiles it.
    // The packet is the context; byte 0 = 0xab.
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("l", vec![tc("main", "ldabsb 0\nexit")], vec![]))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    let mut ctx = vec![0u8; 14];
    ctx[0] = 0xab;
    let i = vm.run(p, &Ctx::new(ctx.clone()), Engine::Interp).unwrap();
    let b = vm.run(p, &Ctx::new(ctx), baseline).unwrap();
    assert_eq!((i.ret, b.ret), (0xab, 0xab));
}

#[test]
fn jit_statistics_come_from_the_emulator_and_are_zero_on_the_interpreter() {
    // One store into a global, r0 = 7.
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "s",
            vec![tc(
                "main",
                "lddw %r1, map_value:0+0\nstdw [%r1], 3\nmov %r0, 7\nexit",
            )],
            vec![bss(".bss", &["x"])],
        ))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    let i = vm.run(p, &Ctx::zeros(14), Engine::Interp).unwrap();
    assert_eq!(i.ret, 7);
    assert_eq!(
        (
            i.stats.code_bytes,
            i.stats.insns_retired,
            i.stats.loads,
            i.stats.stores
        ),
        (0, 0, 0, 0)
    );
    for e in jit_engines() {
        let j = vm.run(p, &Ctx::zeros(14), e).unwrap();
        assert_eq!(j.ret, 7, "{e}");
        assert!(j.stats.code_bytes > 0, "{e}");
        // At least the four BPF instructions' worth of RV64 code ran.
        assert!(j.stats.insns_retired >= 4, "{e}");
        assert!(j.stats.stores >= 1, "{e}: the global store");
        // The store went to the runtime's own storage (lent, not copied).
        assert_eq!(vm.global(o, "x").unwrap().as_int(), Some(3));
    }
}

#[test]
fn the_jit_budget_counts_rv64_instructions() {
    // Two BPF instructions; the JIT needs more RV64 instructions than that
    // (header nops, the tail-call counter init, the move, the return).
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("b", vec![tc("main", "mov %r0, 1\nexit")], vec![]))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    vm.set_insn_budget(2);
    assert_eq!(vm.run(p, &Ctx::zeros(14), Engine::Interp).unwrap().ret, 1);
    for e in jit_engines() {
        assert!(
            matches!(
                vm.run(p, &Ctx::zeros(14), e),
                Err(RunError::BudgetExhausted { .. })
            ),
            "{e}"
        );
    }
}

#[test]
fn fexit_attaches_and_detaches_on_compiled_code() {
    let mut vm = Vm::new();
    let target = prog(
        "main",
        ProgKind::SchedCls,
        "mov %r1, 5\ncall local sub\nexit\nsub:\nmov %r0, %r1\nadd %r0, 10\nexit",
        &[("sub", 1)],
    );
    let o = vm.load_object(object("t", vec![target], vec![])).unwrap();
    // The tracer stores ctx[0] (the argument) and ctx[1] (the return value).
    let tracer = prog(
        "record",
        ProgKind::Fexit {
            target: "sub".into(),
        },
        "ldxdw %r2, [%r1]\nldxdw %r3, [%r1+8]\nlddw %r7, map_value:0+0\nstxdw [%r7], %r2\nstxdw [%r7+8], %r3\nmov %r0, 0\nexit",
        &[],
    );
    let t = vm
        .load_object(object(
            "tr",
            vec![tracer],
            vec![bss(".bss", &["arg", "ret"])],
        ))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    let rec = vm.program(t, "record").unwrap();
    for e in jit_engines() {
        let before = vm.run(p, &Ctx::zeros(14), e).unwrap();
        assert_eq!((before.ret, before.stats.tracer_runs), (15, 0), "{e}");
        let a = vm.attach(rec, o, "sub").unwrap();
        let traced = vm.run(p, &Ctx::zeros(14), e).unwrap();
        assert_eq!((traced.ret, traced.stats.tracer_runs), (15, 1), "{e}");
        assert_eq!(vm.global(t, "arg").unwrap().as_int(), Some(5), "{e}");
        assert_eq!(vm.global(t, "ret").unwrap().as_int(), Some(15), "{e}");
        // The trampolines live after the program's code.
        assert!(traced.stats.code_bytes > before.stats.code_bytes, "{e}");
        vm.detach(a).unwrap();
        let after = vm.run(p, &Ctx::zeros(14), e).unwrap();
        assert_eq!((after.ret, after.stats.tracer_runs), (15, 0), "{e}");
        assert_eq!(after.stats.code_bytes, before.stats.code_bytes, "{e}");
    }
}

#[test]
fn a_fault_in_compiled_code_names_the_bpf_pc_and_address() {
    // The global section holds one 8-byte variable; reading 8 bytes at +8
    // is past its end. lddw takes pcs 0-1, so the load is pc 2; map 0's
    // values start at MAPS_BASE (0x1_0000_0000).
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "f",
            vec![tc(
                "main",
                "lddw %r1, map_value:0+0\nldxdw %r0, [%r1+8]\nexit",
            )],
            vec![bss(".bss", &["x"])],
        ))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    let expected = RunError::OutOfBounds {
        pc: 2,
        addr: 0x1_0000_0008,
        size: 8,
        access: rvbpf::Access::Read,
    };
    for &e in Engine::all() {
        assert_eq!(vm.run(p, &Ctx::zeros(14), e), Err(expected.clone()), "{e}");
        assert_eq!(vm.last_fault_program(), Some(p), "{e}");
    }
}

/// Two JIT zero-extension bugs found by the native random test
/// (`crates/jit/tests/qemu_random.rs`), here on every emulated JIT
/// configuration. Expected values by hand: ALU32 results are zero-extended.
#[test]
fn alu32_results_stay_zero_extended_through_le64_and_cmpxchg() {
    // -0x6ed33a2b mod 2^32 = 0x912cc5d5; le64 is the identity.
    let neg = "lddw %r0, 0x40ef07146ed33a2b\nneg32 %r0\nle64 %r0\nexit";
    // 0xd77812a4 & 0xffffffe0 = 0xd77812a0; cmpxchg writes r0, not r6.
    let cmpxchg = "lddw %r6, 0xc2e3bb92d77812a4\nmov %r0, 0\nand32 %r6, -32\nstdw [%r10-8], 0\n\
         lock cmpxchg32 [%r10-8], %r6\nmov %r0, %r6\nexit";
    for (src, expected) in [(neg, 0x912c_c5d5u64), (cmpxchg, 0xd778_12a0)] {
        let mut vm = Vm::new();
        let p = runtime_support::load_raw(&mut vm, src);
        for &e in Engine::all() {
            assert_eq!(
                vm.run(p, &Ctx::empty(), e).unwrap().ret,
                expected,
                "{e}: {src}"
            );
        }
    }
}

#[test]
fn bpf_code_cannot_forge_a_prog_array_view() {
    // A tail call jumps to `view.entry[index]`. The emulated engine keeps
    // the views in a read-only region at JIT_DATA_BASE + VIEWS_OFFSET
    // (0x6000_1000; the first view's entry 0 is 8 bytes in), so a store
    // there faults on the JIT as it does on the interpreter (nothing is
    // mapped there in the VM), and the tail call still finds the empty slot
    // and falls through: r0 = 1 on every engine if the store were ignored,
    // an error at pc 2 if it faults.
    let mut vm = Vm::new();
    let asm = "lddw %r6, 0x60001008\n\
               stdw [%r6], 0x1000\n\
               lddw %r2, map:0\n\
               mov %r3, 0\n\
               call 12\n\
               mov %r0, 1\n\
               exit";
    let o = vm
        .load_object(object(
            "forge",
            vec![tc("main", asm)],
            vec![runtime_support::prog_array("jmp", 1)],
        ))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    for &e in Engine::all() {
        match vm.run(p, &Ctx::zeros(14), e) {
            Err(RunError::OutOfBounds { pc, addr, .. } | RunError::ReadOnly { pc, addr, .. }) => {
                assert_eq!((pc, addr), (2, 0x6000_1008), "{e}")
            }
            other => panic!("{e}: the forged view store must fault, got {other:?}"),
        }
    }
}
