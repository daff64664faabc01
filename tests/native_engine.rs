//! The native engine's contract, on every host: its names parse
//! everywhere, it is listed in `Engine::all()` exactly where it is compiled
//! in (riscv64 Linux), it refuses to run elsewhere, and — on every engine
//! of the host, so natively when this runs on riscv64 (under qemu:
//! `tests/native_qemu.rs`) — hostile pointers and endless loops end in
//! typed errors, never in a crash or a read of host memory.

mod runtime_support;

use runtime_support::{global_section, map, object, tc, try_run};
use rvbpf::ebpf::object::MapKind;
use rvbpf::engine::NATIVE_AVAILABLE;
use rvbpf::{Access, Ctx, Engine, ProgId, RunError, Vm};

fn load(vm: &mut Vm, asm: &str) -> ProgId {
    let o = vm
        .load_object(object("n", vec![tc("main", asm)], vec![]))
        .unwrap();
    vm.program(o, "main").unwrap()
}

#[test]
fn native_names_parse_on_every_host() {
    let native = Engine::from_name("native").unwrap();
    assert!(matches!(native, Engine::Native(_)));
    assert_eq!(native.name(), "native-rv64gc-reg");
    for name in [
        "native-rv64gc-reg",
        "native-rv64gc-stack",
        "native-rv64gc-ptr",
        "native-rv64g-reg",
        "native-rv64gc_zba_zbb-reg",
        "native-rv64gc_zba_zbb-stack",
        "native-rv64gc_zba_zbb-ptr",
        "native-rv64g_zba_zbb-reg",
    ] {
        assert_eq!(Engine::from_name(name).unwrap().name(), name);
    }
    // `jit` is the native engine exactly where it is compiled in.
    let jit = Engine::from_name("jit").unwrap();
    assert_eq!(matches!(jit, Engine::Native(_)), NATIVE_AVAILABLE);
    let listed = Engine::all()
        .iter()
        .filter(|e| matches!(e, Engine::Native(_)))
        .count();
    // rv64gc x 3 schemes + rv64g, and the same with Zba/Zbb when the CPU
    // has them.
    let expected: &[usize] = if NATIVE_AVAILABLE { &[4, 8] } else { &[0] };
    assert!(expected.contains(&listed), "{listed} native engines");
}

#[test]
fn native_runs_elsewhere_are_unavailable() {
    if NATIVE_AVAILABLE {
        return;
    }
    let mut vm = Vm::new();
    let p = load(&mut vm, "mov %r0, 1\nexit");
    let e = vm
        .run(p, &Ctx::zeros(14), Engine::from_name("native").unwrap())
        .unwrap_err();
    assert!(matches!(e, RunError::EngineUnavailable(_)), "{e}");
}

/// A value the hostile programs try to read or overwrite through its real
/// (host) address.
static SECRET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0x5ec7e7);

#[test]
fn wild_pointers_end_in_typed_errors_on_every_engine() {
    // lddw takes pcs 0-1, so the access is pc 2. The address is far outside
    // every region (masked to 36 bits it is 0x4_5678_0000, a map slot no
    // map uses): every engine must report an out-of-bounds access there.
    let wild = 0x7fff_1234_5678_0000u64;
    let mut vm = Vm::new();
    let load_p = load(
        &mut vm,
        &format!("lddw %r1, {wild:#x}\nldxdw %r0, [%r1]\nexit"),
    );
    let store_p = load(
        &mut vm,
        &format!("lddw %r1, {wild:#x}\nstdw [%r1], 7\nmov %r0, 0\nexit"),
    );
    for &e in Engine::all() {
        let r = vm.run(load_p, &Ctx::zeros(14), e);
        assert!(
            matches!(
                r,
                Err(RunError::OutOfBounds {
                    pc: 2,
                    size: 8,
                    access: Access::Read,
                    ..
                })
            ),
            "{e}: {r:?}"
        );
        let r = vm.run(store_p, &Ctx::zeros(14), e);
        assert!(
            matches!(
                r,
                Err(RunError::OutOfBounds {
                    pc: 2,
                    size: 8,
                    access: Access::Write,
                    ..
                })
            ),
            "{e}: {r:?}"
        );
    }
}

