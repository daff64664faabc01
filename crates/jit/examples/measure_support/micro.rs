//! Part (a): what one bpf2bpf call, helper call or tail call costs under
//! each tail-call counter scheme, from minimal programs run in the
//! emulator and differenced: per loop iteration with the operation minus
//! per loop iteration without it (see [`measure_op`]); for a taken tail
//! call, a program tail-calling itself K times minus the same program not
//! tail-calling, divided by K.
//!
//! The scheme only matters in code that can tail call (the JIT gives a
//! function the count only when the verifier marks it tail-call reachable),
//! so every measured program also contains a tail call (to an empty slot,
//! executed once, outside the loop). The `none` rows are the same programs
//! without that tail call: the scheme-independent price of the operation.

use super::common::emu::{map_addr, world, CTX_BASE};
use super::common::{opts, verified};
use super::run::{measured_run, MeasureError, RunStats};
use super::sections::{function_bytes, insn_bytes, FunctionBytes, Section, SectionMap};
use rvbpf_ebpf::object::MapKind;
use rvbpf_jit::{compile, Image, TccScheme};

/// Iterations of the measured loops.
pub const LOOP_N: u64 = 64;
/// Successful self tail calls measured (within the budget of 33).
pub const TAIL_K: u64 = 32;
/// Map 0: prog array (slot 0 = the program itself where used, slot 1
/// always empty); map 1: array whose first u64 is a counter.
const MAPS: [MapKind; 2] = [MapKind::ProgArray, MapKind::Array];
/// Helper number the helper-call loop calls (the host returns its r2).
const ECHO_HELPER: u32 = 1;
/// A value the callee's tail-call guard compares with; the loop never
/// passes it, so the guarded tail call is reachable but never executed.
const NEVER: u32 = 0x7fff_ffff;

/// The operations measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// bpf2bpf call to a leaf that cannot tail call.
    CallLeaf,
    /// bpf2bpf call to a subprogram that may tail call (a guarded tail call,
    /// never taken: one extra compare per call).
    CallTailCaller,
    /// Helper call (host returns its second argument).
    Helper,
    /// Tail call that fails (empty slot).
    TailCallMiss,
    /// Successful tail call of the program to itself.
    TailCallHit,
}

impl Op {
    pub const ALL: [Op; 5] = [
        Op::CallLeaf,
        Op::CallTailCaller,
        Op::Helper,
        Op::TailCallMiss,
        Op::TailCallHit,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Op::CallLeaf => "bpf2bpf call, leaf callee",
            Op::CallTailCaller => "bpf2bpf call, tail-calling callee",
            Op::Helper => "helper call",
            Op::TailCallMiss => "tail call, empty slot",
            Op::TailCallHit => "tail call, taken (self)",
        }
    }

    /// Can this operation be measured in a program without tail calls?
    pub fn has_scheme_free_baseline(self) -> bool {
        matches!(self, Op::CallLeaf | Op::Helper)
    }
}

/// Which counter code the program gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The program contains no tail call: no counter code at all.
    NoTailCalls,
    Scheme(TccScheme),
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::NoTailCalls,
        Variant::Scheme(TccScheme::Reg),
        Variant::Scheme(TccScheme::Stack),
        Variant::Scheme(TccScheme::Ptr),
    ];

    pub fn name(self) -> String {
        match self {
            Variant::NoTailCalls => "none".to_string(),
            Variant::Scheme(s) => format!("{s:?}").to_lowercase(),
        }
    }

    fn scheme(self) -> TccScheme {
        match self {
            Variant::NoTailCalls => TccScheme::default(),
            Variant::Scheme(s) => s,
        }
    }
}

/// A measured program: its source and the pc of the operation's site.
#[derive(Clone, Debug)]
pub struct Program {
    pub src: String,
    /// BPF pc of the measured operation (`None` in the "without" twin).
    pub site: Option<usize>,
}

/// BPF pc of the first instruction line containing `needle` (labels and
/// blank lines take no slot, `lddw` takes two).
fn pc_of(src: &str, needle: &str) -> Option<usize> {
    let mut pc = 0;
    for line in src.lines().map(str::trim) {
        if line.is_empty() || line.ends_with(':') {
            continue;
        }
        if line.contains(needle) {
            return Some(pc);
        }
        pc += if line.starts_with("lddw") { 2 } else { 1 };
    }
    None
}

