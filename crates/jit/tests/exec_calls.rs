//! Calls in the emulator: helpers, kfuncs, bpf2bpf, map relocations and tail
//! calls (the 33-per-run budget under every counter scheme).

mod common;

use common::emu::{map_addr, run_everywhere, world, KFUNC_SLOT0};
use common::{compile_text, opts, verified, SCHEMES, TARGETS};
use rvbpf_ebpf::object::MapKind;
use rvbpf_jit::compile;

#[test]
fn helper_call_passes_r1_to_r5_and_returns_r0_keeping_r6_to_r9() {
    let src = "
        mov %r6, 5
        mov %r9, 1000
        mov %r1, 3
        mov %r2, 4
        mov %r5, 9
        call 1
        add %r0, %r6
        add %r0, %r9
        exit";
    // helper 1 computes a0 * 10 + a1 + a4 * 100 = 30 + 4 + 900 = 934.
    let results = run_everywhere(src, &[], &mut |n, a, _| {
        assert_eq!(n, 1);
        a[0] * 10 + a[1] + a[4] * 100
    });
    assert_eq!(results, [934 + 5 + 1000]);
}

#[test]
fn kfunc_call_goes_through_its_own_slot() {
    let prog = verified("mov %r1, 20\ncall runtime 0\nexit", &[], &["kf"]);
    for t in TARGETS {
        let image = compile(&prog, &opts(t, Default::default())).unwrap();
        let mut w = world(&[&image], 0, &[]);
        let r = w
            .run(0, &mut |n, a, _| {
                assert_eq!(n, KFUNC_SLOT0);
                a[0] + 1
            })
            .unwrap();
        assert_eq!(r, 21);
    }
}

#[test]
fn bpf2bpf_calls_keep_callee_saved_registers_and_frames_apart() {
    let src = "
        mov %r6, 100
        stdw [%r10-8], 7
        mov %r1, 2
        call local sub
        add %r0, %r6
        ldxdw %r1, [%r10-8]
        add %r0, %r1
        exit
    sub:
        mov %r6, %r1
        stdw [%r10-8], 1000
        mov %r1, 5
        call local leaf
        ldxdw %r2, [%r10-8]
        add %r0, %r2
        mul %r6, 3
        add %r0, %r6
        exit
    leaf:
        mov %r0, %r1
        add %r0, 10
        exit";
    // leaf: 15; sub: 15 + 1000 + 6 = 1021; entry: 1021 + 100 + 7 = 1128.
    let results = run_everywhere(src, &[], &mut |n, _, _| panic!("helper {n}"));
    assert_eq!(results, [1128]);
}

#[test]
fn map_relocations_reach_the_loader_supplied_addresses() {
    let src = "
        lddw %r1, map_value:0+8
        stdw [%r1+0], 77
        lddw %r2, map:0
        ldxdw %r0, [%r2+8]
        exit";
    for t in TARGETS {
        let image = compile_text(src, &[MapKind::Array], &opts(t, Default::default()));
        let mut w = world(&[&image], 1, &[]);
        assert_eq!(w.run(0, &mut |_, _, _| 0).unwrap(), 77);
        assert_eq!(w.mem.read_u64(map_addr(0) + 8).unwrap(), 77);
    }
}

/// Tail-calls map 0 slot 0 after counting itself in map 1; returns 0 when
/// the tail call falls through. Reads ctx to prove r1 survives.
const SELF_TAIL: &str = "
        ldxdw %r7, [%r1+0]
        mov %r6, %r1
        lddw %r2, map_value:1+0
        mov %r3, 1
        lock add [%r2+0], %r3
        mov %r1, %r6
        lddw %r2, map:0
        mov %r3, 1
        call 12
        mov %r1, %r6
        lddw %r2, map:0
        mov %r3, 0
        call 12
        mov %r0, 0
        exit";

const MAPS: [MapKind; 2] = [MapKind::ProgArray, MapKind::Array];

#[test]
fn tail_call_budget_is_33_and_failures_consume_nothing() {
    for t in TARGETS {
        for s in SCHEMES {
            let image = compile_text(SELF_TAIL, &MAPS, &opts(t, s));
            // Slot 1 stays empty: every run first fails a tail call.
            let mut w = world(&[&image], 2, &[(0, 0, 0)]);
            assert_eq!(w.run(0, &mut |n, _, _| panic!("helper {n}")).unwrap(), 0);
            // The first run plus 33 successful tail calls.
            assert_eq!(w.mem.read_u64(map_addr(1)).unwrap(), 34, "{t} {s:?}");
        }
    }
}

