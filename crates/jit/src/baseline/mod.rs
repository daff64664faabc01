//! The baseline (fast-compile) tier: [`compile_baseline`].
//!
//! A second, simple compiler for when compile time matters more than code
//! quality (large programs, code run once). It produces an [`Image`] with
//! every convention of the optimizing JIT (crate docs): the same register
//! map, 12-byte function header and [`TAIL_CALL_ENTRY_OFFSET`], frame
//! layout, literal pool and relocation kinds, prog-array view, tail-call
//! sequence (`TccScheme::Reg`), bpf2bpf calls as `jal ra, callee+12`
//! (found by `trampoline::local_call_sites`), and pc map / [`Image::pc_at`]
//! semantics, so an engine runs its images unchanged.
//!
//! # Design: templates straight to words, one opcode batch at a time
//!
//! * Every BPF instruction becomes a fixed template of 32-bit RV64 words
//!   (`enc.rs`: bit-level encoders, no typed `rvbpf_rv64::Inst`). No
//!   analyses: no liveness (every ALU32 result is zero-extended), no
//!   constant hoisting, no jump threading, no fusion, no compression (RVC
//!   targets get uncompressed code). Zba `zext.w` and Zbb `rev8`/`zext.h`
//!   are used when the target has them.
//! * A function's instructions are lowered grouped by opcode byte into a
//!   stage, then copied to the text in program order (`stage.rs` says
//!   why: per-instruction dispatch in program order was mostly
//!   mispredictions). The common forms take a hot path specialised per
//!   opcode that reads the raw encoding (`fast.rs`); the rest take the
//!   typed general lowering (`lower.rs`), which is complete on its own and
//!   which the hot path must match word for word (a unit test sweeps both).
//! * The frame is `FrameLayout::plan` of the verifier's facts alone
//!   (registers read/written, `stack_depth`, `makes_calls`, tail-call
//!   reachability), without hoisted constants.
//! * Branches: no position is known while a function is lowered, so every
//!   jump's form is a guess: a conditional jump over fewer than
//!   [`SHORT_REACH`] BPF instructions (either way) gets `b<cc>` (±4 KiB),
//!   a longer one `b<!cc> +8; jal` (±1 MiB); `ja` and `exit` use `jal`.
//!   Offsets are patched once the function is in the text (`fixup.rs`); a
//!   guess that does not reach marks that one jump for the next longer form
//!   (`b<!cc> +12; auipc t3; jalr`) and the function is emitted again:
//!   linear per attempt, and each attempt only grows forms.
//! * Literal-pool loads, bpf2bpf calls and function addresses are patched
//!   after the last function.
//!
//! # Cost (measured 2026-11-25, `examples/compile_speed.rs`, CPU time)
//!
//! On the generated 100k-instruction program: about 7.2 ns per BPF
//! instruction (also in `cargo bench -p rvbpf-jit --bench compile`). Lowering in program order with a dispatch on the typed
//! instruction took 15.5; the batches brought it to 10.6, windows that
//! stay in L1, a cursor-based stage and `Spans::Tiled` to 7.2. (The
//! optimizing tier takes ~70, solana-sbpf's x86-64 JIT ~23.) Code is 1.3x
//! the optimizing rv64gc size; on the C kernels
//! (`examples/measure_kernels.rs --baseline`) it retires 2.5x the RV64
//! instructions.
//!
//! # Not supported (typed [`JitError::Unsupported`]; callers fall back to
//! [`crate::compile`])
//!
//! * tail-call schemes other than [`TccScheme::Reg`](crate::TccScheme::Reg);
//! * [`Sandbox::Masked`](crate::Sandbox::Masked);
//! * legacy packet loads (`ldabs`/`ldind`);
//! * a bpf2bpf call whose callee lies more than ±1 MiB away (an image that
//!   large).
//!
//! Frames larger than the optimizing JIT allows are rejected the same way
//! ([`JitError::FrameTooLarge`]).

mod enc;
mod fast;
mod fixup;
mod lower;
mod stage;

use crate::frame::FrameLayout;
use crate::image::{FunctionTiles, PoolEntry, Reloc, Span, Spans};
use crate::{FunctionEntry, Image, JitError, JitOptions, Sandbox, TccScheme};
use crate::{MAX_TAIL_CALL_CNT, TAIL_CALL_ENTRY_OFFSET};
use enc::*;
use fixup::{Far, GlobalFix, LocalFix};
use rvbpf_ebpf::verifier::{FunctionFacts, VerifiedProgram};
use std::collections::HashMap;

/// Conditional jumps over fewer BPF instructions than this (either way)
/// start as a single `b<cc>`: at up to 16 bytes per instruction they fit
/// its ±4 KiB. (Longer templates exist; a wrong guess costs a re-emission.)
pub const SHORT_REACH: i64 = 128;

