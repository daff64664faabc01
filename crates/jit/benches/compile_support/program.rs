//! The generated program every JIT compiles: a deterministic, realistic mix
//! of BPF instructions in the assembler syntax of `rvbpf_ebpf::asm`.
//!
//! # The mix
//!
//! Per ~100 generated items, roughly: 45 ALU64 (imm and reg, shifts with
//! immediates, a multiply), 20 ALU32 (imm and reg), 20 stack loads/stores
//! (`ldx`/`stx`/`st` of every width at static `r10` offsets), 12 conditional
//! forward jumps (jmp and jmp32, imm and reg) whose distances are drawn from
//! three bands — short (1..8 items), medium (16..200) and long (1,200..6,000,
//! beyond the ±4 KiB reach of a RISC-V conditional branch, so the RV64 JIT
//! must relax them) — 3 `lddw`s and, in the entry function, a
//! `call local` to one of four small subprograms every ~500 instructions.
//!
//! # The common dialect
//!
//! The same bytes are fed to rvbpf, rbpf and solana-sbpf (SBPF v3); they are
//! only compiled, never run, so semantic differences between the engines
//! (SBPF sign-extends 32-bit ALU results) do not matter, but every engine's
//! loader/verifier must accept them:
//!
//! * no division or modulo (SBPF rejects a zero immediate divisor, and the
//!   engines would compile very different fault paths);
//! * shift immediates below the operand width (SBPF's verifier checks);
//! * no helpers or kfuncs (none are registered on the other engines);
//! * stack offsets within 128 bytes of `r10` (rbpf gives a bpf2bpf callee a
//!   256-byte frame; rvbpf's verifier bounds a call chain's stack);
//! * bpf2bpf calls are `call local` (pc-relative), which rbpf and SBPF v3
//!   decode like eBPF;
//! * every register is written before it is read (rvbpf's verifier): each
//!   function starts by setting r0..r9, and r1..r5 are set again after each
//!   call.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Number of subprograms the entry function calls.
const SUBPROGRAMS: usize = 4;
/// Items per subprogram body.
const SUBPROGRAM_ITEMS: usize = 150;
/// One `call local` per this many items of the entry function.
const CALL_EVERY: usize = 500;

/// A generated program: assembler text plus how many instruction slots the
/// text assembles to (`lddw` counts twice).
pub struct Generated {
    /// Assembler source (`rvbpf_ebpf::asm` syntax).
    pub asm: String,
    /// Instruction slots (8-byte units) the source assembles to.
    pub slots: usize,
}

/// Generates a program of about `slots` instruction slots from `seed`
/// (the same arguments always give the same program).
pub fn generate(slots: usize, seed: u64) -> Generated {
    let mut gen = Generator {
        rng: XorShift(seed | 1),
        out: String::new(),
        slots: 0,
    };
    // Subprograms are small; the entry function gets the rest of the budget.
    let sub_items = if slots >= 4 * CALL_EVERY {
        SUBPROGRAM_ITEMS
    } else {
        0
    };
    let sub_total = if sub_items > 0 {
        SUBPROGRAMS * (sub_items + 11)
    } else {
        0
    };
    let main_slots = slots.saturating_sub(sub_total);
    gen.function("main", main_slots, sub_items > 0);
    if sub_items > 0 {
        for i in 0..SUBPROGRAMS {
            gen.function(&format!("sub{i}"), sub_items + 11, false);
        }
    }
    Generated {
        asm: gen.out,
        slots: gen.slots,
    }
}

/// A tiny deterministic PRNG (xorshift64): reproducible without a crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform-ish in `lo..hi` (modulo bias is irrelevant here).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }
}

struct Generator {
    rng: XorShift,
    out: String,
    slots: usize,
}

const ALU_OPS: &[&str] = &[
    "add", "sub", "mul", "or", "and", "xor", "mov", "add", "mov", "xor",
];
const SHIFT_OPS: &[&str] = &["lsh", "rsh", "arsh"];
const CONDS: &[&str] = &[
    "jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset",
];
const SIZES: &[(&str, u64)] = &[("b", 1), ("h", 2), ("w", 4), ("dw", 8)];

impl Generator {
    fn line(&mut self, text: std::fmt::Arguments<'_>) {
        self.out.write_fmt(text).unwrap();
        self.out.push('\n');
        self.slots += 1;
    }

    /// A writable register (r0..r9), avoiding nothing: all are live.
    fn reg(&mut self) -> u64 {
        self.rng.range(0, 10)
    }