#[test]
fn tail_call_to_another_program_and_failure_paths() {
    let caller = "
        mov %r6, %r1
        lddw %r2, map:0
        ldxw %r3, [%r1+0]
        call 12
        mov %r0, 7
        exit";
    let callee = "mov %r0, 42\nexit";
    for t in TARGETS {
        for s in SCHEMES {
            let o = opts(t, s);
            let a = compile_text(caller, &MAPS, &o);
            let b = compile_text(callee, &MAPS, &o);
            let mut w = world(&[&a, &b], 2, &[(0, 0, 1)]);
            // ctx[0] is the index: 0 → callee, 1 → empty, 4 and 2^32 → out of range.
            for (index, expect) in [(0u32, 42), (1, 7), (4, 7), (u32::MAX, 7)] {
                w.mem.write_u32(common::emu::CTX_BASE, index).unwrap();
                let r = w.run(0, &mut |n, _, _| panic!("helper {n}")).unwrap();
                assert_eq!(r, expect, "{t} {s:?} index {index}");
            }
        }
    }
}

#[test]
fn budget_is_shared_across_bpf2bpf_frames() {
    // The entry calls `sub` twice; `sub` tail-calls SELF_TAIL, which
    // re-tail-calls itself until the budget is spent and returns to the
    // entry. The second `sub` finds no budget left: in total SELF_TAIL runs
    // 33 times (1 + 32 self tail calls), not 66.
    let entry = "
        mov %r6, %r1
        call local sub
        mov %r1, %r6
        call local sub
        mov %r0, 5
        exit
    sub:
        lddw %r2, map:0
        mov %r3, 0
        call 12
        mov %r0, 0
        exit";
    for t in TARGETS {
        for s in SCHEMES {
            let o = opts(t, s);
            let e = compile_text(entry, &MAPS, &o);
            let target = compile_text(SELF_TAIL, &MAPS, &o);
            let mut w = world(&[&e, &target], 2, &[(0, 0, 1)]);
            assert_eq!(w.run(0, &mut |n, _, _| panic!("helper {n}")).unwrap(), 5);
            assert_eq!(w.mem.read_u64(map_addr(1)).unwrap(), 33, "{t} {s:?}");
            // A second run starts with a fresh budget.
            w.run(0, &mut |n, _, _| panic!("helper {n}")).unwrap();
            assert_eq!(w.mem.read_u64(map_addr(1)).unwrap(), 66, "{t} {s:?}");
        }
    }
}

#[test]
fn budget_survives_helper_calls_in_a_tail_calling_subprogram() {
    // `sub` calls a helper (clobbering a6) before tail-calling.
    let entry = "
        mov %r6, %r1
        call local sub
        mov %r1, %r6
        call local sub
        mov %r0, 5
        exit
    sub:
        mov %r6, %r1
        call 7
        mov %r1, %r6
        lddw %r2, map:0
        mov %r3, 0
        call 12
        mov %r0, 0
        exit";
    for t in TARGETS {
        for s in SCHEMES {
            let o = opts(t, s);
            let e = compile_text(entry, &MAPS, &o);
            let target = compile_text(SELF_TAIL, &MAPS, &o);
            let mut w = world(&[&e, &target], 2, &[(0, 0, 1)]);
            w.run(0, &mut |_, _, _| 0xdead).unwrap();
            assert_eq!(w.mem.read_u64(map_addr(1)).unwrap(), 33, "{t} {s:?}");
        }
    }
}

#[test]
fn a_fault_is_attributed_to_its_bpf_pc() {
    // pc 2 loads through a null pointer; the emulator faults there.
    let src = "mov %r0, 1\nmov %r2, 0\nldxdw %r0, [%r2+8]\nexit";
    for t in TARGETS {
        let image = compile_text(src, &[], &opts(t, Default::default()));
        let mut w = world(&[&image], 0, &[]);
        let err = w.run(0, &mut |_, _, _| 0).unwrap_err();
        let rvbpf_rv64::emu::EmuError::Fault { pc, addr, .. } = err else {
            panic!("{t}: expected a fault, got {err}");
        };
        assert_eq!(addr, 8);
        let offset = (pc - common::emu::CODE_BASE) as usize;
        assert_eq!(image.pc_at(offset), Some(2), "{t}");
        assert_eq!(
            image.pc_map[2], offset,
            "{t}: the load is the first instruction of pc 2"
        );
        assert_eq!(image.pc_at(0), None, "{t}: the header belongs to no pc");
    }
}

#[test]
fn hoisted_loop_constants_survive_helper_calls() {
    // r7 = (r7 * 7777777) & 0x7fffffff, 5000 times, with a helper call in
    // the loop clobbering every caller-saved register.
    let src = "
        mov %r6, 0
        mov %r7, 1
    loop:
        mul %r7, 7777777
        and %r7, 0x7fffffff
        call 2
        add %r6, 1
        jlt %r6, 5000, loop
        mov %r0, %r7
        exit";
    let mut expect = 1u64;
    for _ in 0..5000 {
        expect = expect.wrapping_mul(7777777) & 0x7fff_ffff;
    }
    let results = run_everywhere(src, &[], &mut |n, _, _| {
        assert_eq!(n, 2);
        0x1234_5678_9abc_def0 // garbage in a0
    });
    assert_eq!(results, [expect]);
}
