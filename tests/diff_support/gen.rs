//! Random valid BPF objects with subprograms, tail calls and helper calls,
//! rendered as assembler text.
//!
//! Validity is by construction rather than by filtering:
//! * every function starts by initialising its data registers (r0, r7, r8,
//!   r9), keeping the ctx pointer in r6 and filling its whole stack frame, so
//!   no later read can see an uninitialised register or stack slot;
//! * r1..r5 are only scratch inside self-contained call sequences (set up,
//!   then the call clobbers them), except r5, the loop counter, whose loop
//!   body never calls;
//! * after `bpf_tail_call` r0 is re-initialised at once (a failed tail call
//!   leaves it engine-specific);
//! * bpf2bpf calls only go to later functions of the same program, so the
//!   call graph is acyclic, at most 3 frames of [`FRAME`] bytes deep, well
//!   under the 256-byte limit for subprograms with tail calls;
//! * loops count r5 up to a small constant, and tail calls are bounded by
//!   the 33-call budget, so every run ends well inside every engine's budget.

use proptest::prelude::*;
use std::fmt::Write;

/// Map indices in every generated object (see `diff_support::build_object`).
pub const MAP_PROG_ARRAY: u32 = 0;
pub const MAP_ARRAY: u32 = 1;
pub const MAP_GLOBALS: u32 = 2;
/// Slots of the prog array; tail-call indices go up to two past it.
pub const PROG_ARRAY_SLOTS: u32 = 4;
/// Entries of the array map (16-byte values); lookup keys go one past it.
pub const ARRAY_ENTRIES: u32 = 4;
pub const ARRAY_VALUE_SIZE: u32 = 16;
/// Bytes of the `.bss`-like global map.
pub const GLOBALS_SIZE: u32 = 64;
/// Bytes of the raw ctx every run gets.
pub const CTX_SIZE: usize = 64;
/// Stack bytes each function uses: 8 data slots, a map key, a map value and
/// a loop counter.
pub const FRAME: i32 = 88;
const DATA_SLOTS: u8 = 8;
const KEY_SLOT: i32 = -72;
const VALUE_SLOT: i32 = -80;
/// Counter of loops whose body calls (r5 would not survive the call).
const LOOP_SLOT: i32 = -88;

/// Registers holding data values (always initialised).
const DATA_REGS: [u8; 4] = [0, 7, 8, 9];
const ALU_OPS: [&str; 11] = [
    "add", "sub", "mul", "div", "mod", "or", "and", "xor", "mov", "lsh", "rsh",
];
const SHIFT_OPS: [&str; 3] = ["lsh", "rsh", "arsh"];
const CONDS: [&str; 11] = [
    "jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset",
];
const SIZES: [(&str, u32); 4] = [("b", 1), ("h", 2), ("w", 4), ("dw", 8)];
const ATOMIC_OPS: [&str; 6] = ["add", "or", "and", "xor", "xchg", "cmpxchg"];