/// Compiles `prog` with the baseline tier (see the module docs): fast to
/// compile, slower code, same [`Image`] conventions as [`crate::compile`].
///
/// ```
/// use rvbpf_ebpf::{asm::assemble_object, verifier::{verify, VerifyEnv}};
/// use rvbpf_jit::{compile_baseline, JitOptions};
///
/// let obj = assemble_object("doc", "mov %r0, 42\nexit").unwrap();
/// let env = VerifyEnv { helper_known: &|_| true, kfunc_known: &|_| true, entry_args: 1 };
/// let prog = verify(&obj, 0, &env).unwrap();
/// let image = compile_baseline(&prog, &JitOptions::default()).unwrap();
/// assert!(image.listing().contains("li a5, 42"));
/// ```
pub fn compile_baseline(prog: &VerifiedProgram, opts: &JitOptions) -> Result<Image, JitError> {
    if opts.tcc != TccScheme::Reg {
        return Err(unsupported(0, "a tail-call scheme other than `reg`"));
    }
    if opts.sandbox != Sandbox::None {
        return Err(unsupported(0, "address masking (Sandbox::Masked)"));
    }
    let mut e = Emitter::new(prog, opts);
    check_functions(e.functions, e.insts.len())?;
    for i in 0..e.functions.len() {
        e.function(i)?;
    }
    e.finish()
}

fn unsupported(pc: usize, what: &'static str) -> JitError {
    JitError::Unsupported { pc, what }
}

/// Functions must tile the program in order, entry first at pc 0.
fn check_functions(functions: &[FunctionFacts], len: usize) -> Result<(), JitError> {
    let mut expect = 0;
    for f in functions {
        if f.start != expect || f.end <= f.start || f.end > len {
            return Err(JitError::InvalidInput {
                pc: f.start,
                why: format!("function `{}` does not tile the program", f.name),
            });
        }
        expect = f.end;
    }
    if expect != len || functions.is_empty() {
        return Err(JitError::InvalidInput {
            pc: expect,
            why: "functions do not cover the program".into(),
        });
    }
    Ok(())
}

/// The state of one compilation.
pub(crate) struct Emitter<'a> {
    prog: &'a VerifiedProgram,
    insts: &'a [rvbpf_ebpf::inst::Inst],
    /// The same instructions raw (the hot path decodes these).
    raw: &'a [rvbpf_ebpf::insn::Insn],
    functions: &'a [FunctionFacts],
    target: rvbpf_rv64::Target,
    zba: bool,
    zbb: bool,
    /// The stage: the current function's words in emission order (header
    /// and prologue, then the instructions by opcode batch, then the
    /// epilogue), one entry per 4-byte instruction. Fix-ups recorded while
    /// emitting point into it.
    words: stage::Stage,
    /// Per pc of the current window: where its words lie in the stage
    /// (start, length).
    staged: Vec<(u32, u32)>,
    /// The current window's pcs sorted by opcode byte.
    order: Vec<u32>,
    /// The text of every function emitted so far, in program order.
    text: Vec<u32>,
    /// Text word index of each pc's first instruction.
    pc_map: Vec<u32>,
    /// Text word index of each function's header.
    func_at: Vec<u32>,
    frame_sizes: Vec<usize>,
    /// Per function, in text words: its header, prologue and epilogue (the
    /// instructions' spans follow from `pc_map` at the end).
    spans: Vec<Span>,
    pool: Vec<PoolEntry>,
    pool_slots: HashMap<PoolEntry, u32>,
    /// Jumps inside the current function, patched when it is complete.
    local: Vec<LocalFix>,
    /// Pool loads, calls, function addresses: patched at the end.
    global: Vec<GlobalFix>,
    program_has_tail_calls: bool,
    // The current function.
    func: usize,
    /// Its first pc.
    start: usize,
    /// The first pc of the window being lowered (`stage.rs`).
    window: usize,
    frame: FrameLayout,
    /// Per pc of the function: the least form (`Far`) of its jump after a
    /// guess failed; empty until one does.
    force: Vec<Far>,
}

