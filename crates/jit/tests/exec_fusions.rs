//! Runs programs shaped for the lowering's cross-instruction rewrites
//! (`ja` past a redundant mov, Zba `shNadd`, threading a repeated test) on
//! every target and tcc scheme; expected r0 values are worked out by hand
//! from the BPF semantics in the comments.

mod common;

use common::emu::run_everywhere;

fn r0(src: &str) -> u64 {
    let results = run_everywhere(src, &[], &mut |n, _, _| panic!("unexpected helper {n}"));
    assert_eq!(results.len(), 1, "targets disagree: {results:x?}\n{src}");
    results[0]
}

#[test]
fn ja_past_a_mov_the_path_already_did() {
    // r0 = 4 + 3 + 2 + 1: each round adds r8 (= r6) and counts r6 down; the
    // back edge's `mov r6, r8; ja head` meets `head: mov r8, r6`.
    let src = "mov %r6, 4
               mov %r0, 0
               mov %r8, %r6
               add %r0, %r8
               sub %r6, 1
               jeq %r6, 0, +3
               mov %r8, %r6
               mov %r6, %r8
               ja -7
               exit";
    assert_eq!(r0(src), 10);
}

#[test]
fn scaled_index_adds() {
    // 0x1000 + (3 << 2), the shifted copy r9 overwritten after.
    let src = "mov %r6, 3
               lddw %r3, 0x1000
               mov %r9, %r6
               lsh %r9, 2
               mov %r1, %r3
               add %r1, %r9
               mov %r9, 0
               mov %r0, %r1
               exit";
    assert_eq!(r0(src), 0x100c);
    // In place: 5 + (7 << 3) = 61; r6 keeps 7 (not shifted in place).
    let src = "mov %r2, 7
               mov %r6, %r2
               mov %r1, 5
               lsh %r2, 3
               add %r1, %r2
               mov %r2, 0
               mov %r0, %r1
               add %r0, %r6
               exit";
    assert_eq!(r0(src), 68);
    // The shifted value is read again: 5 + 56, plus 56.
    let src = "mov %r2, 7
               mov %r1, 5
               lsh %r2, 3
               add %r1, %r2
               mov %r0, %r1
               add %r0, %r2
               exit";
    assert_eq!(r0(src), 117);
}

/// `if (r9 < 5) goto shared; r7 = r6; r0 = 100; shared: r6 += 1;
/// if (r9 < 5) goto taken; r6 = 7; r0 += r6; exit; taken: r0 += r6 + 1000`.
fn repeated_test(jlt: &str, r9: i64) -> String {
    format!(
        "mov %r0, 0
         mov %r9, {r9}
         mov %r5, 5
         mov %r6, 10
         {jlt} %r9, %r5, +2
         mov %r7, %r6
         mov %r0, 100
         add %r6, 1
         {jlt} %r9, %r5, +3
         mov %r6, 7
         add %r0, %r6
         exit
         add %r0, %r6
         add %r0, 1000
         exit"
    )
}

#[test]
fn repeated_test_goes_the_way_the_first_went() {
    for jlt in ["jlt", "jlt32"] {
        // Taken twice: r6 = 11, r0 = 0 + 11 + 1000.
        assert_eq!(r0(&repeated_test(jlt, 3)), 1011, "{jlt}");
        // Not taken twice: r0 = 100 + 7.
        assert_eq!(r0(&repeated_test(jlt, 9)), 107, "{jlt}");
    }
    // Signed vs unsigned: -1 < 5 signed only; 32-bit compares the low half
    // (0xffff_ffff, unsigned: not below 5).
    assert_eq!(r0(&repeated_test("jslt", -1)), 1011);
    assert_eq!(r0(&repeated_test("jlt32", -1)), 107);
}

#[test]
fn repeated_test_in_a_loop() {
    // Counts r9 = 0..9 and, per round, r6 += 1 on both paths; r0 sums r9
    // below 5 via the taken copy (0+1+2+3+4 = 10), and 100 per other round
    // via the fall-through (5 rounds): 510.
    let src = "mov %r0, 0
               mov %r9, 0
               mov %r5, 5
               mov %r6, 0
               jlt %r9, %r5, +1
               add %r0, 100
               add %r6, 1
               jlt %r9, %r5, +2
               mov %r6, 0
               ja +1
               add %r0, %r9
               add %r9, 1
               jlt %r9, 10, -9
               exit";
    assert_eq!(r0(src), 510);
}