/// One generated operation. Fields are raw random numbers; [`render`]
/// reduces them into range, so every value is valid.
#[derive(Clone, Debug)]
pub enum Op {
    Alu {
        is64: bool,
        op: u8,
        dst: u8,
        src: Option<u8>,
        imm: i32,
    },
    Shift {
        is64: bool,
        op: u8,
        dst: u8,
        amount: u8,
    },
    Neg {
        is64: bool,
        dst: u8,
    },
    /// Shift by a register, masked to the width first (unmasked amounts are
    /// undefined in BPF).
    ShiftReg {
        is64: bool,
        op: u8,
        dst: u8,
        src: u8,
    },
    /// `sdiv`/`smod` (incl. INT_MIN / -1 and division by zero).
    Signed {
        is64: bool,
        rem: bool,
        dst: u8,
        src: Option<u8>,
        imm: i32,
    },
    /// `movsx8/16/32`.
    MovSx {
        is64: bool,
        width: u8,
        dst: u8,
        src: u8,
    },
    /// `le`/`be`/`bswap` 16/32/64.
    Endian {
        kind: u8,
        bits: u8,
        dst: u8,
    },
    LoadImm64 {
        dst: u8,
        imm: u64,
    },
    /// Atomic read-modify-write on a stack slot or a global.
    Atomic {
        global: bool,
        slot: u8,
        op: u8,
        fetch: bool,
        is32: bool,
        src: u8,
    },
    /// Sign-extending load (`ldxs{b,h,w}`) from a stack slot or the ctx.
    SignedLoad {
        ctx: bool,
        off: u8,
        dst: u8,
        size: u8,
    },
    StackStore {
        slot: u8,
        src: u8,
        size: u8,
    },
    StackLoad {
        slot: u8,
        dst: u8,
        size: u8,
    },
    CtxStore {
        off: u8,
        src: u8,
        size: u8,
    },
    CtxLoad {
        off: u8,
        dst: u8,
        size: u8,
    },
    GlobalStore {
        off: u8,
        src: u8,
    },
    GlobalLoad {
        off: u8,
        dst: u8,
    },
    /// `bpf_get_prandom_u32`, `bpf_ktime_get_ns` or `bpf_get_smp_processor_id`.
    Helper {
        which: u8,
    },
    MapLookup {
        key: u8,
        dst: u8,
        src: u8,
        off: u8,
    },
    MapUpdate {
        key: u8,
        src: u8,
    },
    TailCall {
        idx: u8,
    },
    /// bpf2bpf call to a later function (dropped in the last function).
    Call {
        to: u8,
        /// Caller slot whose address is passed in r2.
        slot: u8,
        /// Data register passed in r3.
        arg: u8,
    },
    /// `for r5 in 0..bound { body }` (body: calls are skipped).
    Loop {
        bound: u8,
        body: Vec<Op>,
    },
    /// `for [r10-88] in 0..bound { body }`: the counter lives on the stack,
    /// so the body may call (helpers, bpf2bpf, tail calls).
    CallLoop {
        bound: u8,
        body: Vec<Op>,
    },
    /// `if !(a cond b) { body }` as a forward conditional jump.
    Skip {
        cond: u8,
        is32: bool,
        a: u8,
        b: Option<u8>,
        imm: i32,
        body: Vec<Op>,
    },
}

impl Op {
    /// Whether the op calls anything (not allowed in loop bodies: the call
    /// would clobber the counter r5).
    fn calls(&self) -> bool {
        matches!(
            self,
            Op::Helper { .. }
                | Op::MapLookup { .. }
                | Op::MapUpdate { .. }
                | Op::TailCall { .. }
                | Op::Call { .. }
                | Op::Loop { .. }
                | Op::CallLoop { .. }
                | Op::Skip { .. }
        )
    }
}

/// A whole generated object: programs of functions of ops, plus the
/// prog-array contents and the run input.
#[derive(Clone, Debug)]
pub struct Spec {
    /// `programs[p][f]` = body of function `f` of program `p`; `f = 0` is the entry.
    pub programs: Vec<Vec<Vec<Op>>>,
    /// Prog-array slot contents (program index modulo the program count).
    pub slots: Vec<Option<u8>>,
    pub ctx: Vec<u8>,
    pub seeds: Vec<i32>,
}

