//! The C kernels of `kernels/kernels.c` give the same result natively
//! (clang's riscv64 code) and through the JIT (clang's BPF code compiled by
//! rvbpf-jit), and both equal a plain Rust reference implementation, which
//! is itself pinned to published test vectors and hand-computed cases.
//!
//! Performance (instruction ratios) is reported by
//! `examples/measure_kernels.rs`, not asserted here.

#[path = "../benches/kernels_support/mod.rs"]
mod kernels_support;

use kernels_support::attribution::{Attribution, CLASSES};
use kernels_support::{load_jit, load_native, Kernel, KERNELS, VARIANTS};
use rvbpf_rv64::Target;

/// Lengths around every kernel's word size (2, 4, 8: odd tails, empty
/// loops) plus a few longer buffers.
const LENGTHS: [usize; 12] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 64, 333];

fn kernel(name: &str) -> &'static Kernel {
    KERNELS
        .iter()
        .find(|k| k.name == name)
        .unwrap_or_else(|| panic!("no kernel {name}"))
}

/// Runs `kernel` natively and JIT'd on `input` for every ISA variant,
/// asserting both agree with the reference; returns that value.
fn run_both(kernel: &Kernel, input: &[u8]) -> u64 {
    let expected = (kernel.reference)(input);
    for (target, object) in VARIANTS {
        let (mut native, _) = load_native(kernel, object, input)
            .unwrap_or_else(|e| panic!("{} {target}: {e}", kernel.name));
        let (mut jit, image) = load_jit(kernel, target.parse::<Target>().unwrap(), input)
            .unwrap_or_else(|e| panic!("{} {target}: {e}", kernel.name));
        let native = native
            .run()
            .unwrap_or_else(|e| panic!("{} {target} native: {e}", kernel.name));
        let jit = jit
            .run()
            .unwrap_or_else(|e| panic!("{} {target} jit: {e}\n{}", kernel.name, image.listing()));
        assert_eq!(
            native.result,
            expected,
            "{} {target} native, {} bytes",
            kernel.name,
            input.len()
        );
        assert_eq!(
            jit.result,
            expected,
            "{} {target} jit, {} bytes\n{}",
            kernel.name,
            input.len(),
            image.listing()
        );
    }
    expected
}

#[test]
fn every_kernel_agrees_native_jit_and_reference_on_generated_inputs() {
    for kernel in &KERNELS {
        for len in LENGTHS {
            run_both(kernel, &(kernel.input)(len));
        }
    }
}