    /// One function of about `budget` slots: a label, register set-up,
    /// generated items, every pending jump label, `exit`.
    fn function(&mut self, name: &str, budget: usize, calls: bool) {
        let end = self.slots + budget.max(12) - 1; // the exit's slot
        writeln!(self.out, "{name}:").unwrap();
        for r in 0..10 {
            let v = self.rng.range(0, 1000);
            self.line(format_args!("    mov %r{r}, {v}"));
        }
        // Jump targets by item index; a label is placed before the item.
        let mut pending: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut next_label = 0usize;
        // Jump distances count items; past the last item a label goes
        // before the exit. `items` is an upper bound for clamping targets.
        let items = budget;
        let mut item = 0;
        while self.slots + 2 <= end {
            item += 1;
            if let Some(labels) = pending.remove(&item) {
                for l in labels {
                    writeln!(self.out, "{l}:").unwrap();
                }
            }
            if calls && item % CALL_EVERY == CALL_EVERY / 2 {
                let callee = (item / CALL_EVERY) % SUBPROGRAMS;
                self.line(format_args!("    call local sub{callee}"));
                for r in 1..=5 {
                    self.line(format_args!("    mov %r{r}, %r{}", 6 + r % 4));
                }
                continue;
            }
            let kind = self.rng.range(0, 100);
            match kind {
                0..=34 => self.alu(false),
                35..=54 => self.alu(true),
                55..=74 => self.memory(),
                75..=86 => {
                    let distance = match self.rng.range(0, 10) {
                        0..=5 => self.rng.range(1, 8),
                        6..=8 => self.rng.range(16, 200),
                        _ => self.rng.range(1_200, 6_000),
                    } as usize;
                    let target = (item + 1 + distance).min(items);
                    let label = format!("{name}_L{next_label}");
                    next_label += 1;
                    self.jump(&label);
                    pending.entry(target).or_default().push(label);
                }
                87..=89 => {
                    let dst = self.reg();
                    let v = self.rng.next();
                    self.line(format_args!("    lddw %r{dst}, {v:#x}"));
                    self.slots += 1;
                }
                _ => self.alu(false),
            }
        }
        for (_, labels) in pending {
            for l in labels {
                writeln!(self.out, "{l}:").unwrap();
            }
        }
        self.line(format_args!("    exit"));
    }

    /// An ALU or compare immediate: three in four are small (a RISC-V
    /// 12-bit immediate holds them), the rest any 32-bit value (masks,
    /// magic numbers) that needs `lui`+`addi` or a hoisted register.
    fn imm(&mut self) -> i64 {
        if self.rng.range(0, 4) == 0 {
            self.rng.next() as i32 as i64
        } else {
            self.rng.range(0, 4096) as i64 - 2048
        }
    }

    fn alu(&mut self, is32: bool) {
        let suffix = if is32 { "32" } else { "" };
        let dst = self.reg();
        if self.rng.range(0, 5) == 0 {
            let op = self.rng.pick(SHIFT_OPS);
            let width = if is32 { 32 } else { 64 };
            let amount = self.rng.range(1, width);
            self.line(format_args!("    {op}{suffix} %r{dst}, {amount}"));
        } else if self.rng.range(0, 2) == 0 {
            let op = self.rng.pick(ALU_OPS);
            let imm = self.imm();
            self.line(format_args!("    {op}{suffix} %r{dst}, {imm}"));
        } else {
            let op = self.rng.pick(ALU_OPS);
            let src = self.reg();
            self.line(format_args!("    {op}{suffix} %r{dst}, %r{src}"));
        }
    }

    fn memory(&mut self) {
        let (size, bytes) = SIZES[self.rng.range(0, SIZES.len() as u64) as usize];
        // Naturally aligned, inside [r10-128, r10).
        let off = bytes * self.rng.range(1, 128 / bytes + 1);
        let reg = self.reg();
        match self.rng.range(0, 5) {
            0 => {
                let imm = self.rng.range(0, 256);
                self.line(format_args!("    st{size} [%r10-{off}], {imm}"));
            }
            1 | 2 => self.line(format_args!("    stx{size} [%r10-{off}], %r{reg}")),
            // A load of a slot never stored on this path is still fine for
            // the verifier (it does not track stack initialisation).
            _ => self.line(format_args!("    ldx{size} %r{reg}, [%r10-{off}]")),
        }
    }

    fn jump(&mut self, label: &str) {
        let cond = self.rng.pick(CONDS);
        let suffix = if self.rng.range(0, 4) == 0 { "32" } else { "" };
        let dst = self.reg();
        if self.rng.range(0, 2) == 0 {
            let imm = self.imm();
            self.line(format_args!("    {cond}{suffix} %r{dst}, {imm}, {label}"));
        } else {
            let src = self.reg();
            self.line(format_args!("    {cond}{suffix} %r{dst}, %r{src}, {label}"));
        }
    }
}
