//! The benchmark programs, in the assembler syntax of `rvbpf::ebpf::asm`,
//! each with a plain-Rust model of what it computes (the expected `r0`).
//!
//! # The common dialect
//!
//! The same bytes run on rvbpf, rbpf and solana-sbpf (SBPF v3), so the
//! programs stay inside what all three execute identically:
//!
//! * only 64-bit ALU ops — SBPF (every version but v2) sign-extends the
//!   result of 32-bit ALU ops where eBPF zero-extends;
//! * no division or modulo — SBPF faults on a zero divisor where eBPF yields
//!   0 (or keeps dst); and shifts by immediates below 64 only;
//! * no jmp32 — rbpf and SBPF v3 have it, but SBPF v0..v2 do not;
//! * no helpers — none are registered on the other engines;
//! * `r1` is the only argument: rbpf passes the input address in `r1` but no
//!   length in `r2`, so lengths are constants in the program;
//! * stack use stays below 256 bytes per frame (rbpf's default frame size);
//! * bpf2bpf calls are `call local` (src = 1, pc-relative imm), which rbpf
//!   and SBPF v3 (`static_syscalls`) decode exactly like eBPF.

/// One benchmark program.
pub struct Workload {
    /// Short name (criterion group and table row).
    pub name: &'static str,
    /// Assembler source.
    pub asm: String,
    /// The input buffer (the ctx; `r1` points at it).
    pub input: Vec<u8>,
    /// `r0` at exit, from the Rust model of the program.
    pub expected: u64,
}

/// Every workload, sized for a run of roughly 0.3M to 14M instructions.
pub fn all() -> Vec<Workload> {
    vec![alu(1_000_000), memory(8), branchy(3_000), calls(100_000)]
}

/// Start value of the ALU loop's xorshift state.
const XORSHIFT_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// ALU-heavy: `iterations` rounds of a xorshift64 step (shifts, xors)
/// folded into an accumulator with an add, a multiply and the loop counter.
pub fn alu(iterations: u32) -> Workload {
    let asm = format!(
        "    mov %r0, 0
    lddw %r6, {XORSHIFT_SEED:#x}
    mov %r7, {iterations}
loop:
    mov %r8, %r6
    lsh %r8, 13
    xor %r6, %r8
    mov %r8, %r6
    rsh %r8, 7
    xor %r6, %r8
    mov %r8, %r6
    lsh %r8, 17
    xor %r6, %r8
    add %r0, %r6
    mul %r0, 31
    add %r0, %r7
    sub %r7, 1
    jne %r7, 0, loop
    exit
"
    );
    let mut acc = 0u64;
    let mut x = XORSHIFT_SEED;
    for counter in (1..=iterations as u64).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc = acc.wrapping_add(x).wrapping_mul(31).wrapping_add(counter);
    }
    Workload {
        name: "alu",
        asm,
        input: Vec::new(),
        expected: acc,
    }
}

/// Bytes of the memory loop's input.
pub const MEMORY_INPUT_LEN: usize = 4096;

/// Memory-heavy: a Fletcher-style checksum (`a += byte; b += a`) over a
/// 4 KiB input, `passes` times over, with both sums kept in stack slots
/// (so every byte costs one input load plus two stack loads and stores).
pub fn memory(passes: u32) -> Workload {
    let asm = format!(
        "    mov %r3, 0
    stxdw [%r10-8], %r3
    stxdw [%r10-16], %r3
    mov %r9, {passes}
pass:
    mov %r4, %r1
    mov %r5, %r1
    add %r5, {MEMORY_INPUT_LEN}
byte:
    ldxb %r6, [%r4]
    ldxdw %r7, [%r10-8]
    add %r7, %r6
    stxdw [%r10-8], %r7
    ldxdw %r8, [%r10-16]
    add %r8, %r7
    stxdw [%r10-16], %r8
    add %r4, 1
    jlt %r4, %r5, byte
    sub %r9, 1
    jne %r9, 0, pass
    ldxdw %r0, [%r10-16]
    lsh %r0, 32
    ldxdw %r7, [%r10-8]
    xor %r0, %r7
    exit
"
    );
    // Deterministic bytes from a 32-bit LCG (its high byte), so the
    // checksum depends on every position.
    let mut seed = 12_345u32;
    let input: Vec<u8> = (0..MEMORY_INPUT_LEN)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 24) as u8
        })
        .collect();
    let (mut a, mut b) = (0u64, 0u64);
    for _ in 0..passes {
        for &byte in &input {
            a = a.wrapping_add(byte as u64);
            b = b.wrapping_add(a);
        }
    }
    Workload {
        name: "memory",
        asm,
        input,
        expected: (b << 32) ^ a,
    }
}

/// Branch-heavy: the total number of Collatz steps for every start value
/// 1..=`limit` (a data-dependent inner loop with an odd/even branch).
pub fn branchy(limit: u32) -> Workload {
    let asm = format!(
        "    mov %r0, 0
    mov %r6, 1
start:
    mov %r7, %r6
step:
    jeq %r7, 1, next
    add %r0, 1
    jset %r7, 1, odd
    rsh %r7, 1
    ja step
odd:
    mul %r7, 3
    add %r7, 1
    ja step
next:
    add %r6, 1
    jle %r6, {limit}, start
    exit
"
    );
    let mut steps = 0u64;
    for n in 1..=limit as u64 {
        let mut x = n;
        while x != 1 {
            steps += 1;
            x = if x % 2 == 1 { 3 * x + 1 } else { x / 2 };
        }
    }
    Workload {
        name: "branchy",
        asm,
        input: Vec::new(),
        expected: steps,
    }
}

/// Call-heavy: `iterations` bpf2bpf calls of a small function with its own
/// stack slot, `acc = mix(acc, counter)`.
pub fn calls(iterations: u32) -> Workload {
    let asm = format!(
        "    mov %r6, 0
    mov %r7, {iterations}
loop:
    mov %r1, %r6
    mov %r2, %r7
    call local mix
    mov %r6, %r0
    sub %r7, 1
    jne %r7, 0, loop
    mov %r0, %r6
    exit
mix:
    stxdw [%r10-8], %r1
    mov %r0, %r2
    mul %r0, 7
    ldxdw %r3, [%r10-8]
    xor %r0, %r3
    rsh %r3, 3
    add %r0, %r3
    exit
"
    );
    let mix = |acc: u64, counter: u64| (counter.wrapping_mul(7) ^ acc).wrapping_add(acc >> 3);
    let expected = (1..=iterations as u64).rev().fold(0, mix);
    Workload {
        name: "calls",
        asm,
        input: Vec::new(),
        expected,
    }
}
