//! Map semantics from the host API and from BPF code (helpers 1–3), global
//! variables, and concurrent prog-array updates.

mod runtime_support;

use runtime_support::{bss, global_section, map, object, prog, prog_array, raw, run};
use rvbpf::ebpf::object::{MapKind, ProgKind};
use rvbpf::maps::{BPF_EXIST, BPF_NOEXIST};
use rvbpf::{Ctx, Error, GlobalValue, LoadOptions, MapError, ProgId, Vm};

fn k(n: u32) -> [u8; 4] {
    n.to_le_bytes()
}

fn map_err(e: Error) -> MapError {
    match e {
        Error::Map(m) => m,
        other => panic!("expected a map error, got {other}"),
    }
}

#[test]
fn hash_map_capacity_flags_and_delete() {
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("m", vec![], vec![map("h", MapKind::Hash, 4, 8, 2)]))
        .unwrap();
    let h = vm.map(o, "h").unwrap();
    vm.map_update(h, &k(1), &10u64.to_le_bytes()).unwrap();
    vm.map_update(h, &k(2), &20u64.to_le_bytes()).unwrap();
    // Full: a third key does not fit (E2BIG).
    let e = map_err(vm.map_update(h, &k(3), &30u64.to_le_bytes()).unwrap_err());
    assert!(matches!(e, MapError::Full { max_entries: 2, .. }));
    assert_eq!(e.errno(), -7);
    // Overwriting an existing key is fine even when full.
    vm.map_update(h, &k(2), &21u64.to_le_bytes()).unwrap();
    assert_eq!(
        vm.map_lookup(h, &k(2)).unwrap(),
        Some(21u64.to_le_bytes().to_vec())
    );
    // NOEXIST on an existing key, EXIST on a missing one.
    assert!(matches!(
        map_err(
            vm.map_update_flags(h, &k(1), &[0; 8], BPF_NOEXIST)
                .unwrap_err()
        ),
        MapError::Exists { .. }
    ));
    assert!(matches!(
        map_err(
            vm.map_update_flags(h, &k(9), &[0; 8], BPF_EXIST)
                .unwrap_err()
        ),
        MapError::NotFound { .. }
    ));
    // Delete, then delete again → NotFound (ENOENT); the freed slot is reusable.
    vm.map_delete(h, &k(1)).unwrap();
    let e = map_err(vm.map_delete(h, &k(1)).unwrap_err());
    assert!(matches!(e, MapError::NotFound { .. }));
    assert_eq!(e.errno(), -2);
    assert_eq!(vm.map_lookup(h, &k(1)).unwrap(), None);
    vm.map_update(h, &k(3), &30u64.to_le_bytes()).unwrap();
    // Wrong sizes are rejected.
    assert!(matches!(
        map_err(vm.map_update(h, &[1, 2], &[0; 8]).unwrap_err()),
        MapError::BadSize { what: "key", .. }
    ));
    assert!(matches!(
        map_err(vm.map_update(h, &k(3), &[0; 4]).unwrap_err()),
        MapError::BadSize { what: "value", .. }
    ));
}

#[test]
fn array_map_rules() {
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("m", vec![], vec![map("a", MapKind::Array, 4, 4, 3)]))
        .unwrap();
    let a = vm.map(o, "a").unwrap();
    // Arrays are preallocated and zeroed.
    assert_eq!(vm.map_lookup(a, &k(2)).unwrap(), Some(vec![0; 4]));
    assert_eq!(vm.map_lookup(a, &k(3)).unwrap(), None);
    assert!(matches!(
        map_err(vm.map_update(a, &k(3), &[0; 4]).unwrap_err()),
        MapError::IndexOutOfRange { index: 3, .. }
    ));
    assert!(matches!(
        map_err(
            vm.map_update_flags(a, &k(0), &[0; 4], BPF_NOEXIST)
                .unwrap_err()
        ),
        MapError::Exists { .. }
    ));
    assert!(matches!(
        map_err(vm.map_delete(a, &k(0)).unwrap_err()),
        MapError::Unsupported { .. }
    ));
}

