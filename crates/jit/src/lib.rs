//! The rvbpf JIT: a verified BPF program in, a position-independent RV64
//! [`Image`] out. Pure: no memory is mapped, no host address is baked in.
//!
//! # Pipeline
//!
//! ```text
//!  VerifiedProgram ─▶ facts::ProgramFacts (verifier facts + map kinds +
//!    │                                     "calls host code" per function)
//!    ├─ explicit analyses, per function, before any code is emitted:
//!    │    lower::cfg, lower::effects one scan decodes each instruction once:
//!    │                               successors, jump targets, back edges,
//!    │                               register effects, constant operands
//!    │    lower::consts              loop constants kept in s7..s11
//!    │    frame::FrameLayout::plan   saved registers, frame size
//!    │    lower::live                one reverse pass: register liveness and
//!    │                               upper-half liveness → which ALU32
//!    │                               zero-extensions are dead
//!    │    lower::known               forward facts: which registers are
//!    │                               zero-/sign-extended (jmp32, mov32)
//!    │    lower::thread, fuse, shadd cross-instruction rewrites
//!    │
//!  BPF Inst ──lower──▶ stream::Stream: rv64 Insts whose encoding does not
//!                      depend on layout are encoded on the spot into one
//!                      byte buffer; relaxable items (Branch/Jump/Call to a
//!                      Label, PoolLoad/AddrOf, Align4) are kept as
//!                      fragments; a label is a stream position; owner runs
//!                      (header / prologue / BPF pc / epilogue) tag the code
//!    │
//!    └─ layout::encode_stream ── bounded relaxation loop over fragment
//!                                *forms* (only grow) → copy the fixed bytes,
//!                                expand the fragments → Image
//! ```
//!
//! The relaxation rounds ask `layout::reaches` (the forms' range tests)
//! whether a fragment's current form reaches its target; the final pass
//! encodes what `layout::expand` returns for it; a unit test holds the two
//! together.
//!
//! # Tiers ([`Tier`])
//!
//! [`compile`] is the optimizing pipeline above. [`compile_baseline`]
//! (`src/baseline/`) is a second compiler for when compile time matters
//! more than code quality: one pass per function writing fixed templates
//! as raw words, no analyses, no compression, the `reg` scheme only. Its
//! images follow every convention below (register map, header, frame,
//! pool, relocations, prog-array view, pc map), so engines run them
//! unchanged; for what it does not implement it returns
//! [`JitError::Unsupported`] and callers fall back to [`compile`].
//!
//! Compile time (`cargo run --release -p rvbpf-jit --example compile_speed`)
//! shaped this: the analyses read what the one scan decoded instead of
//! matching the instructions again (on code that mixes instruction kinds,
//! every pass that matches on them costs a mispredicted branch per
//! instruction), per-pc state lives in dense arrays indexed by pc, nothing
//! is allocated per instruction, and layout never revisits fixed code.
//! Facts that depend on operand values (ALU and load effects, operand
//! constants) are computed without branching on them; emitting is inlined
//! down to the encoder, so each emitter's instruction kind is known where
//! it is encoded; common ALU forms are reached by one table jump on
//! (operation, width, operand kind) into code specialised for each; the
//! dataflow passes hand a pc's facts to its fall-through successor in
//! registers. The optimizing tier takes ~70 ns of CPU time per instruction
//! on the 100k-instruction program (rv64gc; the CPU-time method of the
//! example's doc comment).
//!
//! # Register map
//!
//! | BPF register / JIT role                          | RV64   | why                                      |
//! |--------------------------------------------------|--------|------------------------------------------|
//! | R0 (return value)                                | a5     | keeps a0..a4 free for R1..R5             |
//! | R1..R5 (arguments)                               | a0..a4 | C argument registers: helper calls need no shuffling |
//! | R6..R9 (callee-saved)                            | s1..s4 | C callee-saved                           |
//! | R10 (frame pointer, read-only)                   | s5     | set by the prologue: top of the BPF stack |
//! | tail-call count (`reg`, `stack`) / pointer (`ptr`) | a6   | caller-saved; travels into calls         |
//! | count / pointer across calls                     | s6     | callee-saved                             |
//! | hoisted loop constants (`lower/consts.rs`)       | s7..s11 | callee-saved; loaded once by the prologue |
//! | temporaries                                      | t0..t3 | scratch within one BPF instruction; t1 = call / tail-call target, t3 = far-branch scratch |
//!
//! At a helper/kfunc call the result comes back in a0 and is moved to a5. A
//! bpf2bpf callee leaves R0 in a5 (and a copy in a0, see the epilogue).
//!
//! # Function header (every function, entry and subprograms alike)
//!
//! ```text
//!  +0   nop                       ┐ 8-byte patch site: a trampoline attach rewrites
//!  +4   nop                       ┘ it to `auipc t0, ..; jalr t0, ..(t0)`
//!  +8   tcc init (4 bytes, never compressed)
//!           reg/stack: addi a6, zero, 33    ptr: addi a6, zero, 0 ("fresh run")
//!  +12  ◀── TAIL_CALL_ENTRY_OFFSET: prologue starts here
//! ```
//!
//! A run starts at offset 0 of the entry function. Tail calls, bpf2bpf calls
//! and (later) trampolines calling the original enter at
//! [`TAIL_CALL_ENTRY_OFFSET`], so the count (or pointer) in a6 is carried
//! over instead of being reset.
//!
//! # Frame layout (grows down; sp stays 16-byte aligned)
//!
//! ```text
//!  caller sp ─▶ +--------------------------------+  frame_size
//!               | counter home + pad (16)        |  ptr scheme, entry function only
//!               | saved ra                       |  if the function makes calls
//!               | saved s1..s11 (only those used)|
//!               | tcc slot (8)                   |  stack scheme, tail-call reachable
//!               | padding to 16                  |
//!   s5 = R10 ─▶ +--------------------------------+  bpf_stack (stack_depth, rounded to 16)
//!               | BPF stack                      |
//!         sp ─▶ +--------------------------------+  0
//! ```
//!
//! Saved registers come from an explicit analysis of the function's facts
//! (`regs_read | regs_written`, `stack_depth`, `makes_calls`, tail-call
//! reachability), never from what a previous emission pass happened to touch.
//! The epilogue restores them, pops the frame, copies a5 to a0 and returns.
//!
//! # Calls and relocations
//!
//! Host addresses live in a per-image **literal pool** of 8-byte slots after
//! the code (8-byte aligned); the loader patches each slot named by a
//! [`Reloc`]. Code reaches a slot pc-relatively with `auipc rd; ld rd, lo(rd)`.
//!
//! * helper `n` / kfunc `i`: `auipc t1; ld t1; jalr ra, 0(t1); mv a5, a0`.
//! * `callx r`: `mv a5, r` then the same through the
//!   [`RelocKind::HelperDispatch`] slot (number = sixth C argument).
//! * `lddw` of a map handle / map value address: `auipc rd; ld rd` from a
//!   slot relocated as [`RelocKind::MapHandle`], [`RelocKind::ProgArray`] or
//!   [`RelocKind::MapValue`]. `lddw` of a function address: `auipc; addi`.
//! * `ldabs`/`ldind` (legacy packet load): offset (`(u32)index + imm`) in
//!   t0, size in t2, then `auipc t1; ld t1; jalr ra, 0(t1)` through the
//!   [`RelocKind::LoadPacket`] slot, a runtime routine with its own
//!   convention: R0 comes back in a5 directly and an ok flag in t0, every
//!   other register survives (the verifier lets R1..R5 live across it).
//!   `beqz t0, epilogue`: out of range the routine set a5 = 0, so the
//!   program ends with R0 = 0, like Linux and the interpreter.
//! * bpf2bpf: `jal ra, callee+12` (relaxed to `auipc t1; jalr ra` when far);
//!   resolved inside the image, no relocation.
//!
//! # Prog-array view (what a tail call reads)
//!
//! The handle of a prog-array map (slot [`RelocKind::ProgArray`]) must point at
//!
//! ```text
//!  +0  u32 max_entries
//!  +4  u32 reserved (0)
//!  +8  u64 entry[max_entries]   address of the target's entry function
//!                               (its offset 0), or 0 for an empty slot
//! ```
//!
//! # Tail-call counter schemes ([`TccScheme`])
//!
//! All three implement the Linux semantics: at most 33 successful tail calls
//! per run, shared by every bpf2bpf frame; a failure (index ≥ max_entries,
//! empty slot, budget spent) falls through and consumes nothing. The count
//! runs down from 33; a tail call succeeds only while it is non-zero.
//!
//! * `Reg`: a6 holds the count. Only a fresh run initialises it (header). It
//!   flows into bpf2bpf callees as a hidden argument and back as a hidden
//!   return value, so a subprogram's tail calls are seen by its caller. It
//!   is parked in s6 around helper/kfunc calls and around calls to callees
//!   that cannot tail call (they may clobber a6).
//! * `Stack`: a6 carries the count into a function, which stores it in its
//!   frame's tcc slot, reloads a6 from the slot before each call into a
//!   tail-call-reachable callee and writes the callee's a6 back after it; the
//!   epilogue reloads a6 so the caller sees the update.
//! * `Ptr`: a6 holds a pointer to the one counter, which lives in the entry
//!   function's frame at `caller sp − 8` (the "counter home"; every entry
//!   function reserves it, so a tail callee, which builds its frame at the
//!   same sp, never overwrites it). The entry function initialises it when
//!   a6 = 0 (fresh run); the pointer is handed down every call and tail call.
//!
//! The tail-call sequence (`call 12`, `bpf_tail_call(ctx = R1, prog_array =
//! R2, index = R3)`):
//!
//! ```text
//!   zext.w  t1, a2          ; the index is a u32 (slli+srli without Zba)
//!   lwu     t2, 0(a1)       ; max_entries
//!   bgeu    t1, t2, out
//!   <count>                 ; reg: a6 itself; stack: ld t0, slot(sp);
//!                           ; ptr: beqz p, out; ld t0, 0(p), p = a6 or s6
//!   beqz    count, out      ; budget spent
//!   sh3add  t1, t1, a1      ; (slli+add without Zba)
//!   ld      t1, 8(t1)       ; entry[index]
//!   beqz    t1, out         ; empty slot
//!   addi    a6, count, -1   ; commit (ptr: addi t0,t0,-1; sd t0,0(p); mv a6,p)
//!   <restore saved registers, pop the frame>
//!   jalr    zero, 12(t1)    ; enter the callee past its header, a0 = ctx
//! out:
//! ```
//!
//! # Layout
//!
//! Branches, jumps and calls start in their shortest form and only grow
//! (`c.beqz/c.bnez` → `b<op>` → inverted branch over `jal` → inverted
//! branch over `auipc t3; jalr`); the loop is bounded because every
//! non-final round grows at least one item. Function starts are padded to
//! 4 bytes (`c.nop`) so each patch site is a naturally aligned word. After
//! the text come `nop` padding to 8 bytes and the literal pool.
//!
//! # Sandboxing ([`Sandbox`])
//!
//! rvbpf's verifier does not prove memory safety; the rv64 emulator's
//! regions bounds-check every access instead ([`Sandbox::None`]). Code
//! that runs natively has no such checks, so [`Sandbox::Masked`] makes the
//! code confine itself (software fault isolation by address masking):
//!
//! * every load, store and atomic whose base register is not R10 accesses
//!   `t4 = (base + off) mod 2^`[`SANDBOX_BITS`] (`slli t4, 28; srli t4,
//!   28`, after an `addi` for a non-zero offset) at offset 0. R10-based
//!   accesses are left alone: the verifier bounds `r10 + off` to the
//!   function's frame (`lower/mem.rs` cites the check). Pointers keep their
//!   VM values, so programs the emulator runs without a fault give the
//!   same results masked;
//! * the prologue masks R10 itself (`s5 = (sp + bpf_stack) mod 2^36`): the
//!   native stack with the frames' control data (saved `ra` and registers,
//!   tail-call count slot, counter home) lies outside the sandbox, and the
//!   BPF stack is its mirror inside (same offsets, frames as disjoint as
//!   the native ones), so R10 values are VM stack addresses and no masked
//!   access reaches a return address;
//! * a tail call proceeds only if R2 is the handle of one of the program's
//!   prog arrays (else it fails like a bad index): a view forged in BPF
//!   memory would otherwise choose the jump target.
//!
//! What the native engine must provide (the contract masking relies on):
//! the whole range `[0, 2^36)` reserved (`PROT_NONE`, `MAP_NORESERVE`),
//! with only the program's regions mapped at their VM addresses (see
//! `rvbpf::memory`: every BPF-visible address is below 2^36, which bounds
//! a VM to 240 maps), the VM stack region included; the native stack of
//! JIT'd code at `k * 2^36 + [STACK_BASE, STACK_TOP)` for some k >= 1, so
//! that its mirror is the VM stack region (a helper that calls a BPF
//! callback must call it on that stack, below the live frames: on another
//! stack R10 would mirror to an arbitrary sandbox address); prog-array
//! views, the code, the
//! literal pool and all host data outside `[0, 2^36)` or not writable by
//! BPF; helpers, kfuncs and the `callx` dispatcher validating the pointers
//! and numbers they are given (host code, not covered); `ldabs`/`ldind`
//! go through the host routine with an offset, never a pointer, so they
//! need nothing. `native/harness.c` implements this contract for the qemu
//! tests (`tests/qemu_sandbox.rs`).
//!
//! Run with sp inside the sandbox instead (as the rv64 emulator does, where
//! the mask leaves R10 unchanged), control data would lie in BPF-reachable
//! memory; `qemu_sandbox.rs` shows that a program can then read and
//! overwrite a return address, and cannot with the native stack outside.
//!
//! # Not lowered (typed [`JitError::Unsupported`])
//!
//! * legacy packet access (`ldabs`/`ldind`) in a program with bpf2bpf
//!   functions (Linux rejects the mix too): out of range the program must
//!   end, which from a callee would take unwinding every frame.
//! * a function whose address is taken (`lddw` func, callbacks) is entered
//!   by its caller at offset 0, so the header starts a fresh count (`reg`,
//!   `stack`) or a null counter pointer (`ptr`, whose tail calls then fail):
//!   tail calls from callbacks do not share the run's budget.
//! * a kfunc without a BTF prototype (assembler text) gets its argument
//!   registers as BPF left them. With a prototype, each argument is widened
//!   before the call as the RISC-V psABI requires (`ArgWidening`: 32-bit
//!   ints sign-extended even when unsigned, 8/16-bit ones by their own
//!   signedness), exactly as the interpreter widens them; golden listing
//!   `kfunc-args.txt`. The `known` facts are not consulted yet, so a value
//!   already sign-extended is extended again (one compressed instruction).
#![forbid(unsafe_code)]

