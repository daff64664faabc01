//! Per-instruction semantics with hand-computed values (RFC 9669 rules),
//! run on every engine through `runtime_support::eval`.

mod runtime_support;

use runtime_support::eval;

#[test]
fn alu32_zero_extends_its_result() {
    // r1 = 0xffffffff_00000001; add32 r1, 1 → upper half cleared: 2.
    assert_eq!(
        eval("lddw %r1, 0xffffffff00000001\nadd32 %r1, 1\nmov %r0, %r1\nexit"),
        2
    );
    // mov32 r0, -1 → 0x00000000_ffffffff (not sign-extended).
    assert_eq!(eval("mov32 %r0, -1\nexit"), 0xffff_ffff);
    // mov64 r0, -1 → all ones (imm sign-extended).
    assert_eq!(eval("mov %r0, -1\nexit"), u64::MAX);
    // neg32 of 1 → 0xffffffff; neg64 of 1 → all ones.
    assert_eq!(eval("mov %r0, 1\nneg32 %r0\nexit"), 0xffff_ffff);
    assert_eq!(eval("mov %r0, 1\nneg %r0\nexit"), u64::MAX);
    // sub32 wraps within 32 bits: 0 - 1 = 0xffffffff.
    assert_eq!(eval("mov %r0, 0\nsub32 %r0, 1\nexit"), 0xffff_ffff);
    // mul32: 0x10000 * 0x10000 = 2^32 → 0 in 32 bits.
    assert_eq!(eval("mov %r0, 0x10000\nmul32 %r0, 0x10000\nexit"), 0);
    assert_eq!(eval("mov %r0, 0x10000\nmul %r0, 0x10000\nexit"), 1 << 32);
}

#[test]
fn division_and_modulo_by_zero() {
    // div by zero → 0, 64 and 32 bit, reg and imm forms.
    assert_eq!(eval("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit"), 0);
    assert_eq!(eval("mov %r0, 7\ndiv32 %r0, 0\nexit"), 0);
    // mod by zero → dst unchanged (64-bit keeps all bits).
    assert_eq!(
        eval("lddw %r0, 0x123456789\nmov %r1, 0\nmod %r0, %r1\nexit"),
        0x1_2345_6789
    );
    // 32-bit mod by zero → dst truncated to 32 bits.
    assert_eq!(
        eval("lddw %r0, 0x123456789\nmov %r1, 0\nmod32 %r0, %r1\nexit"),
        0x2345_6789
    );
    // Unsigned: -1 / 2 = 0x7fff...ffff.
    assert_eq!(eval("mov %r0, -1\ndiv %r0, 2\nexit"), u64::MAX >> 1);
    // 64-bit div with a negative imm: imm sign-extends to 0xffff...fffe.
    assert_eq!(eval("mov %r0, -1\ndiv %r0, -2\nexit"), 1);
}

