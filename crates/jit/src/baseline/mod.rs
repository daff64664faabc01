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
//! # Design: one forward pass, templates straight to words
//!
//! * Each function is emitted in one pass over its instructions; every
//!   BPF instruction becomes a fixed template of 32-bit RV64 words
//!   (`enc.rs`: bit-level encoders, no typed `rvbpf_rv64::Inst`), appended
//!   to one `Vec<u32>`. No analyses: no liveness (every ALU32 result is
//!   zero-extended), no constant hoisting, no jump threading, no fusion,
//!   no compression (RVC targets get uncompressed code). Zba `zext.w` and
//!   Zbb `rev8`/`zext.h` are used when the target has them.
//! * The frame is `FrameLayout::plan` of the verifier's facts alone
//!   (registers read/written, `stack_depth`, `makes_calls`, tail-call
//!   reachability), without hoisted constants.
//! * Branches: a backward target is known, so its shortest form is
//!   chosen exactly. A forward conditional jump of fewer than
//!   [`SHORT_FORWARD`] BPF instructions is guessed to fit `b<cc>` (±4 KiB);
//!   longer ones get `b<!cc> +8; jal` (±1 MiB); `ja` and `exit` use `jal`.
//!   Offsets are patched once the function is emitted (`fixup.rs`); a guess
//!   that does not reach marks that one jump for the next longer form
//!   (`b<!cc> +12; auipc t3; jalr`) and the function is emitted again:
//!   linear per attempt, and each attempt only grows forms.
//! * Literal-pool loads, bpf2bpf calls and function addresses are patched
//!   after the last function.
//! * The hot forms (ALU with register or immediate, stores, forward
//!   conditional jumps; `fast.rs`, `jump.rs`) pick their words with
//!   selects and write a fixed group truncated to its length: on code
//!   mixing instruction kinds at random, every data-dependent branch is a
//!   likely misprediction, and they dominated the time.
//!
//! # Cost (measured 2026-11-25, `examples/compile_speed.rs`, CPU time)
//!
//! On the generated 100k-instruction program: about 15.5 ns per BPF
//! instruction (optimizing JIT ~94, solana-sbpf's x86-64 JIT ~23), code
//! 1.32x the optimizing rv64gc size. On the C kernels
//! (`examples/measure_kernels.rs --baseline`): 2.5x the RV64 instructions
//! retired, 2.25x the code bytes. What is left is mostly one mispredicted
//! dispatch per instruction (the match on the typed instruction) and the
//! copies an [`Image`] needs (text bytes, pc map, spans, the instructions).
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
mod jump;
mod lower;

use crate::frame::FrameLayout;
use crate::image::{PoolEntry, Reloc, Span};
use crate::items::Owner;
use crate::{FunctionEntry, Image, JitError, JitOptions, Sandbox, TccScheme};
use crate::{MAX_TAIL_CALL_CNT, TAIL_CALL_ENTRY_OFFSET};
use enc::*;
use fixup::{Far, GlobalFix, LocalFix};
use rvbpf_ebpf::verifier::{FunctionFacts, VerifiedProgram};
use std::collections::HashMap;

/// Forward conditional jumps over fewer BPF instructions than this start
/// as a single `b<cc>`: at up to 16 bytes per instruction they fit its
/// ±4 KiB. (Longer templates exist; a wrong guess costs a re-emission.)
pub const SHORT_FORWARD: i64 = 128;

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
    functions: &'a [FunctionFacts],
    target: rvbpf_rv64::Target,
    zba: bool,
    zbb: bool,
    /// The text, one entry per 4-byte instruction.
    words: Vec<u32>,
    /// Word index of each pc's first instruction.
    pc_map: Vec<u32>,
    /// Word index of each function's header.
    func_at: Vec<u32>,
    frame_sizes: Vec<usize>,
    /// Per function, in words: its header, prologue and epilogue (the
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
            functions,
            target: opts.target,
            zba: opts.target.zba,
            zbb: opts.target.zbb,
            words: Vec::with_capacity(insts.len() * 4 + 64),
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

    fn span(&mut self, owner: Owner, start: u32) {
        let end = self.here();
        self.spans.push(Span { owner, start, end });
    }

    /// Emits function `i`, again with longer jump forms while a guess fails.
    fn function(&mut self, i: usize) -> Result<(), JitError> {
        let functions = self.functions;
        let f = &functions[i];
        if f.has_tail_call && !f.tail_call_reachable {
            return Err(JitError::Internal(format!(
                "function `{}` tail calls but is not marked tail-call reachable",
                f.name
            )));
        }
        self.func = i;
        self.frame = FrameLayout::plan(
            f,
            i,
            f.makes_calls,
            &[],
            TccScheme::Reg,
            self.program_has_tail_calls,
        )?;
        self.force.clear();
        let (words, spans, global) = (self.words.len(), self.spans.len(), self.global.len());
        self.func_at.push(words as u32);
        self.frame_sizes.push(self.frame.size as usize);
        loop {
            self.header_and_prologue(i);
            let insts = self.insts;
            for (pc, inst) in (f.start..).zip(&insts[f.start..f.end]) {
                self.pc_map[pc] = self.here();
                self.lower(pc, inst)?;
            }
            let epilogue = self.here();
            self.epilogue();
            self.span(Owner::Epilogue(i as u32), epilogue);
            if self.resolve_local(f, epilogue) {
                return Ok(());
            }
            self.words.truncate(words);
            self.spans.truncate(spans);
            self.global.truncate(global);
        }
    }

    fn header_and_prologue(&mut self, i: usize) {
        let start = self.here();
        self.put(NOP);
        self.put(NOP);
        self.put(addi(A6, ZERO, MAX_TAIL_CALL_CNT));
        self.span(Owner::Header(i as u32), start);
        let start = self.here();
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
        self.span(Owner::Prologue(i as u32), start);
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

    /// Every owner run in bytes, in code order: per function its header,
    /// prologue, one span per pc (contiguous: each ends where the next pc's
    /// code starts), epilogue.
    fn all_spans(&self) -> Vec<Span> {
        let bytes = |owner, start: u32, end: u32| Span {
            owner,
            start: start * 4,
            end: end * 4,
        };
        let mut out = Vec::with_capacity(self.insts.len() + self.spans.len());
        for (f, own) in self.functions.iter().zip(self.spans.chunks_exact(3)) {
            let [header, prologue, epilogue] = [own[0], own[1], own[2]];
            out.push(bytes(header.owner, header.start, header.end));
            out.push(bytes(prologue.owner, prologue.start, prologue.end));
            let starts = &self.pc_map[f.start..f.end];
            for (k, pair) in starts.windows(2).enumerate() {
                out.push(bytes(Owner::Insn((f.start + k) as u32), pair[0], pair[1]));
            }
            let last = *starts.last().expect("functions are not empty");
            out.push(bytes(Owner::Insn(f.end as u32 - 1), last, epilogue.start));
            out.push(bytes(epilogue.owner, epilogue.start, epilogue.end));
        }
        out
    }

    /// Text, padding, pool; relocations, functions, pc map, spans in bytes.
    fn finish(mut self) -> Result<Image, JitError> {
        let text_len = self.words.len() * 4;
        if self.words.len() % 2 == 1 {
            self.put(NOP); // the pool is 8-byte aligned
        }
        let text_words = self.words.len();
        self.resolve_global(text_words)?;
        let pool_base = text_words * 4;
        let mut code = vec![0u8; pool_base];
        for (bytes, w) in code.chunks_exact_mut(4).zip(&self.words) {
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
        let spans = self.all_spans();
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
            bpf_insts: self.insts.to_vec(),
        })
    }
}