mod baseline;
mod facts;
mod frame;
mod image;
mod items;
mod label_map;
mod layout;
mod lower;
mod regmap;
mod stream;
pub mod trampoline;

pub use baseline::{compile_baseline, SHORT_REACH as BASELINE_SHORT_REACH};
pub use image::{FunctionEntry, Image, PoolEntry, Reloc, RelocKind};
pub use regmap::{bpf_reg, HELPER_TAIL_CALL, MAX_TAIL_CALL_CNT};

use rvbpf_ebpf::verifier::VerifiedProgram;
use rvbpf_rv64::Target;

/// Byte offset from a function's start to where tail calls, bpf2bpf calls and
/// trampolines enter it: two 4-byte patch-site nops plus the 4-byte tcc init.
pub const TAIL_CALL_ENTRY_OFFSET: usize = 12;

/// Size of the trampoline patch site at the start of every function.
pub const PATCH_SITE_SIZE: usize = 8;

/// How the tail-call counter travels (see the crate docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TccScheme {
    /// Count in a6, a transparent argument/return value of bpf2bpf calls.
    #[default]
    Reg,
    /// Count in a6 on entry, kept in a per-frame stack slot.
    Stack,
    /// Pointer in a6 to one counter in the entry frame.
    Ptr,
}

/// How JIT'd code confines the memory accesses of BPF code (see
/// "Sandboxing" in the crate docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sandbox {
    /// No confinement in the code: the executor checks every access (the
    /// rv64 emulator's regions do).
    #[default]
    None,
    /// Address masking: every load, store and atomic not based on R10
    /// accesses `(base + off) mod 2^SANDBOX_BITS`, and a tail call only
    /// goes through one of the program's own prog arrays.
    Masked,
}