fn pure_op() -> impl Strategy<Value = Op> {
    let r = any::<u8>;
    prop_oneof![
        4 => (any::<bool>(), r(), r(), prop::option::of(r()), any::<i32>())
            .prop_map(|(is64, op, dst, src, imm)| Op::Alu { is64, op, dst, src, imm }),
        1 => (any::<bool>(), r(), r(), r())
            .prop_map(|(is64, op, dst, amount)| Op::Shift { is64, op, dst, amount }),
        1 => (any::<bool>(), r()).prop_map(|(is64, dst)| Op::Neg { is64, dst }),
        1 => (any::<bool>(), r(), r(), r())
            .prop_map(|(is64, op, dst, src)| Op::ShiftReg { is64, op, dst, src }),
        1 => (any::<bool>(), any::<bool>(), r(), prop::option::of(r()), signed_imm())
            .prop_map(|(is64, rem, dst, src, imm)| Op::Signed { is64, rem, dst, src, imm }),
        1 => (any::<bool>(), r(), r(), r())
            .prop_map(|(is64, width, dst, src)| Op::MovSx { is64, width, dst, src }),
        1 => (r(), r(), r()).prop_map(|(kind, bits, dst)| Op::Endian { kind, bits, dst }),
        1 => (r(), any::<u64>()).prop_map(|(dst, imm)| Op::LoadImm64 { dst, imm }),
        1 => (any::<bool>(), r(), r(), any::<bool>(), any::<bool>(), r())
            .prop_map(|(global, slot, op, fetch, is32, src)| Op::Atomic { global, slot, op, fetch, is32, src }),
        1 => (any::<bool>(), r(), r(), r())
            .prop_map(|(ctx, off, dst, size)| Op::SignedLoad { ctx, off, dst, size }),
        1 => (r(), r(), r()).prop_map(|(slot, src, size)| Op::StackStore { slot, src, size }),
        1 => (r(), r(), r()).prop_map(|(slot, dst, size)| Op::StackLoad { slot, dst, size }),
        1 => (r(), r(), r()).prop_map(|(off, src, size)| Op::CtxStore { off, src, size }),
        1 => (r(), r(), r()).prop_map(|(off, dst, size)| Op::CtxLoad { off, dst, size }),
        1 => (r(), r()).prop_map(|(off, src)| Op::GlobalStore { off, src }),
        1 => (r(), r()).prop_map(|(off, dst)| Op::GlobalLoad { off, dst }),
    ]
}

/// Immediates biased towards the interesting divisors.
fn signed_imm() -> impl Strategy<Value = i32> {
    prop_oneof![Just(0), Just(-1), Just(1), Just(i32::MIN), any::<i32>()]
}

fn call_op() -> impl Strategy<Value = Op> {
    let r = any::<u8>;
    prop_oneof![
        2 => r().prop_map(|which| Op::Helper { which }),
        1 => (r(), r(), r(), r()).prop_map(|(key, dst, src, off)| Op::MapLookup { key, dst, src, off }),
        1 => (r(), r()).prop_map(|(key, src)| Op::MapUpdate { key, src }),
        2 => r().prop_map(|idx| Op::TailCall { idx }),
        2 => (r(), r(), r()).prop_map(|(to, slot, arg)| Op::Call { to, slot, arg }),
    ]
}

fn leaf_op() -> impl Strategy<Value = Op> {
    prop_oneof![3 => pure_op(), 2 => call_op()]
}

fn op() -> impl Strategy<Value = Op> {
    let r = any::<u8>;
    prop_oneof![
        8 => leaf_op(),
        1 => (r(), prop::collection::vec(pure_op(), 1..5))
            .prop_map(|(bound, body)| Op::Loop { bound, body }),
        1 => (r(), prop::collection::vec(leaf_op(), 1..4))
            .prop_map(|(bound, body)| Op::CallLoop { bound, body }),
        1 => (r(), any::<bool>(), r(), prop::option::of(r()), any::<i32>(),
              prop::collection::vec(leaf_op(), 1..4))
            .prop_map(|(cond, is32, a, b, imm, body)| Op::Skip { cond, is32, a, b, imm, body }),
    ]
}

/// Strategy for a whole [`Spec`]: 1–3 programs of 1–3 functions each.
pub fn spec() -> impl Strategy<Value = Spec> {
    let function = prop::collection::vec(op(), 1..12);
    let program = prop::collection::vec(function, 1..=3);
    (
        prop::collection::vec(program, 1..=3),
        prop::collection::vec(prop::option::of(any::<u8>()), PROG_ARRAY_SLOTS as usize),
        prop::collection::vec(any::<u8>(), CTX_SIZE),
        prop::collection::vec(any::<i32>(), 4),
    )
        .prop_map(|(programs, slots, ctx, seeds)| Spec {
            programs,
            slots,
            ctx,
            seeds,
        })
}

/// Label of function `f` of program `p` (also the program name for `f = 0`).
pub fn func_name(p: usize, f: usize) -> String {
    if f == 0 {
        format!("prog{p}")
    } else {
        format!("prog{p}_sub{f}")
    }
}