#[test]
fn prog_array_slots() {
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "m",
            vec![raw("p", "mov %r0, 0\nexit")],
            vec![prog_array("jt", 2)],
        ))
        .unwrap();
    let jt = vm.map(o, "jt").unwrap();
    let p = vm.program(o, "p").unwrap();
    // Deleting an empty slot is ENOENT.
    assert!(matches!(
        map_err(vm.map_delete(jt, &k(0)).unwrap_err()),
        MapError::NotFound { .. }
    ));
    vm.prog_array_set(jt, 1, p).unwrap();
    assert_eq!(
        vm.map_lookup(jt, &k(1)).unwrap(),
        Some(p.0.to_le_bytes().to_vec())
    );
    assert!(matches!(
        map_err(vm.prog_array_set(jt, 2, p).unwrap_err()),
        MapError::IndexOutOfRange { .. }
    ));
    // Unknown program ids are refused.
    assert!(matches!(
        vm.prog_array_set(jt, 0, ProgId(99)),
        Err(Error::NoSuchProgramId(99))
    ));
    assert!(matches!(
        vm.map_update(jt, &k(0), &99u32.to_le_bytes()),
        Err(Error::NoSuchProgramId(99))
    ));
    vm.map_update(jt, &k(0), &p.0.to_le_bytes()).unwrap();
    vm.map_delete(jt, &k(0)).unwrap();
    // Not a prog array.
    let o2 = vm
        .load_object(object("n", vec![], vec![map("a", MapKind::Array, 4, 4, 1)]))
        .unwrap();
    assert!(matches!(
        vm.prog_array_set(vm.map(o2, "a").unwrap(), 0, p),
        Err(Error::NotAProgArray(_))
    ));
}

#[test]
fn programs_use_maps_through_helpers() {
    // key = 7 on the stack; update(h, key, value = 5); v = lookup(h, key);
    // *v += 1 through the returned pointer; return delete(h, key 8) (missing → -ENOENT).
    let asm = "stw [%r10-4], 7\nstdw [%r10-16], 5\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\n\
               lddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, fail\nldxdw %r1, [%r0]\nadd %r1, 1\nstxdw [%r0], %r1\n\
               stw [%r10-4], 8\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\ncall 3\nexit\nfail:\nmov %r0, 99\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "m",
            vec![raw("p", asm)],
            vec![map("h", MapKind::Hash, 4, 8, 4)],
        ))
        .unwrap();
    let p = vm.program(o, "p").unwrap();
    let out = run(&mut vm, p, &Ctx::empty());
    assert_eq!(out.ret as i64, -2);
    assert_eq!(out.stats.helper_calls, 3);
    let h = vm.map(o, "h").unwrap();
    assert_eq!(
        vm.map_lookup(h, &k(7)).unwrap(),
        Some(6u64.to_le_bytes().to_vec())
    );
}

#[test]
fn helper_update_on_a_full_hash_returns_e2big() {
    let asm = "stw [%r10-4], 1\nstdw [%r10-16], 0\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "m",
            vec![raw("p", asm)],
            vec![map("h", MapKind::Hash, 4, 8, 1)],
        ))
        .unwrap();
    let h = vm.map(o, "h").unwrap();
    vm.map_update(h, &k(5), &[0; 8]).unwrap();
    let p = vm.program(o, "p").unwrap();
    assert_eq!(run(&mut vm, p, &Ctx::empty()).ret as i64, -7);
}

#[test]
fn globals_read_write_and_list() {
    let mut data = 3u64.to_le_bytes().to_vec();
    data.extend_from_slice(&4u64.to_le_bytes());
    // prog: return a * 10 + b, and set a = 9.
    let asm = "lddw %r1, map_value:0+0\nldxdw %r0, [%r1+0]\nmul %r0, 10\nldxdw %r2, [%r1+8]\nadd %r0, %r2\nstdw [%r1+0], 9\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "g",
            vec![raw("p", asm)],
            vec![global_section(".data", data, &["a", "b"], false)],
        ))
        .unwrap();
    let p = vm.program(o, "p").unwrap();
    assert_eq!(run(&mut vm, p, &Ctx::empty()).ret, 34);
    assert_eq!(vm.global(o, "a").unwrap(), GlobalValue::Int(9));
    vm.set_global(o, "b", 7).unwrap();
    assert_eq!(run(&mut vm, p, &Ctx::empty()).ret, 97);
    let all = vm.globals(o).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[1].section.as_str(), all[1].name.as_str(), &all[1].value),
        (".data", "b", &GlobalValue::Int(7))
    );
    assert!(matches!(
        vm.global(o, "zzz"),
        Err(Error::NoSuchGlobal { .. })
    ));
    assert!(matches!(
        vm.set_global(o, "a", vec![1u8, 2]),
        Err(Error::GlobalSize {
            size: 8,
            got: 2,
            ..
        })
    ));
}

