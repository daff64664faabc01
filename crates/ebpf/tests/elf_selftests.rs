//! Every tail-call selftest port in `<repo>/tests/bpf/` must load, and the
//! loaded objects must satisfy the conventions of `object.rs` (linked calls
//! land on function starts, map/kfunc indices are in range). A few facts are
//! checked against what the C sources state.

use std::path::PathBuf;

use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::insn::{op, pseudo};
use rvbpf_ebpf::object::{MapKind, Object, ProgKind};

fn selftest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/bpf")
}

fn load(name: &str) -> Object {
    let path = selftest_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    load_elf(name, &bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// Checks the invariants the verifier and engines rely on.
fn check_conventions(obj: &Object) {
    for p in &obj.programs {
        assert_eq!(
            p.functions.first().map(|f| (f.name.as_str(), f.start)),
            Some((p.name.as_str(), 0))
        );
        assert!(
            p.functions.windows(2).all(|w| w[0].start < w[1].start),
            "{}: sorted functions",
            p.name
        );
        let mut pc = 0;
        while pc < p.insns.len() {
            let i = p.insns[pc];
            let target = pc as i64 + 1 + i64::from(i.imm);
            let on_function_start = p.functions.iter().any(|f| f.start as i64 == target);
            if i.opc == op::JMP | op::CALL {
                match i.src {
                    pseudo::CALL_LOCAL => assert!(
                        on_function_start,
                        "{}/{}: pc {pc} -> {target}",
                        obj.name, p.name
                    ),
                    pseudo::CALL_KFUNC => assert!((i.imm as usize) < obj.kfuncs.len()),
                    _ => {}
                }
            }
            if i.is_lddw() {
                match i.src {
                    pseudo::MAP_FD => assert!((i.imm as usize) < obj.maps.len()),
                    pseudo::MAP_VALUE => {
                        let map = &obj.maps[i.imm as usize];
                        assert!(
                            (p.insns[pc + 1].imm as u32) < map.value_size,
                            "{}: pc {pc}",
                            p.name
                        );
                    }
                    pseudo::FUNC => assert!(on_function_start),
                    _ => {}
                }
                pc += 1;
            }
            pc += 1;
        }
    }
    for m in &obj.maps {
        for (slot, prog) in &m.prog_init {
            assert!(
                *slot < m.max_entries && obj.program(prog).is_some(),
                "{}: {slot} -> {prog}",
                m.name
            );
        }
    }
}

#[test]
fn every_selftest_object_loads() {
    let mut names: Vec<String> = std::fs::read_dir(selftest_dir())
        .expect("tests/bpf exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".o"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 20,
        "expected the selftest ports, found {names:?}"
    );
    for name in &names {
        let obj = load(name);
        assert!(!obj.programs.is_empty(), "{name}: no programs");
        check_conventions(&obj);
    }
}

#[test]
fn selftest_facts_from_the_c_sources() {
    // tailcall_bpf2bpf_hierarchy2.c: jmp_table = { [0] = classifier_0,
    // [1] = classifier_1 }; entry calls subprog_tail0 and subprog_tail1;
    // counters count0, count1 are `int` globals in .bss.
    let obj = load("tailcall_bpf2bpf_hierarchy2.o");
    let (_, jt) = obj.map("jmp_table").unwrap();
    assert_eq!((jt.kind, jt.max_entries), (MapKind::ProgArray, 2));
    assert_eq!(
        jt.prog_init,
        vec![
            (0, "classifier_0".to_string()),
            (1, "classifier_1".to_string())
        ]
    );
    let entry = obj.program("entry").unwrap();
    let names: Vec<&str> = entry.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["entry", "subprog_tail0", "subprog_tail1"]);
    let bss = obj.map(".bss").unwrap().1.global.as_ref().unwrap();
    let vars: Vec<(&str, u32, u32)> = bss
        .vars
        .iter()
        .map(|v| (v.name.as_str(), v.offset, v.size))
        .collect();
    assert_eq!(vars, [("count0", 0, 4), ("count1", 4, 4)]);

    // tailcall_bpf2bpf_fentry.c: SEC("fentry/subprog_tail").
    let obj = load("tailcall_bpf2bpf_fentry.o");
    assert_eq!(
        obj.programs[0].kind,
        ProgKind::Fentry {
            target: "subprog_tail".into()
        }
    );
    let obj = load("tailcall_bpf2bpf_fexit.o");
    assert_eq!(
        obj.programs[0].kind,
        ProgKind::Fexit {
            target: "subprog_tail".into()
        }
    );
}