/// Width of the address space [`Sandbox::Masked`] code can reach:
/// `[0, 2^SANDBOX_BITS)` = 64 GiB. Every BPF-visible VM address must lie
/// below it (rvbpf's memory layout checks this at compile time).
pub const SANDBOX_BITS: u32 = 36;

/// Bytes of the masked address space (`1 << SANDBOX_BITS`).
pub const SANDBOX_SIZE: u64 = 1 << SANDBOX_BITS;

/// Which compiler turns a program into an [`Image`]: both give images
/// with the same conventions, so an engine runs either unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tier {
    /// [`compile`]: analyses, compact code, slower to compile.
    #[default]
    Optimizing,
    /// [`compile_baseline`]: one template pass per function, fast to
    /// compile, larger and slower code; returns [`JitError::Unsupported`]
    /// for what it does not implement (callers fall back to [`compile`]).
    Baseline,
}

/// Compilation options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitOptions {
    /// Target ISA (C, Zba, Zbb are used when present).
    pub target: Target,
    /// Tail-call counter scheme.
    pub tcc: TccScheme,
    /// Memory confinement of the generated code.
    pub sandbox: Sandbox,
}

impl Default for JitOptions {
    fn default() -> Self {
        JitOptions {
            target: Target::RV64GC,
            tcc: TccScheme::Reg,
            sandbox: Sandbox::None,
        }
    }
}