impl<'a> Emitter<'a> {
    fn new(prog: &'a VerifiedProgram, opts: &JitOptions) -> Emitter<'a> {
        let insts = prog.insts();
        let functions = prog.functions();
        Emitter {
            prog,
            insts,
            raw: prog.insns(),
            functions,
            target: opts.target,
            zba: opts.target.zba,
            zbb: opts.target.zbb,
            words: stage::Stage::default(),
            staged: Vec::new(),
            order: Vec::new(),
            // ~1.7 words per instruction is typical; the vector grows if not.
            text: Vec::with_capacity(insts.len() * 2 + 64),
            pc_map: vec![0; insts.len()],
            func_at: Vec::with_capacity(functions.len()),
            frame_sizes: Vec::with_capacity(functions.len()),
            spans: Vec::with_capacity(3 * functions.len()),
            pool: Vec::new(),
            pool_slots: HashMap::new(),
            local: Vec::new(),
            global: Vec::new(),
            program_has_tail_calls: functions.iter().any(|f| f.has_tail_call),
            func: 0,
            start: 0,
            window: 0,
            frame: FrameLayout {
                saved: Vec::new(),
                size: 0,
                bpf_stack: 0,
                sets_r10: false,
                tcc: crate::frame::TccPlan {
                    scheme: TccScheme::Reg,
                    needed: false,
                    uses_saved_reg: false,
                    slot: None,
                    home: None,
                    init_fresh: false,
                    resident: false,
                },
            },
            force: Vec::new(),
        }
    }

    #[inline(always)]
    fn put(&mut self, word: u32) {
        self.words.push(word);
    }

    /// Current position in words.
    #[inline(always)]
    fn here(&self) -> u32 {
        self.words.len() as u32
    }

    /// The 12-byte header (patch site, count initialisation) and the
    /// prologue.
    fn header_and_prologue(&mut self) {
        self.put(NOP);
        self.put(NOP);
        self.put(addi(A6, ZERO, MAX_TAIL_CALL_CNT));
        let size = self.frame.size;
        if size > 0 {
            self.put(addi(SP, SP, -size));
        }
        for k in 0..self.frame.saved.len() {
            let (r, off) = self.frame.saved[k];
            self.put(sd(r.index() as u32, SP, off));
        }
        if self.frame.sets_r10 {
            self.put(addi(S5, SP, self.frame.bpf_stack));
        }
        if self.frame.tcc.resident {
            self.put(mv(S6, A6));
        }
    }

    /// Restores the saved registers and pops the frame.
    fn restore(&mut self) {
        for k in 0..self.frame.saved.len() {
            let (r, off) = self.frame.saved[k];
            self.put(ld(r.index() as u32, SP, off));
        }
        if self.frame.size > 0 {
            self.put(addi(SP, SP, self.frame.size));
        }
    }

    fn epilogue(&mut self) {
        if self.frame.tcc.resident {
            self.put(mv(A6, S6));
        }
        self.restore();
        // R0 in a0 too: the runtime, helpers running callbacks and
        // trampolines call functions natively.
        self.put(mv(A0, A5));
        self.put(RET);
    }

    /// Pool slot of `entry`: one slot per distinct relocation; constants
    /// are not looked up (hashing each cost more than the slots it saves).
    fn pool_slot(&mut self, entry: PoolEntry) -> u32 {
        if let PoolEntry::Const(_) = entry {
            self.pool.push(entry);
            return self.pool.len() as u32 - 1;
        }
        let next = self.pool.len() as u32;
        let slot = *self.pool_slots.entry(entry).or_insert(next);
        if slot == next {
            self.pool.push(entry);
        }
        slot
    }

    /// Per function its header, prologue and epilogue in bytes, and its
    /// pcs (whose code tiles the rest: `Spans::Tiled`).
    fn tiles(&self) -> Vec<FunctionTiles> {
        let bytes = |s: Span| Span {
            owner: s.owner,
            start: s.start * 4,
            end: s.end * 4,
        };
        let own = self.spans.chunks_exact(3);
        self.functions
            .iter()
            .zip(own)
            .map(|(f, own)| FunctionTiles {
                header: bytes(own[0]),
                prologue: bytes(own[1]),
                epilogue: bytes(own[2]),
                pcs: f.start as u32..f.end as u32,
            })
            .collect()
    }

    /// Text, padding, pool; relocations, functions, pc map, spans in bytes.
    fn finish(mut self) -> Result<Image, JitError> {
        let text_len = self.text.len() * 4;
        if self.text.len() % 2 == 1 {
            self.text.push(NOP); // the pool is 8-byte aligned
        }
        let text_words = self.text.len();
        self.resolve_global(text_words)?;
        let pool_base = text_words * 4;
        let mut code = vec![0u8; pool_base];
        for (bytes, w) in code.chunks_exact_mut(4).zip(&self.text) {
            bytes.copy_from_slice(&w.to_le_bytes());
        }
        code.reserve_exact(8 * self.pool.len());
        let mut relocs = Vec::new();
        for (slot, entry) in self.pool.iter().enumerate() {
            let value = match *entry {
                PoolEntry::Const(v) => v,
                PoolEntry::Reloc(kind) => {
                    relocs.push(Reloc {
                        offset: pool_base + 8 * slot,
                        kind,
                    });
                    0
                }
            };
            code.extend_from_slice(&value.to_le_bytes());
        }
        let functions = self
            .functions
            .iter()
            .zip(self.func_at.iter().zip(&self.frame_sizes))
            .map(|(f, (&at, &frame_size))| FunctionEntry {
                name: f.name.clone(),
                offset: at as usize * 4,
                frame_size,
            })
            .collect();
        let spans = Spans::Tiled(self.tiles());
        Ok(Image {
            code,
            text_len,
            functions,
            tail_call_entry_offset: TAIL_CALL_ENTRY_OFFSET,
            pc_map: self.pc_map.iter().map(|&w| w as usize * 4).collect(),
            relocs,
            pool: self.pool,
            target: self.target,
            spans,
            bpf_insts: self.prog.shared_insts(),
        })
    }
}
