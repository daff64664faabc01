//! Loading the C fixtures in `tests/fixtures/` (rebuilt by `build.sh`).
//!
//! Expected values are reasoned by hand from the C sources and from
//! `llvm-objdump -dr` listings of the committed `.o` files (quoted in the
//! comments), not from the loader's output.

use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::insn::{op, pseudo, Insn};
use rvbpf_ebpf::object::{FuncInfo, GlobalVar, MapKind, Object, ProgKind, Program};

fn load(name: &str) -> Object {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    load_elf(name, &bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn func(name: &str, start: usize, args: u8) -> FuncInfo {
    FuncInfo {
        name: name.to_string(),
        start,
        arg_count: Some(args),
        // Every function of these fixtures returns an int.
        returns_int: Some(true),
    }
}

const CALL: u8 = op::JMP | op::CALL;

/// Every bpf2bpf call / function address must land on a function start, and
/// the callee recorded by `functions` must be `expected[pc]`.
fn assert_local_targets(p: &Program, expected: &[(usize, &str)]) {
    let mut seen = Vec::new();
    let mut pc = 0;
    while pc < p.insns.len() {
        let i = p.insns[pc];
        let local = (i.opc == CALL && i.src == pseudo::CALL_LOCAL)
            || (i.is_lddw() && i.src == pseudo::FUNC);
        if local {
            let target = (pc as i64 + 1 + i64::from(i.imm)) as usize;
            let f = p.functions.iter().find(|f| f.start == target);
            let f = f.unwrap_or_else(|| {
                panic!("{}: pc {pc} targets {target}, not a function start", p.name)
            });
            seen.push((pc, f.name.as_str()));
        }
        pc += if i.is_lddw() { 2 } else { 1 };
    }
    assert_eq!(seen, expected, "local references of {}", p.name);
}

#[test]
fn programs_sections_kinds_and_order() {
    let obj = load("programs.o");
    let got: Vec<(&str, &str, ProgKind)> = obj
        .programs
        .iter()
        .map(|p| (p.name.as_str(), p.section.as_str(), p.kind.clone()))
        .collect();
    // Section-header order, then offset order inside a section (tc holds two).
    assert_eq!(
        got,
        vec![
            ("tc_first", "tc", ProgKind::SchedCls),
            ("tc_second", "tc", ProgKind::SchedCls),
            ("xdp_plain", "xdp", ProgKind::Xdp),
            ("cls_ingress", "classifier/ingress", ProgKind::SchedCls),
            ("sock_prog", "socket", ProgKind::SocketFilter),
            (
                "fentry_mid",
                "fentry/global_mid",
                ProgKind::Fentry {
                    target: "global_mid".into()
                }
            ),
            (
                "fexit_mid",
                "fexit/global_mid",
                ProgKind::Fexit {
                    target: "global_mid".into()
                }
            ),
            ("other_kind", "raw_tracepoint/sys_enter", ProgKind::Other),
        ]
    );
    assert!(
        obj.maps.is_empty(),
        "no maps and no global data in programs.c"
    );
    assert!(obj.kfuncs.is_empty());
}

#[test]
fn subprograms_are_linked_transitively_in_text_order() {
    let obj = load("programs.o");
    // .text: global_mid [0,5) calls static_leaf [5,9); static_twice [9,12).
    // tc_first is tc[0,8): call global_mid at pc 2, call static_twice at pc 5.
    let p = obj.program("tc_first").unwrap();
    assert_eq!(
        p.functions,
        vec![
            func("tc_first", 0, 1),
            func("global_mid", 8, 1),
            func("static_leaf", 13, 3),
            func("static_twice", 17, 1)
        ]
    );
    assert_eq!(p.insns.len(), 20);
    // pc 2 -> 8: imm 8-3 = 5; pc 5 -> 17: imm 17-6 = 11;
    // global_mid's call (its pc 2, linked pc 10) -> 13: imm 13-11 = 2.
    assert_eq!(p.insns[2], Insn::new(CALL, 0, pseudo::CALL_LOCAL, 0, 5));
    assert_eq!(p.insns[5], Insn::new(CALL, 0, pseudo::CALL_LOCAL, 0, 11));
    assert_eq!(p.insns[10], Insn::new(CALL, 0, pseudo::CALL_LOCAL, 0, 2));
    assert_local_targets(
        p,
        &[(2, "global_mid"), (5, "static_twice"), (10, "static_leaf")],
    );
    // Bodies are copied verbatim: static_leaf starts with `w0 = w2` (bc 20),
    // static_twice with `w0 = w1` (bc 10), global_mid ends with exit.
    assert_eq!(
        p.insns[13],
        Insn::new(op::ALU | op::MOV | op::X, 0, 2, 0, 0)
    );
    assert_eq!(
        p.insns[17],
        Insn::new(op::ALU | op::MOV | op::X, 0, 1, 0, 0)
    );
    assert_eq!(p.insns[12], Insn::new(op::JMP | op::EXIT, 0, 0, 0, 0));
}

#[test]
fn only_reached_subprograms_are_appended() {
    let obj = load("programs.o");
    // tc_second is tc[8,11): `call static_twice` at its pc 1; nothing else.
    let p = obj.program("tc_second").unwrap();
    assert_eq!(
        p.functions,
        vec![func("tc_second", 0, 1), func("static_twice", 3, 1)]
    );
    assert_eq!(p.insns.len(), 6);
    assert_eq!(p.insns[1].imm, 1, "3 - (1 + 1)");
    assert_local_targets(p, &[(1, "static_twice")]);

    // cls_ingress (3 insns) reaches global_mid, which reaches static_leaf;
    // static_twice (after them in .text) is not reached and not appended.
    let p = obj.program("cls_ingress").unwrap();
    assert_eq!(
        p.functions,
        vec![
            func("cls_ingress", 0, 1),
            func("global_mid", 3, 1),
            func("static_leaf", 8, 3)
        ]
    );
    assert_eq!(p.insns.len(), 12);
    assert_local_targets(p, &[(1, "global_mid"), (5, "static_leaf")]);

    // A program without calls is just itself.
    let p = obj.program("xdp_plain").unwrap();
    assert_eq!(p.functions, vec![func("xdp_plain", 0, 1)]);
    assert_eq!(
        p.insns,
        vec![
            Insn::new(op::ALU | op::MOV, 0, 0, 0, 2),
            Insn::new(op::JMP | op::EXIT, 0, 0, 0, 0)
        ]
    );
}

#[test]
fn btf_maps_and_static_prog_array_init() {
    let obj = load("maps_globals.o");
    let names: Vec<&str> = obj.maps.iter().map(|m| m.name.as_str()).collect();
    // .maps order by offset (jmp_table@0, array_map@0x30, hash_map@0x50),
    // then global data in section order (.data, .rodata, .bss).
    assert_eq!(
        names,
        vec![
            "jmp_table",
            "array_map",
            "hash_map",
            ".data",
            ".rodata",
            ".bss"
        ]
    );
    let (_, jt) = obj.map("jmp_table").unwrap();
    assert_eq!(
        (jt.kind, jt.key_size, jt.value_size, jt.max_entries),
        (MapKind::ProgArray, 4, 4, 4)
    );
    // `.values = { [0] = &slot_zero, [2] = &slot_two }`.
    assert_eq!(
        jt.prog_init,
        vec![(0, "slot_zero".to_string()), (2, "slot_two".to_string())]
    );
    assert!(jt.global.is_none());
    let (_, am) = obj.map("array_map").unwrap();
    // key __u32; value struct pair { __u64 a; __u32 b; } = 8 + 4 + 4 padding.
    assert_eq!(
        (am.kind, am.key_size, am.value_size, am.max_entries),
        (MapKind::Array, 4, 16, 3)
    );
    let (_, hm) = obj.map("hash_map").unwrap();
    assert_eq!(
        (hm.kind, hm.key_size, hm.value_size, hm.max_entries),
        (MapKind::Hash, 8, 12, 64)
    );
    assert!(am.prog_init.is_empty() && hm.prog_init.is_empty());
}

#[test]
fn global_data_sections_become_single_element_arrays() {
    let obj = load("maps_globals.o");
    let var = |n: &str, offset, size| GlobalVar {
        name: n.to_string(),
        offset,
        size,
    };

    let (_, data) = obj.map(".data").unwrap();
    assert_eq!(
        (data.kind, data.key_size, data.value_size, data.max_entries),
        (MapKind::Array, 4, 16, 1)
    );
    let g = data.global.as_ref().unwrap();
    // int data_a = 5 at 0; __u64 data_b = 0x1122334455667788 aligned to 8.
    let mut initial = vec![5, 0, 0, 0, 0, 0, 0, 0];
    initial.extend_from_slice(&0x1122334455667788u64.to_le_bytes());
    assert_eq!(g.initial, initial);
    assert!(!g.read_only);
    assert_eq!(g.vars, vec![var("data_a", 0, 4), var("data_b", 8, 8)]);

    let g = obj.map(".rodata").unwrap().1.global.as_ref().unwrap();
    assert_eq!(
        (g.initial.as_slice(), g.read_only),
        (&[42u8, 0, 0, 0][..], true)
    );
    assert_eq!(g.vars, vec![var("ro_limit", 0, 4)]);

    let (_, bss) = obj.map(".bss").unwrap();
    let g = bss.global.as_ref().unwrap();
    assert_eq!(bss.value_size, 16);
    assert_eq!(g.initial, vec![0; 16]);
    assert_eq!(g.vars, vec![var("bss_count", 0, 4), var("bss_total", 8, 8)]);
}

#[test]
fn lddw_relocations_become_map_fd_and_map_value() {
    let obj = load("maps_globals.o");
    let idx = |n: &str| obj.map(n).unwrap().0 as i32;
    let fd = |dst, map: &str| {
        [
            Insn::new(op::LD | op::IMM | op::DW, dst, pseudo::MAP_FD, 0, idx(map)),
            Insn::default(),
        ]
    };
    let val = |dst, map: &str, off| {
        [
            Insn::new(
                op::LD | op::IMM | op::DW,
                dst,
                pseudo::MAP_VALUE,
                0,
                idx(map),
            ),
            Insn::new(0, 0, 0, 0, off),
        ]
    };
    // slot_zero: `r1 = data_a ll` at pc 0.
    assert_eq!(
        obj.program("slot_zero").unwrap().insns[0..2],
        val(1, ".data", 0)
    );
    // entry starts at tc pc 6, so tc pc N is entry pc N-6:
    // 11 array_map, 14 bss_count, 19 data_b (@8), 22 bss_total (@8), 29 ro_limit, 35 jmp_table.
    let p = obj.program("entry").unwrap();
    assert_eq!(p.insns[5..7], fd(1, "array_map"));
    assert_eq!(p.insns[8..10], val(1, ".bss", 0));
    assert_eq!(p.insns[13..15], val(1, ".data", 8));
    assert_eq!(p.insns[16..18], val(2, ".bss", 8));
    assert_eq!(p.insns[23..25], val(2, ".rodata", 0));
    assert_eq!(p.insns[29..31], fd(2, "jmp_table"));
    // Helper calls stay helper calls: bpf_map_lookup_elem (1), bpf_tail_call (12).
    assert_eq!(p.insns[7], Insn::new(CALL, 0, pseudo::CALL_HELPER, 0, 1));
    assert_eq!(p.insns[32], Insn::new(CALL, 0, pseudo::CALL_HELPER, 0, 12));
}

#[test]
fn kfunc_prototypes_give_each_argument_its_psabi_widening() {
    use rvbpf_ebpf::object::ArgWidening::*;
    // fixtures/kfunc_args.c declares
    //   u64 bpf_kfunc_widths(int, unsigned int, signed char, unsigned short, u64);
    //   u64 bpf_kfunc_flag(bool, unsigned char, short);
    // psABI: 32-bit ints sign-extend whatever their signedness; 8/16-bit ones
    // extend by their own signedness; 64-bit values pass unchanged.
    let obj = load("kfunc_args.o");
    assert_eq!(obj.kfuncs, vec!["bpf_kfunc_widths", "bpf_kfunc_flag"]);
    let args = |i: usize| obj.kfunc_proto(i).expect("BTF prototype").args.clone();
    assert_eq!(args(0), vec![Sign32, Sign32, Sign8, Zero16, Unchanged]);
    assert_eq!(args(1), vec![Zero8, Zero8, Sign16]);
    // kfunc_globals.c: bpf_kfunc_other(int x, int y); an index past the
    // table has no prototype.
    assert_eq!(
        load("kfunc_globals.o").kfunc_proto(0).unwrap().args,
        vec![Sign32, Sign32]
    );
    assert!(obj.kfunc_proto(2).is_none());
}

#[test]
fn kfuncs_static_globals_and_custom_sections() {
    let obj = load("kfunc_globals.o");
    // .text is relocated before tc, so bpf_kfunc_other (called from .text) comes first.
    assert_eq!(
        obj.kfuncs,
        vec![
            "bpf_kfunc_other".to_string(),
            "bpf_kfunc_example".to_string()
        ]
    );
    let names: Vec<&str> = obj.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        vec![".data.custom", ".rodata.table", ".data", ".bss"]
    );
    let g = |n: &str| obj.map(n).unwrap().1.global.clone().unwrap();
    let var = |n: &str, offset, size| GlobalVar {
        name: n.to_string(),
        offset,
        size,
    };
    assert_eq!(g(".data.custom").initial, vec![11, 0, 0, 0, 22, 0, 0, 0]);
    assert_eq!(
        g(".data.custom").vars,
        vec![var("custom_a", 0, 4), var("custom_b", 4, 4)]
    );
    assert!(g(".rodata.table").read_only);
    assert_eq!(g(".rodata.table").vars, vec![var("table", 0, 16)]);
    // Static variables: DATASEC entries with offsets from their local symbols.
    assert_eq!(g(".data").initial, vec![1, 0, 0, 0, 3, 0, 0, 0]);
    assert_eq!(
        g(".data").vars,
        vec![var("static_pad", 0, 4), var("static_counter", 4, 4)]
    );
    assert_eq!(g(".bss").vars, vec![var("static_zero", 0, 8)]);

    // kfunc_prog is tc[0,27); helper_sub (.text [0,17)) is appended at 27.
    let p = obj.program("kfunc_prog").unwrap();
    assert_eq!(
        p.functions,
        vec![func("kfunc_prog", 0, 1), func("helper_sub", 27, 1)]
    );
    assert_eq!(p.insns.len(), 44);
    let kfunc = |i| Insn::new(CALL, 0, pseudo::CALL_KFUNC, 0, i);
    assert_eq!(p.insns[2], kfunc(1));
    assert_eq!(p.insns[23], kfunc(1));
    assert_eq!(
        p.insns[27 + 10],
        kfunc(0),
        "helper_sub's call to bpf_kfunc_other"
    );
    assert_eq!(
        p.insns[13],
        Insn::new(CALL, 0, pseudo::CALL_LOCAL, 0, 27 - 14)
    );
    let lddw = |dst, map: i32, off| {
        [
            Insn::new(op::LD | op::IMM | op::DW, dst, pseudo::MAP_VALUE, 0, map),
            Insn::new(0, 0, 0, 0, off),
        ]
    };
    // tc pc 7: `r2 = 0 ll` against the .bss section symbol (static_zero).
    assert_eq!(p.insns[7..9], lddw(2, 3, 0));
    // tc pc 19: `table` in .rodata.table.
    assert_eq!(p.insns[19..21], lddw(2, 1, 0));
    // .text pc 0: `.data`+0; pc 5: `r3 = 4 ll` against `.data` (addend 4 =
    // static_counter); pc 11: custom_b at 4 in .data.custom.
    assert_eq!(p.insns[27..29], lddw(2, 2, 0));
    assert_eq!(p.insns[32..34], lddw(3, 2, 4));
    assert_eq!(p.insns[38..40], lddw(1, 0, 4));
}

#[test]
fn callback_addresses_are_linked_like_calls() {
    let obj = load("callback.o");
    // .text: cb_zero [0,2), cb_one [2,4). loops: tc[0,14), `r2 = .text+0 ll`
    // at pc 1 and `r2 = .text+16 ll` at pc 7.
    let p = obj.program("loops").unwrap();
    assert_eq!(
        p.functions,
        vec![
            func("loops", 0, 1),
            func("cb_zero", 14, 2),
            func("cb_one", 16, 2)
        ]
    );
    assert_eq!(
        p.insns[1],
        Insn::new(op::LD | op::IMM | op::DW, 2, pseudo::FUNC, 0, 14 - 2)
    );
    assert_eq!(
        p.insns[7],
        Insn::new(op::LD | op::IMM | op::DW, 2, pseudo::FUNC, 0, 16 - 8)
    );
    assert_eq!(p.insns[8].imm, 0);
    assert_local_targets(p, &[(1, "cb_zero"), (7, "cb_one")]);
}

#[test]
fn without_btf_vars_come_from_symbols_and_arg_counts_are_unknown() {
    let obj = load("globals_nobtf.o");
    // `__u32 first = 1; __u64 second = 2;` -> .data of 16 bytes, symbols
    // first@0 (size 4) and second@8 (size 8).
    let (idx, data) = obj.map(".data").unwrap();
    let g = data.global.as_ref().unwrap();
    let mut initial = vec![1, 0, 0, 0, 0, 0, 0, 0];
    initial.extend_from_slice(&2u64.to_le_bytes());
    assert_eq!(g.initial, initial);
    let var = |n: &str, offset, size| GlobalVar {
        name: n.to_string(),
        offset,
        size,
    };
    assert_eq!(g.vars, vec![var("first", 0, 4), var("second", 8, 8)]);
    // nobtf_prog is tc[0,8) calling add_first (.text [0,5)) at pc 6.
    let p = obj.program("nobtf_prog").unwrap();
    let unknown = |name: &str, start| FuncInfo {
        name: name.to_string(),
        start,
        arg_count: None,
        returns_int: None,
    };
    assert_eq!(
        p.functions,
        vec![unknown("nobtf_prog", 0), unknown("add_first", 8)]
    );
    assert_eq!(p.insns[6], Insn::new(CALL, 0, pseudo::CALL_LOCAL, 0, 8 - 7));
    let value = |map, off| {
        [
            Insn::new(op::LD | op::IMM | op::DW, 2, pseudo::MAP_VALUE, 0, map),
            Insn::new(0, 0, 0, 0, off),
        ]
    };
    assert_eq!(p.insns[0..2], value(idx as i32, 8), "second");
    assert_eq!(p.insns[8..10], value(idx as i32, 0), "first, in add_first");
}
