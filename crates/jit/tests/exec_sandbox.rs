//! `Sandbox::Masked` in the emulator: what the masking does to addresses
//! (hand-computed expectations), that in-range programs are unchanged, and
//! that a forged prog array cannot steer a tail call. Each test also runs
//! the unconfined code (`Sandbox::None`) to show the difference is the
//! sandbox's doing, not the program's.

mod common;

use common::emu::{map_addr, world, CTX_BASE};
use common::{opts, verified, TARGETS};
use rvbpf_ebpf::object::MapKind;
use rvbpf_jit::{compile, JitOptions, Sandbox, TccScheme, SANDBOX_SIZE};
use rvbpf_rv64::emu::EmuError;

fn options(target: &str, scheme: TccScheme, sandbox: Sandbox) -> JitOptions {
    JitOptions {
        sandbox,
        ..opts(target, scheme)
    }
}

/// Runs `src` (no maps) with a0 = ctx, whose first 8 bytes are 0x1122..88.
fn run(src: &str, target: &str, sandbox: Sandbox) -> Result<u64, EmuError> {
    let prog = verified(src, &[], &[]);
    let image = compile(&prog, &options(target, TccScheme::Reg, sandbox)).unwrap();
    let mut w = world(&[&image], 0, &[]);
    w.mem
        .write(CTX_BASE, &0x1122_3344_5566_7788u64.to_le_bytes())
        .unwrap();
    w.run(0, &mut |n, _, _| panic!("no helper {n} expected"))
}

#[test]
fn an_address_above_the_sandbox_wraps_to_its_low_36_bits() {
    // r1 = ctx + 5 * 2^36 - 8, then a load at offset +8: the sum is
    // ctx + 5 * 2^36, whose low 36 bits are ctx (CTX_BASE < 2^36).
    let src = format!(
        "lddw %r2, {}\nadd %r1, %r2\nldxdw %r0, [%r1+8]\nexit",
        5 * SANDBOX_SIZE - 8
    );
    for t in TARGETS {
        assert_eq!(
            run(&src, t, Sandbox::Masked),
            Ok(0x1122_3344_5566_7788),
            "{t}"
        );
        // Unconfined, the access goes where the pointer says: unmapped.
        match run(&src, t, Sandbox::None) {
            Err(EmuError::Fault { addr, .. }) => assert_eq!(addr, CTX_BASE + 5 * SANDBOX_SIZE),
            other => panic!("{t}: unconfined load should fault, got {other:?}"),
        }
    }
}

#[test]
fn a_wild_store_faults_inside_the_sandbox_not_at_its_own_address() {
    // 0xffff_ffff_ffff_fff0 + 4 masked: 0xf_ffff_fff4 (the top of the 64
    // GiB range, unmapped in this world), so the fault is reported there.
    let src = "lddw %r1, 0xfffffffffffffff0\nstw [%r1+4], 1\nmov %r0, 0\nexit";
    for t in TARGETS {
        match run(src, t, Sandbox::Masked) {
            Err(EmuError::Fault { addr, size: 4, .. }) => {
                assert_eq!(addr, 0xf_ffff_fff4, "{t}");
                assert!(addr < SANDBOX_SIZE);
            }
            other => panic!("{t}: masked wild store should fault, got {other:?}"),
        }
        match run(src, t, Sandbox::None) {
            Err(EmuError::Fault { addr, .. }) => assert_eq!(addr, 0xffff_ffff_ffff_fff4),
            other => panic!("{t}: unconfined store should fault, got {other:?}"),
        }
    }
}

#[test]
fn in_range_loads_stores_and_atomics_give_the_same_results_masked() {
    // ctx[0..8] = 0x1122334455667788. Each line's effect is computed by
    // hand in the comments; r0 collects them.
    let src = "
        ldxdw %r2, [%r1] # r2 = 0x1122334455667788
        stxdw [%r1+16], %r2 # ctx[16..24] = r2
        mov %r3, 5
        lock add [%r1+16], %r3 # ctx[16..24] = 0x112233445566778d
        mov %r0, %r2
        lock cmpxchg [%r1+16], %r3 # expected r2 differs: r0 = old value
        ldxw %r4, [%r1+20] # r4 = 0x11223344
        add %r0, %r4 # 0x112233445566778d + 0x11223344
        stxdw [%r10-8], %r0 # r10-based: never masked
        ldxdw %r0, [%r10-8]
        exit";
    let expected = 0x1122_3344_5566_778du64 + 0x1122_3344;
    for t in TARGETS {
        for sandbox in [Sandbox::None, Sandbox::Masked] {
            assert_eq!(run(src, t, sandbox), Ok(expected), "{t} {sandbox:?}");
        }
    }
}

