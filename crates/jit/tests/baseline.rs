//! The baseline tier's own behaviour, beyond the conformance suites
//! (`conformance.rs` runs those on it): jump forms past each reach
//! (including the re-emission when a guessed short branch does not reach),
//! bpf2bpf calls and tail calls in the emulator, what it refuses, and the
//! image conventions the engine relies on (header, pc map, call sites).
//! Expected values are worked out by hand in the comments.

mod common;

use common::emu::world;
use common::{opts, verified};
use rvbpf_ebpf::object::MapKind;
use rvbpf_jit::trampoline::local_call_sites;
use rvbpf_jit::{
    compile, compile_baseline, Image, JitError, JitOptions, Sandbox, TccScheme,
    BASELINE_SHORT_REACH, TAIL_CALL_ENTRY_OFFSET,
};

fn baseline(src: &str, target: &str) -> Image {
    let prog = verified(src, &[], &[]);
    compile_baseline(&prog, &opts(target, TccScheme::Reg)).unwrap_or_else(|e| panic!("{e}"))
}

fn run(image: &Image) -> u64 {
    let mut w = world(&[image], 0, &[]);
    w.run(0, &mut |n, _, _| panic!("unexpected helper {n}"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `n` copies of `be64 %r1`: without Zbb each is a 30-instruction byte
/// loop (120 bytes), so a few dozen outrun a branch's ±4 KiB.
fn swaps(n: usize) -> String {
    "be64 %r1\n".repeat(n)
}

/// r0 = 1 after a forward `jeq` over `n` swaps and a `mov %r0, 100`, then
/// three rounds of a loop over `n` swaps closed by a backward `jlt`:
/// r0 = 1 + 3 = 4.
fn jumps_over(n: usize) -> String {
    format!(
        "mov %r0, 0\nmov %r1, 7\nmov %r2, 0\njeq %r2, 0, skip\n{s}mov %r0, 100\n\
         skip:\nadd %r0, 1\nloop:\n{s}add %r2, 1\njlt %r2, 3, loop\nadd %r0, %r2\nexit",
        s = swaps(n)
    )
}

#[test]
fn short_guess_that_does_not_reach_is_emitted_again_in_the_long_form() {
    // 40 swaps < SHORT_REACH instructions: guessed short, but 4.8 KiB.
    const { assert!(40 < BASELINE_SHORT_REACH) };
    let image = baseline(&jumps_over(40), "rv64g");
    // pc 3 is the jeq, pc 45 the `add %r0, 1` it jumps to.
    assert!(image.pc_map[45] - image.pc_map[3] > 4096);
    assert_eq!(run(&image), 4);
}

#[test]
fn jumps_farther_than_1_mib_use_auipc_jalr() {
    // 9000 swaps = 1.08 MB > the ±1 MiB of `jal`, both directions.
    let image = baseline(&jumps_over(9000), "rv64g");
    assert!(image.pc_map[9005] - image.pc_map[3] > 1 << 20);
    assert_eq!(run(&image), 4);
}

#[test]
fn long_forward_guesses_and_32_bit_tests_run_on_every_target() {
    // 200 swaps: the jeq32 is guessed long (b<!cc> +8; jal) and is.
    let src = format!(
        "mov %r0, 0\nmov %r1, 7\nlddw %r2, 0x100000005\n\
         jeq32 %r2, 5, skip\n{}mov %r0, 100\n\
         skip:\njgt %r2, 0x7fffffff, big\nmov %r0, 50\n\
         big:\nadd %r0, 1\njslt32 %r2, -1000000, no\nadd %r0, 2\n\
         no:\nmov %r3, -1\njgt32 %r3, %r2, yes\nmov %r0, 60\n\
         yes:\njsgt32 %r3, %r2, bad\nadd %r0, 4\nbad:\nexit",
        swaps(200)
    );
    // jeq32: low half of 0x1_0000_0005 is 5, taken (r0 stays 0);
    // jgt: 0x1_0000_0005 > 0x7fff_ffff, taken; r0 = 1;
    // jslt32: 5 < -1000000 is false, r0 = 3;
    // jgt32: 0xffff_ffff > 5 unsigned, taken; jsgt32: -1 > 5 is false,
    // r0 = 7.
    for target in ["rv64g", "rv64gc", "rv64gc_zba_zbb"] {
        assert_eq!(run(&baseline(&src, target)), 7, "{target}");
    }
}

#[test]
fn stores_of_immediates_of_every_size_class() {
    // stdw of -1000000 (sign-extended: 0xffff_ffff_fff0_bdc0), stb of
    // 0x7f, sth of 0 over a previous 0xffff; r0 = their sum read back:
    // 0xffff_ffff_fff0_bdc0 + 0x7f + 0 = 0xffff_ffff_fff0_be3f.
    let src = "stdw [%r10-8], -1000000\nldxdw %r0, [%r10-8]\n\
               stb [%r10-9], 0x7f\nldxb %r1, [%r10-9]\nadd %r0, %r1\n\
               sth [%r10-12], 0xffff\nsth [%r10-12], 0\nldxh %r2, [%r10-12]\n\
               add %r0, %r2\nexit";
    for target in ["rv64g", "rv64gc_zba_zbb"] {
        assert_eq!(run(&baseline(src, target)), 0xffff_ffff_fff0_be3f);
    }
}

#[test]
fn zbb_swaps_are_short_and_give_the_same_results() {
    // With Zbb a swap is `rev8`: every jump is short; same result.
    let image = baseline(&jumps_over(40), "rv64gc_zba_zbb");
    assert!(image.pc_map[45] - image.pc_map[3] < 4096);
    assert_eq!(run(&image), 4);
    // be64 of 0x0102030405060708 = 0x0807060504030201 on both paths.
    for target in ["rv64g", "rv64gc_zba_zbb"] {
        let src = "lddw %r0, 0x0102030405060708\nbe64 %r0\nexit";
        assert_eq!(run(&baseline(src, target)), 0x0807_0605_0403_0201);
        let src = "lddw %r0, 0x0102030405060708\nbe16 %r0\nexit";
        assert_eq!(run(&baseline(src, target)), 0x0807);
    }
}

#[test]
fn image_has_the_optimizing_jits_header_and_a_pc_map_per_slot() {
    let src = "mov %r0, 1\nlddw %r1, 0x123456789\nadd %r0, %r1\nexit";
    let image = baseline(src, "rv64gc");
    // header: nop, nop, li a6, 33 (4 bytes each, never compressed).
    let words: Vec<u32> = image.code[..12]
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(words, [0x13, 0x13, 0x0210_0813]);
    assert_eq!(image.tail_call_entry_offset, TAIL_CALL_ENTRY_OFFSET);
    assert_eq!(image.pc_map.len(), 5);
    // The lddw second slot maps to where the next instruction starts.
    assert_eq!(image.pc_map[2], image.pc_map[3]);
    assert_eq!(image.pc_at(image.pc_map[3]), Some(3));
    assert_eq!(image.pc_at(0), None);
    // The constant comes from the pool: 0x1_2345_6789 + 1.
    assert_eq!(run(&image), 0x1_2345_678a);
}

#[test]
fn bpf2bpf_calls_are_found_by_the_trampoline_code_and_run() {
    // f(x) = x * 3 + 1; main: r0 = f(5) + f(1) = 16 + 4 = 20.
    let src = "mov %r6, 0\nmov %r1, 5\ncall local f\nmov %r6, %r0\nmov %r1, 1\ncall local f\nadd %r0, %r6\nexit\n\
               f:\nmov %r0, %r1\nmul %r0, 3\nadd %r0, 1\nexit";
    let image = baseline(src, "rv64gc");
    let sites = local_call_sites(&image);
    assert_eq!(sites.len(), 2);
    assert!(sites.iter().all(|s| s.callee == 1 && s.len == 4));
    assert_eq!(run(&image), 20);
}

#[test]
fn tail_calls_follow_the_reg_scheme() {
    // Program 0 tail calls slot 0 (program 1) with R1 = ctx: program 1
    // returns 7; the fall-through (not reached) would return 1. With an
    // empty slot 1 the call falls through: program 2 returns 1.
    let caller = |slot| format!("lddw %r2, map:0\nmov %r3, {slot}\ncall 12\nmov %r0, 1\nexit");
    let maps = [MapKind::ProgArray];
    let o = opts("rv64gc", TccScheme::Reg);
    let a = compile_baseline(&verified(&caller(0), &maps, &[]), &o).unwrap();
    let b = compile_baseline(&verified("mov %r0, 7\nexit", &maps, &[]), &o).unwrap();
    let c = compile_baseline(&verified(&caller(1), &maps, &[]), &o).unwrap();
    // Map 0 is a prog array whose slot 0 holds image 1.
    let mut w = world(&[&a, &b, &c], 1, &[(0, 0, 1)]);
    let mut no_helper = |n: u32, _: [u64; 8], _: &mut _| -> u64 { panic!("helper {n}") };
    assert_eq!(w.run(0, &mut no_helper).unwrap(), 7);
    assert_eq!(w.run(2, &mut no_helper).unwrap(), 1);
}

#[test]
fn what_it_does_not_implement_is_a_typed_unsupported_error() {
    let prog = verified("mov %r0, 0\nexit", &[], &[]);
    for o in [
        opts("rv64gc", TccScheme::Stack),
        opts("rv64gc", TccScheme::Ptr),
        JitOptions {
            sandbox: Sandbox::Masked,
            ..JitOptions::default()
        },
    ] {
        assert!(matches!(
            compile_baseline(&prog, &o),
            Err(JitError::Unsupported { .. })
        ));
        assert!(compile(&prog, &o).is_ok(), "the optimizing JIT takes it");
    }
    let prog = verified("mov %r6, %r1\nldabsb 3\nexit", &[], &[]);
    assert_eq!(
        compile_baseline(&prog, &JitOptions::default()),
        Err(JitError::Unsupported {
            pc: 1,
            what: "legacy packet access (ldabs/ldind)"
        })
    );
}
