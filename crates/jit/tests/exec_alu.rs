//! Runs small JIT'd programs in the rv64 emulator on every target and tcc
//! scheme, comparing r0 with values computed by hand from the BPF spec
//! (RFC 9669) in the comments.

mod common;

use common::emu::run_everywhere;

fn r0(src: &str) -> u64 {
    let results = run_everywhere(src, &[], &mut |n, _, _| panic!("unexpected helper {n}"));
    assert_eq!(results.len(), 1, "targets disagree: {results:x?}\n{src}");
    results[0]
}

#[test]
fn mov_add_returns_full_64_bits() {
    // 0x1_0000_0000 + 5
    assert_eq!(r0("lddw %r0, 0x100000000\nadd %r0, 5\nexit"), 0x1_0000_0005);
}

#[test]
fn alu32_results_are_zero_extended() {
    // -1 as u32 = 0xffffffff, + 1 wraps to 0 in 32 bits.
    assert_eq!(r0("mov32 %r0, -1\nexit"), 0xffff_ffff);
    assert_eq!(r0("mov32 %r0, -1\nadd32 %r0, 1\nexit"), 0);
    // 0x8000_0000 << 0 stays, upper half zero (sllw would sign-extend).
    assert_eq!(r0("mov32 %r0, 1\nlsh32 %r0, 31\nexit"), 0x8000_0000);
    // arsh32 of 0x8000_0000 by 4 = 0xf800_0000 (zero-extended).
    assert_eq!(
        r0("mov32 %r0, 1\nlsh32 %r0, 31\narsh32 %r0, 4\nexit"),
        0xf800_0000
    );
    // mov32 from a 64-bit value drops the upper half.
    assert_eq!(
        r0("lddw %r1, 0x123456789\nmov32 %r0, %r1\nexit"),
        0x2345_6789
    );
    // neg32 1 = 0xffffffff
    assert_eq!(r0("mov %r0, 1\nneg32 %r0\nexit"), 0xffff_ffff);
}

#[test]
fn shifts_mask_their_amount() {
    // 64-bit: 65 & 63 = 1; 32-bit: 33 & 31 = 1.
    assert_eq!(r0("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit"), 2);
    assert_eq!(r0("mov %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit"), 2);
}