/// Why a program could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JitError {
    /// The input uses something this JIT does not lower.
    #[error("pc {pc}: {what} is not supported by the JIT")]
    Unsupported { pc: usize, what: &'static str },
    /// The input is inconsistent with its facts (should have been rejected
    /// by the verifier).
    #[error("pc {pc}: invalid input: {why}")]
    InvalidInput { pc: usize, why: String },
    /// A frame does not fit the addressing the prologue uses.
    #[error("function `{function}`: frame of {size} bytes is too large")]
    FrameTooLarge { function: String, size: usize },
    /// An internal invariant broke (a JIT bug).
    #[error("internal JIT error: {0}")]
    Internal(String),
}

/// Compiles a verified program into a position-independent [`Image`].
///
/// ```
/// use rvbpf_ebpf::{asm::assemble_object, verifier::{verify, VerifyEnv}};
/// use rvbpf_jit::{compile, JitOptions};
///
/// let obj = assemble_object("doc", "mov %r0, 42\nexit").unwrap();
/// let env = VerifyEnv { helper_known: &|_| true, kfunc_known: &|_| true, entry_args: 1 };
/// let prog = verify(&obj, 0, &env).unwrap();
/// let image = compile(&prog, &JitOptions::default()).unwrap();
/// assert!(image.listing().contains("li a5, 42"));
/// ```
pub fn compile(prog: &VerifiedProgram, opts: &JitOptions) -> Result<Image, JitError> {
    let facts = facts::ProgramFacts::from_verified(prog);
    let lowered = lower::lower_program(&facts, opts)?;
    layout::assemble(&facts, lowered, opts, prog.shared_insts())
}