fn data(r: u8) -> u8 {
    DATA_REGS[r as usize % DATA_REGS.len()]
}

/// Renders one program (entry function plus subprograms) as assembler text.
pub fn render_program(spec: &Spec, p: usize) -> String {
    let funcs = &spec.programs[p];
    let mut r = Renderer {
        out: String::new(),
        labels: 0,
        p,
        funcs: funcs.len(),
    };
    for (f, body) in funcs.iter().enumerate() {
        if f > 0 {
            writeln!(r.out, "{}:", func_name(p, f)).unwrap();
        }
        r.prologue(spec, f);
        for op in body {
            r.op(op, f);
        }
        r.out.push_str("exit\n");
    }
    r.out
}

struct Renderer {
    out: String,
    labels: usize,
    p: usize,
    funcs: usize,
}

impl Renderer {
    fn line(&mut self, s: impl AsRef<str>) {
        self.out.push_str(s.as_ref());
        self.out.push('\n');
    }

    fn label(&mut self) -> String {
        self.labels += 1;
        format!("p{}_l{}", self.p, self.labels)
    }

    /// Keeps the ctx in r6, initialises every data register and the whole frame.
    fn prologue(&mut self, spec: &Spec, f: usize) {
        self.line("mov %r6, %r1");
        for (i, &reg) in DATA_REGS.iter().enumerate() {
            let seed = spec.seeds[i].wrapping_add((f * 7 + self.p * 13) as i32);
            self.line(format!("mov %r{reg}, {seed}"));
        }
        for slot in 1..=(FRAME / 8) {
            self.line(format!("stdw [%r10-{}], {}", slot * 8, slot));
        }
        if f > 0 {
            // Subprograms get r2 = a pointer into the caller's frame and
            // r3 = a caller value (see `Op::Call`): read and write through
            // the pointer, so frame layouts must agree on what it reaches.
            self.line("ldxdw %r9, [%r2+0]");
            self.line("add %r7, %r3");
            self.line("stxdw [%r2+0], %r8");
        }
    }