/// Builds a prog-array view in the stack (max_entries 1, entry[0] = the
/// address in ctx[0..8]), hides its address from the verifier by a store
/// and reload, and tail-calls through it. Map 0 is a real prog array
/// whose slots are all empty.
const FORGED_TAIL_CALL: &str = "
    ldxdw %r6, [%r1]
    stw [%r10-24], 1
    stw [%r10-20], 0
    stxdw [%r10-16], %r6
    mov %r2, %r10
    add %r2, -24
    stxdw [%r10-32], %r2
    ldxdw %r2, [%r10-32]
    mov %r3, 0
    call 12
    mov %r0, 1
    exit";

#[test]
fn a_forged_prog_array_cannot_steer_a_masked_tail_call() {
    let maps = [MapKind::ProgArray];
    let prog = verified(FORGED_TAIL_CALL, &maps, &[]);
    let target = verified("mov %r0, 666\nexit", &[], &[]);
    for t in TARGETS {
        for scheme in common::SCHEMES {
            let victim = compile(&target, &options(t, scheme, Sandbox::None)).unwrap();
            let run = |sandbox| {
                let image = compile(&prog, &options(t, scheme, sandbox)).unwrap();
                let mut w = world(&[&image, &victim], 1, &[]);
                let entry = w.entries[1];
                w.mem.write(CTX_BASE, &entry.to_le_bytes()).unwrap();
                w.run(0, &mut |n, _, _| panic!("no helper {n} expected"))
            };
            // Unconfined, the tail call jumps where the forged entry says.
            assert_eq!(run(Sandbox::None), Ok(666), "{t} {scheme:?}");
            // Masked, r2 is not the prog array's handle: it falls through.
            assert_eq!(run(Sandbox::Masked), Ok(1), "{t} {scheme:?}");
        }
    }
}

#[test]
fn a_masked_tail_call_through_the_real_prog_array_still_works() {
    // Map 1 is the prog array (map 0 an array): the check compares r2
    // with the handle of map 1, the only prog array.
    let maps = [MapKind::Array, MapKind::ProgArray];
    let src = "lddw %r2, map:1\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit";
    let prog = verified(src, &maps, &[]);
    let target = verified("mov %r0, 666\nexit", &[], &[]);
    for t in TARGETS {
        for scheme in common::SCHEMES {
            let image = compile(&prog, &options(t, scheme, Sandbox::Masked)).unwrap();
            let victim = compile(&target, &options(t, scheme, Sandbox::Masked)).unwrap();
            let mut w = world(&[&image, &victim], 2, &[(1, 0, 1)]);
            let r = w.run(0, &mut |n, _, _| panic!("no helper {n} expected"));
            assert_eq!(r, Ok(666), "{t} {scheme:?}");
            assert_eq!(map_addr(1) & (SANDBOX_SIZE - 1), map_addr(1));
        }
    }
}

#[test]
fn without_prog_arrays_a_masked_tail_call_always_fails() {
    // r2 from ctx: no prog array exists, so the check jumps straight out.
    let src = "ldxdw %r2, [%r1]\nmov %r3, 0\ncall 12\nmov %r0, 7\nexit";
    let prog = verified(src, &[], &[]);
    for t in TARGETS {
        let image = compile(&prog, &options(t, TccScheme::Reg, Sandbox::Masked)).unwrap();
        let mut w = world(&[&image], 0, &[]);
        // ctx[0..8] = ctx itself: a readable "view" with max_entries 0.
        w.mem.write(CTX_BASE, &CTX_BASE.to_le_bytes()).unwrap();
        assert_eq!(w.run(0, &mut |n, _, _| panic!("helper {n}")), Ok(7));
    }
}