/// The loop program for `op` (not `TailCallHit`): r7 counts `n` down,
/// each iteration does `op` with r2 = r7 (or its inline stand-in,
/// `r0 = r2`) and adds r0 to r8; returns r8 = n (n + 1) / 2.
fn loop_program(op: Op, with_op: bool, variant: Variant, n: u64) -> Program {
    let (site, inline) = match op {
        Op::CallLeaf | Op::CallTailCaller => ("call local sub", "mov %r0, %r2"),
        Op::Helper => ("call 1", "mov %r0, %r2"),
        Op::TailCallMiss => (
            "mov %r9, %r2\n lddw %r2, map:0\n mov %r3, 1\n call 12\n mov %r0, %r9",
            "mov %r9, %r2\n lddw %r2, map:0\n mov %r3, 1\n mov %r0, %r9",
        ),
        Op::TailCallHit => unreachable!("measured with self_tail_program"),
    };
    let tail = match variant {
        Variant::NoTailCalls => "",
        Variant::Scheme(_) => "mov %r1, %r6\n lddw %r2, map:0\n mov %r3, 1\n call 12",
    };
    let sub = match op {
        Op::CallLeaf => "sub:\n mov %r0, %r2\n exit".to_string(),
        Op::CallTailCaller => format!(
            "sub:\n mov %r0, %r2\n jne %r2, {NEVER}, out\n lddw %r2, map:0\n mov %r3, 1\n \
             call 12\n mov %r0, 0\nout:\n exit"
        ),
        _ => String::new(),
    };
    let body = if with_op { site } else { inline };
    let sub = if with_op { sub.as_str() } else { "" };
    let src = format!(
        "mov %r6, %r1\n mov %r7, {n}\n mov %r8, 0\nloop:\n mov %r1, %r6\n mov %r2, %r7\n \
         {body}\n add %r8, %r0\n sub %r7, 1\n jne %r7, 0, loop\n {tail}\n mov %r0, %r8\n exit\n{sub}\n"
    );
    let needle = match op {
        Op::TailCallMiss => "call 12",
        _ => site,
    };
    Program {
        site: if with_op { pc_of(&src, needle) } else { None },
        src,
    }
}

/// Decrements the counter in map 1 and tail-calls itself (slot 0) while
/// it is non-zero; returns 7.
fn self_tail_program() -> Program {
    let src = "mov %r6, %r1\n lddw %r7, map_value:1+0\n ldxdw %r3, [%r7+0]\n jeq %r3, 0, out\n \
               sub %r3, 1\n stxdw [%r7+0], %r3\n mov %r1, %r6\n lddw %r2, map:0\n mov %r3, 0\n \
               call 12\nout:\n mov %r0, 7\n exit\n"
        .to_string();
    Program {
        site: pc_of(&src, "call 12"),
        src,
    }
}

/// Expected result of the loop programs (n = LOOP_N): the sum of r7 over
/// the loop, n + (n − 1) + … + 1.
pub const LOOP_RESULT: u64 = LOOP_N * (LOOP_N + 1) / 2;
/// Expected result of the self tail-calling program.
pub const SELF_TAIL_RESULT: u64 = 7;

/// Compiles `p` for `target` (e.g. "rv64gc") under `variant`.
pub fn compile_program(p: &Program, variant: Variant, target: &str) -> Image {
    compile(
        &verified(&p.src, &MAPS, &[]),
        &opts(target, variant.scheme()),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", p.src))
}

/// Runs a compiled program once with the map-1 counter at `counter`
/// (prog-array slot 0 holds the program itself); returns the run and the
/// counter afterwards.
pub fn run_program(
    image: &Image,
    site: Option<usize>,
    counter: u64,
) -> Result<(RunStats, u64), MeasureError> {
    let mut w = world(&[image], MAPS.len() as u32, &[(0, 0, 0)]);
    w.mem
        .write_u64(map_addr(1), counter)
        .expect("map 1 is mapped");
    let sites: Vec<(usize, usize)> = site.map(|pc| (0, pc)).into_iter().collect();
    let sections = SectionMap::new(&[image], &w.entries, &sites);
    let stats = measured_run(&mut w, 0, &[CTX_BASE], &sections, &mut |n, a, _| {
        assert_eq!(n, ECHO_HELPER, "only the echo helper is called");
        a[1]
    })?;
    let after = w.mem.read_u64(map_addr(1)).expect("map 1 is mapped");
    Ok((stats, after))
}

/// Cost of one operation (averages over the loop; exact when divisible).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PerOp {
    pub insns: f64,
    pub loads: f64,
    pub stores: f64,
    pub stack_loads: f64,
    pub stack_stores: f64,
    pub by_section: [f64; Section::COUNT],
}

impl PerOp {
    fn between(with: &RunStats, without: &RunStats, n: u64) -> PerOp {
        let d = |a: u64, b: u64| (a as f64 - b as f64) / n as f64;
        let mut by_section = [0.0; Section::COUNT];
        for (i, s) in by_section.iter_mut().enumerate() {
            *s = d(with.by_section[i], without.by_section[i]);
        }
        PerOp {
            insns: d(with.insns, without.insns),
            loads: d(with.loads, without.loads),
            stores: d(with.stores, without.stores),
            stack_loads: d(with.stack_loads, without.stack_loads),
            stack_stores: d(with.stack_stores, without.stack_stores),
            by_section,
        }
    }