#[test]
fn prog_array_updates_race_with_loads_and_runs() {
    // tailcall_poke: a thread keeps rewriting slot 0 (call1, call2, call1 ...)
    // while this thread loads new instances that reuse the map and run them.
    let mut vm = Vm::new();
    let tracer = |name: &str| {
        prog(
            name,
            ProgKind::Fentry {
                target: "bpf_fentry_test1".into(),
            },
            "mov %r0, 0\nexit",
            &[],
        )
    };
    let a = vm
        .load_object(object(
            "poke_a",
            vec![tracer("call1"), tracer("call2")],
            vec![prog_array("jmp_table", 1)],
        ))
        .unwrap();
    let table = vm.map(a, "jmp_table").unwrap();
    let (c1, c2) = (
        vm.program(a, "call1").unwrap(),
        vm.program(a, "call2").unwrap(),
    );
    let handle = vm.prog_array_handle(table).unwrap();
    let watcher = handle.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                handle
                    .set_prog(0, if n & 1 == 0 { c1 } else { c2 })
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    let tracer_with = |name: &str, asm: &str| {
        prog(
            name,
            ProgKind::Fentry {
                target: "bpf_fentry_test1".into(),
            },
            asm,
            &[],
        )
    };
    // "test" (also fentry, as the map's programs must share a class): tail call slot 0 (returns 0 via call1/call2), else return 1.
    let test_asm = "lddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit";
    // Start racing once the writer is running.
    while watcher.get(0).is_none() {
        std::thread::yield_now();
    }
    for i in 0..10 {
        let b = object(
            &format!("poke_b{i}"),
            vec![tracer_with("test", test_asm)],
            vec![prog_array("jmp_table", 1)],
        );
        let opts = LoadOptions {
            reuse_maps: vec![("jmp_table".into(), table)],
        };
        let b = vm.load_object_with(b, &opts).unwrap();
        assert_eq!(vm.map(b, "jmp_table").unwrap(), table);
        let test = vm.program(b, "test").unwrap();
        for _ in 0..100 {
            // The slot always holds call1 or call2 (both return 0).
            assert_eq!(run(&mut vm, test, &Ctx::empty()).ret, 0);
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
    // Reusing a map with a different shape is refused.
    let bad = LoadOptions {
        reuse_maps: vec![("jmp_table".into(), table)],
    };
    let e = vm
        .load_object_with(object("c", vec![], vec![prog_array("jmp_table", 2)]), &bad)
        .unwrap_err();
    assert!(matches!(e, Error::MapReuse { .. }));
}

#[test]
fn bss_helper_builds_zeroed_u64_vars() {
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("b", vec![], vec![bss(".bss", &["x", "y"])]))
        .unwrap();
    assert_eq!(vm.global(o, "y").unwrap(), GlobalValue::Int(0));
}

#[test]
fn invalid_map_definitions_are_rejected() {
    let mut vm = Vm::new();
    for def in [
        map("z", MapKind::Hash, 4, 8, 0),
        map("k", MapKind::Array, 8, 8, 1),
        map("v", MapKind::Hash, 4, 0, 1),
        map("huge", MapKind::Array, 4, 1 << 20, 1 << 20),
    ] {
        let e = vm
            .load_object(object("bad", vec![], vec![def]))
            .unwrap_err();
        assert!(matches!(e, Error::MapCreate { .. }), "{e}");
    }
}

#[test]
fn a_prog_array_holds_one_program_class() {
    use rvbpf::maps::ProgClass;
    use rvbpf::vm::RejectReason;
    // `entry` (tc) uses the table at load: the table becomes a tc table.
    let tc_entry = runtime_support::tc(
        "entry",
        "lddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 2\nexit",
    );
    let tc_leaf = runtime_support::tc("leaf", "mov %r0, 0\nexit");
    let xdp = prog("xdp_prog", ProgKind::Xdp, "mov %r0, 1\nexit", &[]);
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "mixed",
            vec![tc_entry, tc_leaf, xdp],
            vec![prog_array("jt", 2)],
        ))
        .unwrap();
    let jt = vm.map(o, "jt").unwrap();
    assert_eq!(
        vm.prog_array_handle(jt).unwrap().owner(),
        Some(ProgClass::SchedCls)
    );
    let e = map_err(
        vm.prog_array_set(jt, 1, vm.program(o, "xdp_prog").unwrap())
            .unwrap_err(),
    );
    assert!(
        matches!(
            e,
            MapError::Incompatible {
                owner: ProgClass::SchedCls,
                class: ProgClass::Xdp,
                ..
            }
        ),
        "{e}"
    );
    vm.prog_array_set(jt, 0, vm.program(o, "leaf").unwrap())
        .unwrap();
    // A later xdp program that uses the tc table is rejected at load.
    let user = prog(
        "xdp_user",
        ProgKind::Xdp,
        "lddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit",
        &[],
    );
    let opts = LoadOptions {
        reuse_maps: vec![("jt".into(), jt)],
    };
    let e = vm
        .load_object_with(
            object("later", vec![user], vec![prog_array("jt", 2)]),
            &opts,
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Rejected {
                reason: RejectReason::ProgArray(MapError::Incompatible { .. }),
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn map_entries_lists_keys_in_order() {
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "e",
            vec![raw("p", "mov %r0, 0\nexit")],
            vec![
                map("h", MapKind::Hash, 4, 4, 8),
                map("a", MapKind::Array, 4, 4, 2),
                prog_array("jt", 3),
            ],
        ))
        .unwrap();
    let (h, a, jt) = (
        vm.map(o, "h").unwrap(),
        vm.map(o, "a").unwrap(),
        vm.map(o, "jt").unwrap(),
    );
    vm.map_update(h, &k(9), &k(90)).unwrap();
    vm.map_update(h, &k(3), &k(30)).unwrap();
    // Keys sort as little-endian bytes: 3 before 9.
    assert_eq!(
        vm.map_entries(h).unwrap(),
        vec![
            (k(3).to_vec(), k(30).to_vec()),
            (k(9).to_vec(), k(90).to_vec())
        ]
    );
    assert_eq!(
        vm.map_entries(a).unwrap(),
        vec![(k(0).to_vec(), vec![0; 4]), (k(1).to_vec(), vec![0; 4])]
    );
    let p = vm.program(o, "p").unwrap();
    vm.prog_array_set(jt, 2, p).unwrap();
    assert_eq!(
        vm.map_entries(jt).unwrap(),
        vec![(k(2).to_vec(), p.0.to_le_bytes().to_vec())]
    );
    assert_eq!(vm.map_info(h).unwrap(), ("h", MapKind::Hash, 4, 4, 8));
}

#[test]
fn vm_and_handles_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Vm>();
    send_sync::<rvbpf::ProgArrayHandle>();
}

#[test]
fn bpf_code_cannot_modify_prog_arrays() {
    // delete(jt, key 0) and update(jt, 0, value) from BPF code → -EOPNOTSUPP;
    // lookup → NULL. r0 = delete + update + lookup.
    let asm = "stw [%r10-4], 0\nstw [%r10-8], 0\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\ncall 3\nmov %r6, %r0\n\
               lddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 2\nadd %r6, %r0\n\
               lddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nadd %r0, %r6\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("m", vec![raw("p", asm)], vec![prog_array("jt", 1)]))
        .unwrap();
    let jt = vm.map(o, "jt").unwrap();
    let p = vm.program(o, "p").unwrap();
    vm.prog_array_set(jt, 0, p).unwrap();
    assert_eq!(run(&mut vm, p, &Ctx::empty()).ret as i64, -95 * 2);
    assert_eq!(
        vm.map_lookup(jt, &k(0)).unwrap(),
        Some(p.0.to_le_bytes().to_vec()),
        "slot untouched"
    );
}