#[test]
fn host_addresses_are_out_of_reach_on_every_engine() {
    let addr = SECRET.as_ptr() as u64;
    let before = SECRET.load(std::sync::atomic::Ordering::SeqCst);
    let mut vm = Vm::new();
    let read = load(
        &mut vm,
        &format!("lddw %r1, {addr:#x}\nldxdw %r0, [%r1]\nexit"),
    );
    let write = load(
        &mut vm,
        &format!("lddw %r1, {addr:#x}\nstdw [%r1], 1\nmov %r0, 0\nexit"),
    );
    for &e in Engine::all() {
        // The interpreter and the emulator find no region there; masked
        // native code lands somewhere in the sandbox. Either way: an error
        // or a value that is not the secret, and the secret survives.
        match vm.run(read, &Ctx::zeros(14), e) {
            Ok(o) => assert_ne!(o.ret, before, "{e} read the host's secret"),
            Err(err) => assert!(!matches!(err, RunError::EngineUnavailable(_)), "{e}: {err}"),
        }
        let _ = vm.run(write, &Ctx::zeros(14), e);
        assert_eq!(
            SECRET.load(std::sync::atomic::Ordering::SeqCst),
            before,
            "{e} wrote the host's secret"
        );
    }
}

#[test]
fn endless_loops_end_with_budget_exhausted_on_every_engine() {
    let mut vm = Vm::new();
    vm.set_insn_budget(100_000);
    let p = load(&mut vm, "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit");
    for &e in Engine::all() {
        let r = vm.run(p, &Ctx::zeros(14), e);
        assert!(
            matches!(r, Err(RunError::BudgetExhausted { .. })),
            "{e}: {r:?}"
        );
    }
}

#[test]
fn native_stats_count_helpers_and_code() {
    for &e in Engine::all()
        .iter()
        .filter(|e| matches!(e, Engine::Native(_)))
    {
        let mut vm = Vm::new();
        // bpf_get_prandom_u32 (helper 7) twice.
        let p = load(&mut vm, "call 7\ncall 7\nmov %r0, 5\nexit");
        let o = vm.run(p, &Ctx::zeros(14), e).unwrap();
        assert_eq!(o.ret, 5, "{e}");
        assert_eq!(o.stats.helper_calls, 2, "{e}");
        assert!(o.stats.code_bytes > 0, "{e}");
        // Emulator counters: not available natively.
        assert_eq!((o.stats.insns_retired, o.stats.loads), (0, 0), "{e}");
    }
}

#[test]
fn writes_to_read_only_memory_are_typed_errors_with_their_location() {
    // A `.rodata` section (read-only global data) of one u64 at map 0's
    // values, MAPS_BASE = 0x1_0000_0000; lddw takes pcs 0-1, so the store
    // is pc 2 and hits exactly that address with 8 bytes.
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "ro",
            vec![tc(
                "main",
                "lddw %r1, map_value:0+0\nstdw [%r1], 7\nmov %r0, 0\nexit",
            )],
            vec![global_section(".rodata", vec![0; 8], &["c"], true)],
        ))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    let expected = RunError::ReadOnly {
        pc: 2,
        addr: 0x1_0000_0000,
        size: 8,
    };
    for &e in Engine::all() {
        assert_eq!(vm.run(p, &Ctx::zeros(14), e), Err(expected.clone()), "{e}");
    }
}

#[test]
fn a_failing_helper_ends_the_run_with_the_same_error_on_every_engine() {
    // bpf_map_lookup_elem (1) with r1 = 0: no map there. The helper fails
    // on every engine, natively through the abort path; try_run asserts
    // every engine returns what the interpreter returns.
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "h",
            vec![tc(
                "main",
                "mov %r1, 0\nmov %r2, %r10\nadd %r2, -8\nstdw [%r10-8], 0\ncall 1\nmov %r0, 3\nexit",
            )],
            vec![map("m", MapKind::Array, 4, 8, 1)],
        ))
        .unwrap();
    let p = vm.program(o, "main").unwrap();
    let r = try_run(&mut vm, p, &Ctx::zeros(14));
    assert!(
        matches!(r, Err(RunError::Helper { pc: 4, id: 1, .. })),
        "{r:?}"
    );
    // The VM is usable afterwards (the abort left no run state behind).
    let q = load(&mut vm, "mov %r0, 9\nexit");
    for &e in Engine::all() {
        assert_eq!(vm.run(q, &Ctx::zeros(14), e).unwrap().ret, 9, "{e}");
    }
}