    fn minus(&self, o: &PerOp) -> PerOp {
        let mut by_section = self.by_section;
        for (s, x) in by_section.iter_mut().zip(o.by_section) {
            *s -= x;
        }
        PerOp {
            insns: self.insns - o.insns,
            loads: self.loads - o.loads,
            stores: self.stores - o.stores,
            stack_loads: self.stack_loads - o.stack_loads,
            stack_stores: self.stack_stores - o.stack_stores,
            by_section,
        }
    }
}

/// Static code of the measured program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StaticCost {
    /// Bytes of the operation's own lowering (its BPF instruction).
    pub site_bytes: usize,
    /// Entry function parts.
    pub entry: FunctionBytes,
    /// Callee parts (bpf2bpf cases).
    pub callee: Option<FunctionBytes>,
    /// Whole text.
    pub text_bytes: usize,
}

/// One row of part (a).
#[derive(Clone, Debug)]
pub struct OpMeasurement {
    pub op: Op,
    pub variant: Variant,
    pub per_op: PerOp,
    pub static_cost: StaticCost,
    /// Results of the runs with and without the operation.
    pub results: (u64, u64),
    /// The map-1 counter after the run with the operation (self tail
    /// call: 0 once every planned tail call happened).
    pub counter_after: u64,
    /// Annotated listing of the program with the operation.
    pub listing: String,
}

/// Measures `op` under `variant`.
///
/// Loops: each program runs with `LOOP_N` and `2 LOOP_N` iterations, so
/// `run(2N) − run(N)` is exactly N iterations without any one-time cost
/// (prologue, epilogue, header); the operation costs the difference of
/// the per-iteration costs with and without it. Self tail call: `run(K) −
/// run(0)` is exactly K taken tail calls (both runs leave through the same
/// path; the run with K tail calls re-enters the program K times).
pub fn measure_op(op: Op, variant: Variant, target: &str) -> Result<OpMeasurement, MeasureError> {
    if op == Op::TailCallHit {
        let p = self_tail_program();
        let image = compile_program(&p, variant, target);
        let (a, a_counter) = run_program(&image, p.site, TAIL_K)?;
        let (b, _) = run_program(&image, p.site, 0)?;
        return Ok(OpMeasurement {
            op,
            variant,
            per_op: PerOp::between(&a, &b, TAIL_K),
            static_cost: static_cost(&image, p.site),
            results: (a.result, b.result),
            counter_after: a_counter,
            listing: image.listing(),
        });
    }
    let iteration = |with_op: bool| -> Result<(RunStats, RunStats, Program, Image), MeasureError> {
        let short = loop_program(op, with_op, variant, LOOP_N);
        let long = loop_program(op, with_op, variant, 2 * LOOP_N);
        let short_image = compile_program(&short, variant, target);
        let (s, _) = run_program(&short_image, short.site, 0)?;
        let (l, _) = run_program(&compile_program(&long, variant, target), long.site, 0)?;
        Ok((l, s, short, short_image))
    };
    let (with_long, with_short, with, image) = iteration(true)?;
    let (without_long, without_short, _, _) = iteration(false)?;
    let with_iter = PerOp::between(&with_long, &with_short, LOOP_N);
    let without_iter = PerOp::between(&without_long, &without_short, LOOP_N);
    Ok(OpMeasurement {
        op,
        variant,
        per_op: with_iter.minus(&without_iter),
        static_cost: static_cost(&image, with.site),
        results: (with_short.result, without_short.result),
        counter_after: 0,
        listing: image.listing(),
    })
}

fn static_cost(image: &Image, site: Option<usize>) -> StaticCost {
    StaticCost {
        site_bytes: site.map_or(0, |pc| insn_bytes(image, pc)),
        entry: function_bytes(image, 0),
        callee: (image.functions.len() > 1).then(|| function_bytes(image, 1)),
        text_bytes: image.text_len,
    }
}

/// The result the "with" run of `op` must return (hand-derived above).
pub fn expected_result(op: Op) -> u64 {
    match op {
        Op::TailCallHit => SELF_TAIL_RESULT,
        _ => LOOP_RESULT,
    }
}

/// Every (operation, variant) pair that makes sense, compiled for `target`.
pub fn measure_all(target: &str) -> Result<Vec<OpMeasurement>, MeasureError> {
    let mut out = Vec::new();
    for op in Op::ALL {
        for variant in Variant::ALL {
            if variant == Variant::NoTailCalls && !op.has_scheme_free_baseline() {
                continue;
            }
            out.push(measure_op(op, variant, target)?);
        }
    }
    Ok(out)
}