#[test]
fn checksum_matches_rfc1071() {
    let k = kernel("checksum");
    // RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums (big-endian) to
    // 0xddf2, checksum 0x220d. Summing little-endian words gives the
    // byte-swapped sum 0xf2dd, so the checksum is 0x0d22.
    assert_eq!(
        run_both(k, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
        0x0d22
    );
    // Empty: sum 0, complement 0xffff.
    assert_eq!(run_both(k, &[]), 0xffff);
    // One odd byte is the low byte of a zero-padded word: !0x00ab.
    assert_eq!(run_both(k, &[0xab]), 0xff54);
    // All-ones words: every fold leaves 0xffff ("negative zero"), checksum 0.
    assert_eq!(run_both(k, &[0xff; 1024]), 0);
}

#[test]
fn fnv1a_matches_published_vectors() {
    let k = kernel("fnv1a");
    // Empty input hashes to the 64-bit offset basis.
    assert_eq!(run_both(k, b""), 0xcbf2_9ce4_8422_2325);
    // Vectors from the FNV reference test suite (FNV-1a, 64 bits).
    assert_eq!(run_both(k, b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(run_both(k, b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn murmur3_matches_published_vectors() {
    let k = kernel("murmur3");
    // MurmurHash3_x86_32, seed 0: "" → 0, "test" → 0xba6bd213.
    assert_eq!(run_both(k, b""), 0);
    assert_eq!(run_both(k, b"test"), 0xba6b_d213);
    // The kernel ignores a tail shorter than a word: "test" + "xy" hashes
    // like "test".
    assert_eq!(run_both(k, b"testxy"), 0xba6b_d213);
}

#[test]
fn crc32_matches_the_check_value() {
    let k = kernel("crc32");
    // CRC-32/ISO-HDLC catalogue check value for "123456789"; empty input
    // gives !0xffffffff = 0.
    assert_eq!(run_both(k, b"123456789"), 0xcbf4_3926);
    assert_eq!(run_both(k, b""), 0);
}

#[test]
fn binsearch_counts_positions_and_hits() {
    let k = kernel("binsearch");
    let words = |ws: &[u32]| -> Vec<u8> { ws.iter().flat_map(|w| w.to_le_bytes()).collect() };
    // a = [10, 20, 30]: key 10 → pos 0, hit; key 21 → pos 2, miss (a[2] =
    // 30); key 30 → pos 2, hit. Sum of positions 4, two hits.
    assert_eq!(run_both(k, &words(&[10, 20, 30])), 4 + (2 << 32));
    // a = [u32::MAX; 2]: key a[0] → pos 0, hit; key a[1] + 1 wraps to 0 →
    // pos 0, miss. One hit.
    assert_eq!(run_both(k, &words(&[u32::MAX, u32::MAX])), 1 << 32);
    // Fewer than 4 bytes: no elements, nothing found.
    assert_eq!(run_both(k, &[1, 2, 3]), 0);
}

#[test]
fn call_loop_folds_whole_words() {
    let k = kernel("call_loop");
    // acc starts at len; one zero word: acc = (8 ^ (0 + (8 >> 7))) * K =
    // 8 * 0x9e3779b97f4a7c15 mod 2^64 = 0xf1bbcdcbfa53e0a8.
    assert_eq!(run_both(k, &[0; 8]), 0xf1bb_cdcb_fa53_e0a8);
    // A 9th byte is no whole word and only changes the start value:
    // 9 * K mod 2^64 = 0x8ff34785799e5cbd.
    assert_eq!(run_both(k, &[0; 9]), 0x8ff3_4785_799e_5cbd);
    // Fewer than 8 bytes: no call, the result is the length.
    assert_eq!(run_both(k, &[0; 7]), 7);
}

/// The `--breakdown` of the example must account for every retired JIT
/// instruction; if the listing format changes under it, this fails.
#[test]
fn breakdown_attributes_every_retired_jit_instruction() {
    for kernel in &KERNELS {
        let input = (kernel.input)(64);
        let (mut jit, image) = load_jit(kernel, Target::RV64GC, &input).unwrap();
        let (run, offsets) = jit.run_traced().unwrap();
        assert_eq!(
            offsets.len() as u64,
            run.counters.instructions,
            "{}",
            kernel.name
        );
        let b = Attribution::from_listing(&image.listing()).count(offsets);
        assert_eq!(b.unattributed, 0, "{}\n{}", kernel.name, image.listing());
        let by_class: u64 = CLASSES.iter().map(|c| b.class(c)).sum();
        assert_eq!(by_class, run.counters.instructions, "{}", kernel.name);
        // Every entry runs the header and prologue once at least.
        assert!(b.class("frame") > 0, "{}", kernel.name);
    }
}

/// The classifier on a hand-written listing in the JIT's format.
#[test]
fn breakdown_classifies_by_instruction_shape() {
    let listing = "
<f> (frame 0 bytes):
  ; header
             0: 13 00 00 00  nop
     0: mov32 %r0, %r1
             4: 93 17 05 02  slli a5, a0, 32
             8: 81 93        srli a5, a5, 32
     1: add32 %r0, 100000
             a: 37 83 01 00  lui t1, 24
             e: 1b 03 03 6a  addiw t1, t1, 1696
            12: bb 87 67 00  addw a5, a5, t1
     2: mov %r2, %r1
            16: ae 85        mv a1, a0
     3: jlt32 %r0, %r2, +0
            18: 9b 83 07 00  sext.w t2, a5
            1c: 1b 83 05 00  sext.w t1, a1
            20: 63 e3 63 00  bltu t2, t1, 0x26
  ; epilogue
            24: 3e 85        mv a0, a5
";
    let a = Attribution::from_listing(listing);
    // Run: header nop, pcs 0..3 once each, epilogue mv.
    let b = a.count([0, 4, 8, 0xa, 0xe, 0x12, 0x16, 0x18, 0x1c, 0x20, 0x24]);
    assert_eq!(b.unattributed, 0);
    assert_eq!(b.class("frame"), 2); // nop, epilogue mv
    assert_eq!(b.class("zext"), 2); // slli/srli pair
    assert_eq!(b.class("const"), 2); // lui/addiw into t1
    assert_eq!(b.class("copy"), 1); // mv of a 64-bit mov
    assert_eq!(b.class("sext"), 2);
    assert_eq!(b.class("work"), 2); // addw, bltu
    assert_eq!(b.bpf_executed, 4); // pcs 0, 1, 2, 3
                                   // An offset the listing does not describe is reported, not guessed.
    assert_eq!(a.count([0x100]).unattributed, 1);
}