#[test]
fn signed_division_and_overflow() {
    // -7 sdiv 2 = -3 (truncation toward zero); -7 smod 2 = -1.
    assert_eq!(eval("mov %r0, -7\nsdiv %r0, 2\nexit"), -3i64 as u64);
    assert_eq!(eval("mov %r0, -7\nsmod %r0, 2\nexit"), -1i64 as u64);
    // INT64_MIN / -1 overflows: result INT64_MIN; INT64_MIN % -1 = 0.
    assert_eq!(
        eval("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"),
        1 << 63
    );
    assert_eq!(eval("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0);
    // 32-bit: INT32_MIN / -1 = INT32_MIN, zero-extended.
    assert_eq!(
        eval("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit"),
        0x8000_0000
    );
    // sdiv by zero → 0, smod by zero → dst.
    assert_eq!(eval("mov %r0, -5\nmov %r1, 0\nsdiv %r0, %r1\nexit"), 0);
    assert_eq!(
        eval("mov %r0, -5\nmov %r1, 0\nsmod %r0, %r1\nexit"),
        -5i64 as u64
    );
    // smod32 by zero: dst truncated to 32 bits.
    assert_eq!(
        eval("mov %r0, -5\nmov %r1, 0\nsmod32 %r0, %r1\nexit"),
        0xffff_fffb
    );
}

#[test]
fn shifts_mask_their_amount() {
    // Register shift amounts are masked: 65 & 63 = 1, 33 & 31 = 1.
    assert_eq!(eval("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit"), 2);
    assert_eq!(eval("mov %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit"), 2);
    assert_eq!(eval("mov %r0, -1\nrsh32 %r0, 28\nexit"), 0xf);
    // arsh: sign bit replicated; arsh32 works on the low half then zero-extends.
    assert_eq!(eval("mov %r0, -16\narsh %r0, 2\nexit"), -4i64 as u64);
    assert_eq!(
        eval("mov32 %r0, 0x80000000\narsh32 %r0, 4\nexit"),
        0xf800_0000
    );
    assert_eq!(eval("mov %r0, -1\nrsh %r0, 60\nexit"), 0xf);
}

#[test]
fn byte_order_operations() {
    let v = "lddw %r0, 0x1122334455667788\n";
    assert_eq!(eval(&format!("{v}be16 %r0\nexit")), 0x8877);
    assert_eq!(eval(&format!("{v}be32 %r0\nexit")), 0x8877_6655);
    assert_eq!(eval(&format!("{v}be64 %r0\nexit")), 0x8877_6655_4433_2211);
    // le on a little-endian VM only truncates.
    assert_eq!(eval(&format!("{v}le16 %r0\nexit")), 0x7788);
    assert_eq!(eval(&format!("{v}le32 %r0\nexit")), 0x5566_7788);
    assert_eq!(eval(&format!("{v}le64 %r0\nexit")), 0x1122_3344_5566_7788);
    // v4 bswap is unconditional.
    assert_eq!(eval(&format!("{v}bswap16 %r0\nexit")), 0x8877);
    assert_eq!(
        eval(&format!("{v}bswap64 %r0\nexit")),
        0x8877_6655_4433_2211
    );
}

#[test]
fn sign_extending_moves_and_loads() {
    assert_eq!(
        eval("mov %r1, 0x80\nmovsx864 %r0, %r1\nexit"),
        0xffff_ffff_ffff_ff80
    );
    assert_eq!(
        eval("mov %r1, 0x8000\nmovsx1632 %r0, %r1\nexit"),
        0xffff_8000
    );
    assert_eq!(
        eval("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit"),
        0xffff_ffff_8000_0000
    );
    // Stack bytes: store 0xfe, load it signed (b, h, w) and unsigned.
    let st = "mov %r1, -2\nstxdw [%r10-8], %r1\n";
    assert_eq!(
        eval(&format!("{st}ldxsb %r0, [%r10-8]\nexit")),
        -2i64 as u64
    );
    assert_eq!(
        eval(&format!("{st}ldxsh %r0, [%r10-8]\nexit")),
        -2i64 as u64
    );
    assert_eq!(
        eval(&format!("{st}ldxsw %r0, [%r10-8]\nexit")),
        -2i64 as u64
    );
    assert_eq!(eval(&format!("{st}ldxb %r0, [%r10-8]\nexit")), 0xfe);
    assert_eq!(eval(&format!("{st}ldxw %r0, [%r10-8]\nexit")), 0xffff_fffe);
}

#[test]
fn atomics_32_and_64() {
    // 64-bit add, fetch-add returns the old value.
    let p = "mov %r1, 10\nstxdw [%r10-8], %r1\nmov %r2, 5\nlock fetch add [%r10-8], %r2\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nadd %r0, %r2\nexit";
    assert_eq!(eval(p), (15 << 8) + 10);
    // 32-bit add only touches 4 bytes and zero-extends the fetched value.
    let p = "mov %r1, -1\nstxdw [%r10-8], %r1\nmov %r2, 1\nlock fetch add32 [%r10-8], %r2\nldxdw %r0, [%r10-8]\nexit";
    // Low word 0xffffffff + 1 = 0, high word untouched.
    assert_eq!(eval(p), 0xffff_ffff_0000_0000);
    let p = "mov %r1, -1\nstxdw [%r10-8], %r1\nmov %r2, 1\nlock fetch add32 [%r10-8], %r2\nmov %r0, %r2\nexit";
    assert_eq!(eval(p), 0xffff_ffff);
    // or / and / xor without fetch.
    let p = "mov %r1, 0xc\nstxdw [%r10-8], %r1\nmov %r2, 3\nlock or [%r10-8], %r2\nmov %r2, 6\nlock and [%r10-8], %r2\nmov %r2, 1\nlock xor [%r10-8], %r2\nldxdw %r0, [%r10-8]\nexit";
    // 0xc|3 = 0xf; &6 = 6; ^1 = 7.
    assert_eq!(eval(p), 7);
    // xchg: memory gets src, src gets old.
    let p = "mov %r1, 3\nstxdw [%r10-8], %r1\nmov %r2, 9\nlock xchg [%r10-8], %r2\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nadd %r0, %r2\nexit";
    assert_eq!(eval(p), (9 << 8) + 3);
    // cmpxchg success: r0 == mem → mem = src; r0 = old.
    let p = "mov %r1, 3\nstxdw [%r10-8], %r1\nmov %r0, 3\nmov %r2, 9\nlock cmpxchg [%r10-8], %r2\nldxdw %r1, [%r10-8]\nlsh %r1, 8\nadd %r0, %r1\nexit";
    assert_eq!(eval(p), (9 << 8) + 3);
    // cmpxchg failure: mem unchanged, r0 = old.
    let p = "mov %r1, 3\nstxdw [%r10-8], %r1\nmov %r0, 4\nmov %r2, 9\nlock cmpxchg [%r10-8], %r2\nldxdw %r1, [%r10-8]\nlsh %r1, 8\nadd %r0, %r1\nexit";
    assert_eq!(eval(p), (3 << 8) + 3);
    // cmpxchg32 compares only the low half of r0.
    let p = "mov %r1, 3\nstxw [%r10-8], %r1\nlddw %r0, 0x500000003\nmov %r2, 9\nlock cmpxchg32 [%r10-8], %r2\nldxw %r0, [%r10-8]\nexit";
    assert_eq!(eval(p), 9);
}

#[test]
fn jumps_signed_unsigned_and_32_bit() {
    // -1 > 1 unsigned, but not signed.
    assert_eq!(
        eval("mov %r0, 0\nmov %r1, -1\njgt %r1, 1, +1\nexit\nmov %r0, 1\nexit"),
        1
    );
    assert_eq!(
        eval("mov %r0, 0\nmov %r1, -1\njsgt %r1, 1, +1\nexit\nmov %r0, 1\nexit"),
        0
    );
    // jmp32 compares only the low halves: 0x1_00000000 == 0 in 32 bits.
    assert_eq!(
        eval("mov %r0, 0\nlddw %r1, 0x100000000\njeq32 %r1, 0, +1\nexit\nmov %r0, 1\nexit"),
        1
    );
    assert_eq!(
        eval("mov %r0, 0\nlddw %r1, 0x100000000\njeq %r1, 0, +1\nexit\nmov %r0, 1\nexit"),
        0
    );
    // jslt32: 0x80000000 is negative as an i32.
    assert_eq!(
        eval("mov %r0, 0\nmov32 %r1, 0x80000000\njslt32 %r1, 0, +1\nexit\nmov %r0, 1\nexit"),
        1
    );
    // jset.
    assert_eq!(
        eval("mov %r0, 0\nmov %r1, 6\njset %r1, 4, +1\nexit\nmov %r0, 1\nexit"),
        1
    );
    // gotol (32-bit offset).
    assert_eq!(eval("mov %r0, 1\ngotol +1\nmov %r0, 2\nexit"), 1);
}

#[test]
fn loops_and_lddw_count_as_instructions() {
    // sum 1..=10 with a backward jump.
    let p = "mov %r0, 0\nmov %r1, 10\nloop:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, loop\nexit";
    assert_eq!(eval(p), 55);
    let mut vm = rvbpf::Vm::new();
    let id = runtime_support::load_raw(&mut vm, "lddw %r0, 5\nexit");
    let out = runtime_support::run(&mut vm, id, &rvbpf::Ctx::empty());
    // lddw (one instruction, two slots) + exit.
    assert_eq!(out.stats.insns_executed, 2);
}

#[test]
fn callx_calls_the_helper_numbered_in_the_register() {
    let mut vm = rvbpf::Vm::new();
    vm.register_helper(100, |_, a| Ok(a[0] * 3));
    let id = runtime_support::load_raw(&mut vm, "mov %r1, 14\nmov %r6, 100\ncall %r6\nexit");
    assert_eq!(
        runtime_support::run(&mut vm, id, &rvbpf::Ctx::empty()).ret,
        42
    );
}