#[test]
fn division_by_zero_and_overflow() {
    // BPF: x / 0 = 0, x % 0 = x.
    assert_eq!(r0("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit"), 0);
    assert_eq!(r0("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit"), 7);
    assert_eq!(r0("mov %r0, 7\nmov %r1, 0\nsdiv %r0, %r1\nexit"), 0);
    assert_eq!(
        r0("mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1\nexit"),
        (-7i64) as u64
    );
    // div32 looks at the low 32 bits of the divisor only: 0x1_0000_0000 is 0.
    assert_eq!(
        r0("mov %r0, 9\nlddw %r1, 0x100000000\ndiv32 %r0, %r1\nexit"),
        0
    );
    assert_eq!(
        r0("mov %r0, 9\nlddw %r1, 0x100000000\nmod32 %r0, %r1\nexit"),
        9
    );
    // div r, r: 5/5 = 1, 0/0 = 0.
    assert_eq!(r0("mov %r0, 5\ndiv %r0, %r0\nexit"), 1);
    assert_eq!(r0("mov %r0, 0\ndiv %r0, %r0\nexit"), 0);
    // unsigned: (2^64-2) / 2 = 2^63-1; signed: -8 / 2 = -4; -7 % 3 = -1.
    assert_eq!(r0("mov %r0, -2\ndiv %r0, 2\nexit"), (1u64 << 63) - 1);
    assert_eq!(r0("mov %r0, -8\nsdiv %r0, 2\nexit"), (-4i64) as u64);
    assert_eq!(r0("mov %r0, -7\nsmod %r0, 3\nexit"), (-1i64) as u64);
    // LLONG_MIN / -1 = LLONG_MIN, LLONG_MIN % -1 = 0.
    assert_eq!(
        r0("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"),
        1 << 63
    );
    assert_eq!(r0("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0);
    // INT_MIN / -1 in 32 bits = 0x8000_0000 zero-extended.
    assert_eq!(
        r0("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit"),
        0x8000_0000
    );
    // sdiv32: -8 / 2 = -4 as u32.
    assert_eq!(r0("mov32 %r0, -8\nsdiv32 %r0, 2\nexit"), 0xffff_fffc);
}

#[test]
fn byte_order() {
    let v = "lddw %r0, 0x0102030405060708\n";
    assert_eq!(r0(&format!("{v}be16 %r0\nexit")), 0x0807);
    assert_eq!(r0(&format!("{v}be32 %r0\nexit")), 0x0807_0605);
    assert_eq!(r0(&format!("{v}be64 %r0\nexit")), 0x0807_0605_0403_0201);
    assert_eq!(r0(&format!("{v}le16 %r0\nexit")), 0x0708);
    assert_eq!(r0(&format!("{v}le32 %r0\nexit")), 0x0506_0708);
    assert_eq!(r0(&format!("{v}le64 %r0\nexit")), 0x0102_0304_0506_0708);
    assert_eq!(r0(&format!("{v}bswap16 %r0\nexit")), 0x0807);
    assert_eq!(r0(&format!("{v}bswap64 %r0\nexit")), 0x0807_0605_0403_0201);
}

#[test]
fn sign_extending_moves() {
    // 0x80 as s8 = -128; 0x8000 as s16 = -32768; 0x8000_0000 as s32.
    assert_eq!(
        r0("mov %r1, 0x180\nmovsx864 %r0, %r1\nexit"),
        (-128i64) as u64
    );
    assert_eq!(
        r0("mov %r1, 0x8000\nmovsx1664 %r0, %r1\nexit"),
        (-32768i64) as u64
    );
    assert_eq!(
        r0("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit"),
        0xffff_ffff_8000_0000
    );
    // movsx8 into 32 bits: -128 as u32.
    assert_eq!(r0("mov %r1, 0x80\nmovsx832 %r0, %r1\nexit"), 0xffff_ff80);
}

#[test]
fn stack_loads_stores_and_sign_extending_loads() {
    let src = "
        mov %r1, -2
        stxdw [%r10-8], %r1
        ldxw %r0, [%r10-8]
        ldxsw %r2, [%r10-8]
        add %r0, %r2
        exit";
    // 0xffff_fffe + (-2) = 0xffff_fffc
    assert_eq!(r0(src), 0xffff_fffc);
    let src = "
        stb [%r10-1], 0x80
        ldxsb %r0, [%r10-1]
        ldxb %r1, [%r10-1]
        add %r0, %r1
        exit";
    // -128 + 128 = 0
    assert_eq!(r0(src), 0);
    // A store immediate wider than 12 bits, a store of a 64-bit dword.
    let src = "
        stdw [%r10-16], -100000
        ldxdw %r0, [%r10-16]
        exit";
    assert_eq!(r0(src), (-100000i64) as u64);
}

#[test]
fn conditional_jumps_signed_unsigned_32_64_and_jset() {
    // Each case returns 1 when the branch is taken.
    let case = |j: &str| r0(&format!("mov %r0, 0\n{j}\nexit\ntaken:\nmov %r0, 1\nexit"));
    let setup = "lddw %r1, 0xffffffff00000001\nmov %r2, 2\n";
    // 64-bit unsigned: r1 is huge > 2; signed: r1 < 0 < 2.
    assert_eq!(case(&format!("{setup}jgt %r1, %r2, taken")), 1);
    assert_eq!(case(&format!("{setup}jsgt %r1, %r2, taken")), 0);
    assert_eq!(case(&format!("{setup}jslt %r1, %r2, taken")), 1);
    // 32-bit: low half of r1 is 1 < 2 both ways.
    assert_eq!(case(&format!("{setup}jgt32 %r1, %r2, taken")), 0);
    assert_eq!(case(&format!("{setup}jlt32 %r1, %r2, taken")), 1);
    assert_eq!(case(&format!("{setup}jeq32 %r1, 1, taken")), 1);
    assert_eq!(case(&format!("{setup}jeq %r1, 1, taken")), 0);
    // jset: r1 & 0x1 != 0; 32-bit jset of the upper half is 0.
    assert_eq!(case(&format!("{setup}jset %r1, 1, taken")), 1);
    assert_eq!(case("lddw %r1, 0x100000000\njset32 %r1, -1, taken"), 0);
    assert_eq!(case("lddw %r1, 0x100000000\njset %r1, -1, taken"), 1);
    // imm sign-extension: jeq r1(-1), -1; jge unsigned with imm -1 (= 2^64-1).
    assert_eq!(case("mov %r1, -1\njeq %r1, -1, taken"), 1);
    assert_eq!(case("mov %r1, 5\njge %r1, -1, taken"), 0);
    // 32-bit unsigned compare against imm -1 (0xffffffff): 0xffffffff >= it.
    assert_eq!(case("mov32 %r1, -1\njge32 %r1, -1, taken"), 1);
    assert_eq!(case("mov %r1, -5\njsle32 %r1, -5, taken"), 1);
    assert_eq!(case("mov %r1, -5\njsgt32 %r1, -6, taken"), 1);
}

#[test]
fn atomics() {
    // fetch_add returns the old value; the memory gets the sum.
    let src = "
        stdw [%r10-8], 40
        mov %r1, 2
        lock fetch add [%r10-8], %r1
        ldxdw %r0, [%r10-8]
        add %r0, %r1
        exit";
    assert_eq!(r0(src), 42 + 40);
    // 32-bit fetch_or returns the old value zero-extended.
    let src = "
        stw [%r10-8], -1
        mov %r1, 0
        lock fetch or32 [%r10-8], %r1
        mov %r0, %r1
        exit";
    assert_eq!(r0(src), 0xffff_ffff);
    // cmpxchg: success stores src, r0 = old; failure leaves memory alone.
    let src = "
        stdw [%r10-8], 7
        mov %r0, 7
        mov %r1, 9
        lock cmpxchg [%r10-8], %r1
        ldxdw %r2, [%r10-8]
        mov %r3, 100
        mul %r3, %r0
        add %r2, %r3
        mov %r0, 1
        mov %r1, 11
        lock cmpxchg [%r10-8], %r1
        ldxdw %r4, [%r10-8]
        mul %r0, 10000
        add %r0, %r2
        mul %r4, 1000000
        add %r0, %r4
        exit";
    // first: r0 = old 7, mem = 9 → r2 = 9 + 700 = 709; second: expected 1 ≠ 9
    // → r0 = 9, mem stays 9 → 90000 + 709 + 9000000.
    assert_eq!(r0(src), 9_090_709);
    // 32-bit cmpxchg compares the low halves; r0 gets the old value zero-extended.
    let src = "
        stw [%r10-8], -1
        lddw %r0, 0x5ffffffff
        mov %r1, 3
        lock cmpxchg32 [%r10-8], %r1
        ldxw %r2, [%r10-8]
        lsh %r2, 32
        add %r0, %r2
        exit";
    assert_eq!(r0(src), (3u64 << 32) | 0xffff_ffff);
    // xchg
    let src = "
        stdw [%r10-8], 5
        mov %r1, 6
        lock xchg [%r10-8], %r1
        ldxdw %r0, [%r10-8]
        lsh %r0, 8
        add %r0, %r1
        exit";
    assert_eq!(r0(src), 0x605);
}

#[test]
fn relaxed_branches_and_jumps_reach_their_targets() {
    // Each `add %r0, 1` is 2-4 bytes, so 1200 of them put `far` beyond the
    // ±4 KiB of a B-type branch: the branch is relaxed to an inverted branch
    // over `jal`. r1 = ctx, which is non-zero.
    let body = "add %r0, 1\n".repeat(1200);
    let taken = format!("mov %r0, 1\njne %r1, 0, far\n{body}far:\nexit");
    assert_eq!(r0(&taken), 1);
    let not_taken = format!("mov %r0, 1\njeq %r1, 0, far\n{body}far:\nexit");
    assert_eq!(r0(&not_taken), 1201);
    // A backward `ja` over the body: jump to the end, then back to `back`.
    let back = format!("mov %r0, 1\nja end\nback:\nexit\n{body}end:\nja back");
    assert_eq!(r0(&back), 1);
}

/// How an operand reaches its register, which decides what the JIT knows
/// about its upper half: (load mnemonic, the 64-bit value it produces from
/// the 64-bit memory word).
type LoadKind = (&'static str, fn(u64) -> u64);
const LOADS: [LoadKind; 3] = [
    ("ldxdw", |v| v),
    ("ldxw", |v| v as u32 as u64),
    ("ldxsw", |v| v as u32 as i32 as i64 as u64),
];

#[test]
fn jmp32_and_jmp64_conditions_match_rust_on_boundary_values() {
    use common::emu::world;
    use common::{compile_text, opts};
    let lows = [0u64, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff];
    let values: Vec<u64> = lows
        .iter()
        .flat_map(|&l| [l, l | 0xdead_beef_0000_0000])
        .collect();
    // (mnemonic, oracle on u64 operands)
    type Oracle = fn(u64, u64) -> bool;
    let conds: [(&str, Oracle); 11] = [
        ("jeq", |a, b| a == b),
        ("jne", |a, b| a != b),
        ("jgt", |a, b| a > b),
        ("jge", |a, b| a >= b),
        ("jlt", |a, b| a < b),
        ("jle", |a, b| a <= b),
        ("jsgt", |a, b| (a as i64) > (b as i64)),
        ("jsge", |a, b| (a as i64) >= (b as i64)),
        ("jslt", |a, b| (a as i64) < (b as i64)),
        ("jsle", |a, b| (a as i64) <= (b as i64)),
        ("jset", |a, b| a & b != 0),
    ];
    // BPF semantics of the comparison on the registers' 64-bit values.
    let expect = |name: &str, oracle: Oracle, is32: bool, a: u64, b: u64| {
        if is32 {
            let ext = |v: u64| {
                if name.starts_with("js") {
                    v as u32 as i32 as i64 as u64
                } else {
                    v as u32 as u64
                }
            };
            oracle(ext(a), ext(b))
        } else {
            oracle(a, b)
        }
    };
    for target in ["rv64g", "rv64gc_zba_zbb"] {
        let o = opts(target, Default::default());
        for (name, oracle) in conds {
            for is32 in [false, true] {
                let suffix = if is32 { "32" } else { "" };
                for (la, fa) in LOADS {
                    for (lb, fb) in LOADS {
                        // r1, r2 come from ctx through the chosen loads.
                        let src = format!(
                            "{lb} %r2, [%r1+8]\n{la} %r1, [%r1+0]\nmov %r0, 0\n\
                             {name}{suffix} %r1, %r2, +1\nexit\nmov %r0, 1\nexit"
                        );
                        let image = compile_text(&src, &[], &o);
                        let mut w = world(&[&image], 0, &[]);
                        for &a in &values {
                            for &b in &values {
                                w.mem.write_u64(common::emu::CTX_BASE, a).unwrap();
                                w.mem.write_u64(common::emu::CTX_BASE + 8, b).unwrap();
                                let r = w.run(0, &mut |_, _, _| 0).unwrap();
                                let e = expect(name, oracle, is32, fa(a), fb(b));
                                assert_eq!(
                                    r, e as u64,
                                    "{target} {la}/{lb} {name}{suffix} {a:#x} {b:#x}"
                                );
                            }
                        }
                    }
                    // Immediate forms: imm is sign-extended to 64 bits.
                    for imm in [0i32, 1, -1, -2, i32::MAX, i32::MIN] {
                        let src = format!(
                            "{la} %r1, [%r1+0]\nmov %r0, 0\n\
                             {name}{suffix} %r1, {imm}, +1\nexit\nmov %r0, 1\nexit"
                        );
                        let image = compile_text(&src, &[], &o);
                        let mut w = world(&[&image], 0, &[]);
                        let b = imm as i64 as u64;
                        for &a in &values {
                            w.mem.write_u64(common::emu::CTX_BASE, a).unwrap();
                            let r = w.run(0, &mut |_, _, _| 0).unwrap();
                            let e = expect(name, oracle, is32, fa(a), b);
                            assert_eq!(
                                r, e as u64,
                                "{target} {la} {name}{suffix} {a:#x} imm {imm}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn mov_fused_into_the_next_alu_op_computes_the_same() {
    // Each line: mov dst, src; op dst, X — fused into one three-address
    // instruction. r1 = 0x1_0000_0007 (upper half set), r2 = 3.
    let setup = "lddw %r1, 0x100000007\nmov %r2, 3\n";
    let cases: [(&str, u64); 12] = [
        ("mov %r0, %r1\nadd %r0, %r2", 0x1_0000_000a),
        ("mov %r0, %r1\nsub %r0, 10", 0xffff_fffd),
        ("mov %r0, %r1\nmul %r0, %r2", 0x3_0000_0015),
        ("mov %r0, %r1\nlsh %r0, 4", 0x10_0000_0070),
        ("mov %r0, %r1\nrsh %r0, 0", 0x1_0000_0007),
        ("mov %r0, %r1\nand %r0, %r0", 0x1_0000_0007),
        // 64-bit mov, 32-bit op: low half only, zero-extended.
        ("mov %r0, %r1\nadd32 %r0, %r2", 0xa),
        ("mov %r0, %r1\nrsh32 %r0, 0", 7),
        // 32-bit mov and op.
        ("mov32 %r0, %r1\nxor32 %r0, -1", 0xffff_fff8),
        ("mov32 %r0, %r1\narsh32 %r0, 1", 3),
        // 32-bit mov followed by a 64-bit op: not fused, the mov zero-extends.
        ("mov32 %r0, %r1\nadd %r0, 0", 7),
        // src == dst inside the op reads the moved value: r0 = r1 + r1.
        ("mov %r0, %r1\nadd %r0, %r0", 0x2_0000_000e),
    ];
    for (code, expect) in cases {
        assert_eq!(r0(&format!("{setup}{code}\nexit")), expect, "{code}");
    }
    // A jump into the op: the mov cannot be fused (the other path's r0 is 5).
    let src = "lddw %r1, 0x100000007\nmov %r0, 5\njeq %r1, 0, +1\nmov %r0, %r1\nadd %r0, 1\nexit";
    assert_eq!(r0(src), 0x1_0000_0008);
    let src = "mov %r1, 0\nmov %r0, 5\njeq %r1, 0, +1\nmov %r0, %r1\nadd %r0, 1\nexit";
    assert_eq!(r0(src), 6);
}