    fn op(&mut self, op: &Op, f: usize) {
        match *op {
            Op::Alu {
                is64,
                op,
                dst,
                src,
                imm,
            } => {
                let name = ALU_OPS[op as usize % ALU_OPS.len()];
                let sfx = if is64 { "" } else { "32" };
                let src = match src {
                    Some(s) => format!("%r{}", data(s)),
                    None => imm.to_string(),
                };
                self.line(format!("{name}{sfx} %r{}, {src}", data(dst)));
            }
            Op::Shift {
                is64,
                op,
                dst,
                amount,
            } => {
                let name = SHIFT_OPS[op as usize % SHIFT_OPS.len()];
                let (sfx, bits) = if is64 { ("", 64) } else { ("32", 32) };
                self.line(format!("{name}{sfx} %r{}, {}", data(dst), amount % bits));
            }
            Op::Neg { is64, dst } => {
                let sfx = if is64 { "" } else { "32" };
                self.line(format!("neg{sfx} %r{}", data(dst)));
            }
            Op::ShiftReg { is64, op, dst, src } => {
                let name = SHIFT_OPS[op as usize % SHIFT_OPS.len()];
                let (sfx, mask) = if is64 { ("", 63) } else { ("32", 31) };
                self.line(format!("mov %r1, %r{}", data(src)));
                self.line(format!("and %r1, {mask}"));
                self.line(format!("{name}{sfx} %r{}, %r1", data(dst)));
            }
            Op::Signed {
                is64,
                rem,
                dst,
                src,
                imm,
            } => {
                let name = if rem { "smod" } else { "sdiv" };
                let sfx = if is64 { "" } else { "32" };
                let src = match src {
                    Some(s) => format!("%r{}", data(s)),
                    None => imm.to_string(),
                };
                self.line(format!("{name}{sfx} %r{}, {src}", data(dst)));
            }
            Op::MovSx {
                is64,
                width,
                dst,
                src,
            } => {
                let width = if is64 {
                    [8, 16, 32][width as usize % 3]
                } else {
                    [8, 16][width as usize % 2]
                };
                let sfx = if is64 { "64" } else { "32" };
                self.line(format!(
                    "movsx{width}{sfx} %r{}, %r{}",
                    data(dst),
                    data(src)
                ));
            }
            Op::Endian { kind, bits, dst } => {
                let kind = ["le", "be", "bswap"][kind as usize % 3];
                let bits = [16, 32, 64][bits as usize % 3];
                self.line(format!("{kind}{bits} %r{}", data(dst)));
            }
            Op::LoadImm64 { dst, imm } => {
                self.line(format!("lddw %r{}, {imm:#x}", data(dst)));
            }
            Op::Atomic {
                global,
                slot,
                op,
                fetch,
                is32,
                src,
            } => {
                let name = ATOMIC_OPS[op as usize % ATOMIC_OPS.len()];
                let fetch = if fetch { "fetch " } else { "" };
                let sfx = if is32 { "32" } else { "" };
                let mem = if global {
                    self.line(format!("lddw %r1, map_value:{MAP_GLOBALS}+0"));
                    format!("[%r1+{}]", 8 * (slot as u32 % (GLOBALS_SIZE / 8)))
                } else {
                    format!("[%r10-{}]", 8 * (1 + slot % DATA_SLOTS) as i32)
                };
                self.line(format!("lock {fetch}{name}{sfx} {mem}, %r{}", data(src)));
            }
            Op::SignedLoad {
                ctx,
                off,
                dst,
                size,
            } => {
                let (sz, n) = SIZES[size as usize % 3];
                let mem = if ctx {
                    format!("[%r6+{}]", (off as u32 % (CTX_SIZE as u32 / n)) * n)
                } else {
                    format!("[%r10-{}]", 8 * (1 + off % DATA_SLOTS) as i32)
                };
                self.line(format!("ldxs{sz} %r{}, {mem}", data(dst)));
            }
            Op::StackStore { slot, src, size } => {
                let (sz, _) = SIZES[size as usize % 4];
                let off = 8 * (1 + slot % DATA_SLOTS) as i32;
                self.line(format!("stx{sz} [%r10-{off}], %r{}", data(src)));
            }
            Op::StackLoad { slot, dst, size } => {
                let (sz, _) = SIZES[size as usize % 4];
                let off = 8 * (1 + slot % DATA_SLOTS) as i32;
                self.line(format!("ldx{sz} %r{}, [%r10-{off}]", data(dst)));
            }
            Op::CtxStore { off, src, size } => {
                let (sz, n) = SIZES[size as usize % 4];
                let off = (off as u32 % (CTX_SIZE as u32 / n)) * n;
                self.line(format!("stx{sz} [%r6+{off}], %r{}", data(src)));
            }
            Op::CtxLoad { off, dst, size } => {
                let (sz, n) = SIZES[size as usize % 4];
                let off = (off as u32 % (CTX_SIZE as u32 / n)) * n;
                self.line(format!("ldx{sz} %r{}, [%r6+{off}]", data(dst)));
            }
            Op::GlobalStore { off, src } => {
                let off = 8 * (off as u32 % (GLOBALS_SIZE / 8));
                self.line(format!("lddw %r1, map_value:{MAP_GLOBALS}+0"));
                self.line(format!("stxdw [%r1+{off}], %r{}", data(src)));
            }
            Op::GlobalLoad { off, dst } => {
                let off = 8 * (off as u32 % (GLOBALS_SIZE / 8));
                self.line(format!("lddw %r1, map_value:{MAP_GLOBALS}+0"));
                self.line(format!("ldxdw %r{}, [%r1+{off}]", data(dst)));
            }
            Op::Helper { which } => {
                let id = [7, 5, 8][which as usize % 3];
                self.line(format!("call {id}"));
            }
            Op::MapLookup { key, dst, src, off } => {
                // Keys one past the end make the lookup return NULL.
                let key = key as u32 % (ARRAY_ENTRIES + 1);
                let off = 8 * (off as u32 % (ARRAY_VALUE_SIZE / 8));
                let skip = self.label();
                self.line(format!("stw [%r10{KEY_SLOT}], {key}"));
                self.line(format!("lddw %r1, map:{MAP_ARRAY}"));
                self.line("mov %r2, %r10");
                self.line(format!("add %r2, {KEY_SLOT}"));
                self.line("call 1");
                // The value is read into r1 first: `dst` may be r0 itself.
                self.line(format!("jeq %r0, 0, {skip}"));
                let (dst, src) = (data(dst), data(src));
                let src = if src == 0 { 7 } else { src };
                self.line(format!("stxdw [%r0+{off}], %r{src}"));
                self.line(format!("ldxdw %r1, [%r0+{}]", (off + 8) % ARRAY_VALUE_SIZE));
                self.line(format!("mov %r{dst}, %r1"));
                self.line(format!("{skip}:"));
                // r0 may still be the value pointer: make it a plain number.
                self.line("mov %r0, 3");
            }
            Op::MapUpdate { key, src } => {
                let key = key as u32 % (ARRAY_ENTRIES + 1);
                self.line(format!("stw [%r10{KEY_SLOT}], {key}"));
                self.line(format!("stxdw [%r10{VALUE_SLOT}], %r{}", data(src)));
                self.line(format!("stxdw [%r10{}], %r{}", VALUE_SLOT + 8, data(src)));
                self.line(format!("lddw %r1, map:{MAP_ARRAY}"));
                self.line("mov %r2, %r10");
                self.line(format!("add %r2, {KEY_SLOT}"));
                self.line("mov %r3, %r10");
                self.line(format!("add %r3, {VALUE_SLOT}"));
                self.line("mov %r4, 0");
                self.line("call 2");
            }
            Op::TailCall { idx } => {
                // Indices past the slots are out of range; slots may be empty.
                let idx = idx as u32 % (PROG_ARRAY_SLOTS + 2);
                self.line("mov %r1, %r6");
                self.line(format!("lddw %r2, map:{MAP_PROG_ARRAY}"));
                self.line(format!("mov %r3, {idx}"));
                self.line("call 12");
                // A failed tail call leaves r0 unspecified.
                self.line(format!("mov %r0, {}", 100 + idx));
            }
            Op::Call { to, slot, arg } => {
                let later = self.funcs - f - 1;
                if later > 0 {
                    let target = f + 1 + to as usize % later;
                    self.line("mov %r1, %r6");
                    self.line("mov %r2, %r10");
                    self.line(format!("add %r2, -{}", 8 * (1 + slot % DATA_SLOTS) as i32));
                    self.line(format!("mov %r3, %r{}", data(arg)));
                    self.line(format!("call local {}", func_name(self.p, target)));
                }
            }
            Op::Loop { bound, ref body } => {
                let head = self.label();
                self.line("mov %r5, 0");
                self.line(format!("{head}:"));
                for op in body.iter().filter(|o| !o.calls()) {
                    self.op(op, f);
                }
                self.line("add %r5, 1");
                self.line(format!("jlt %r5, {}, {head}", 1 + bound % 4));
            }
            Op::CallLoop { bound, ref body } => {
                let head = self.label();
                self.line(format!("stdw [%r10{LOOP_SLOT}], 0"));
                self.line(format!("{head}:"));
                for op in body {
                    self.op(op, f);
                }
                self.line(format!("ldxdw %r1, [%r10{LOOP_SLOT}]"));
                self.line("add %r1, 1");
                self.line(format!("stxdw [%r10{LOOP_SLOT}], %r1"));
                self.line(format!("jlt %r1, {}, {head}", 1 + bound % 3));
            }
            Op::Skip {
                cond,
                is32,
                a,
                b,
                imm,
                ref body,
            } => {
                let end = self.label();
                let name = CONDS[cond as usize % CONDS.len()];
                let sfx = if is32 { "32" } else { "" };
                let b = match b {
                    Some(b) => format!("%r{}", data(b)),
                    None => imm.to_string(),
                };
                self.line(format!("{name}{sfx} %r{}, {b}, {end}", data(a)));
                for op in body {
                    self.op(op, f);
                }
                self.line(format!("{end}:"));
            }
        }
    }
}
