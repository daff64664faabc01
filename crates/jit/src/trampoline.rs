//! fentry/fexit trampolines for JIT'd functions, attached at run time
//! without recompiling the traced function.
//!
//! # How a trampoline is reached
//!
//! * A **direct entry** (a run starting at the function's offset 0) meets
//!   the 8-byte patch site, rewritten from two `nop`s by [`patch_site`] to
//!   `auipc t0, hi; jalr t0, lo(t0)` → the trampoline. That trampoline calls
//!   the original at offset 8 (the tail-call counter init), so the traced
//!   run starts with a fresh budget exactly as an unpatched one would.
//! * A **bpf2bpf call** enters its callee at [`TAIL_CALL_ENTRY_OFFSET`],
//!   past the patch site, so each call site found by [`local_call_sites`]
//!   is retargeted by [`retarget_call`] to a second trampoline that calls
//!   the original at `+12` with the caller's tail-call context in a6.
//! * A **tail call** enters at `+12` too and is never redirected: fentry on
//!   a program's entry fires only on direct entry, by construction.
//!
//! Detaching writes the original bytes back ([`NOPS`] for a patch site).
//!
//! # Trampoline frame (grows down; 128 bytes, sp 16-aligned)
//!
//! ```text
//!  caller sp ─▶ +---------------------------+ 128
//!               | pad                       | 120
//!               | saved ra                  | 112
//!               | (reserved)                | 104
//!               | return value of original  |  96
//!               | a6: traced function's     |  88  tail-call count/pointer:
//!               |     tail-call context     |      restored before the call,
//!               |                           |      updated from its return
//!               | saved a0..a4 (arguments)  |  48..88
//!               | ctx: u64 args[n], ret     |  0..48  what tracers get in a0
//!        sp ─▶ +---------------------------+   0
//! ```
//!
//! # Code
//!
//! ```text
//!   addi sp, sp, -128 ; sd ra ; sd a0..a4 ; sd a6 ; sd a0..a(n-1) → ctx
//!   per fentry tracer:  addi a0, sp, 0 ; [li a1, n ; call publisher]
//!                       call tracer+0 ; count
//!   ld a0..a4 ; ld a6 ; call original (+8 direct, +12 bpf2bpf)
//!   sd a5 → ret ; sd a6 → slot (the callee's count flows back: `reg`)
//!   per fexit tracer:   ret → ctx[n] ; addi a0, sp, 0 ; call tracer+0 ; count
//!   ld a5 ; mv a0, a5 ; ld a6 ; ld ra ; addi sp, sp, 128 ; ret
//! ```
//!
//! Tracers are entered at their offset 0, so their header gives each run a
//! fresh tail-call budget in every scheme (33 in a6, or a null pointer that
//! makes the tracer's entry function initialise its own counter). "count"
//! increments an optional u64 run counter (the runtime's tracer-run stat).
//! The callee leaves R0 in a5 (and a0); the trampoline returns the same way.
//! Only temporaries (t0..t2) and argument registers are clobbered, like any
//! call; callee-saved registers are never touched.

use crate::{Image, TAIL_CALL_ENTRY_OFFSET};
use rvbpf_rv64::{
    decode, encode, split_hi_lo, AluImmOp, Imm12, Inst, JumpOffset, LoadOp, Reg, StoreOp,
};

/// The 8 bytes of an unpatched patch site: two `addi zero, zero, 0`.
pub const NOPS: [u8; 8] = [0x13, 0, 0, 0, 0x13, 0, 0, 0];

/// Bytes of a trampoline's stack frame.
pub const FRAME_SIZE: i64 = 128;
const CTX: i64 = 0;
const ARGS: i64 = 48;
const TCC: i64 = 88;
const RET: i64 = 96;
const RA: i64 = 112;

/// What one trampoline does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrampolineSpec {
    /// Address the trampoline's first instruction will run at.
    pub at: u64,
    /// Where to call the traced function: its `+8` for a direct entry,
    /// its `+12` ([`TAIL_CALL_ENTRY_OFFSET`]) for a bpf2bpf call.
    pub original: u64,
    /// Entry (offset 0) addresses of the fentry tracers, in order.
    pub fentry: Vec<u64>,
    /// Entry addresses of the fexit tracers, in order.
    pub fexit: Vec<u64>,
    /// Arguments copied into the ctx array (at most 5).
    pub arg_count: u8,
    /// A u64 incremented after each tracer run, if any.
    pub run_counter: Option<u64>,
    /// If set, the ctx array is handed to this host function before each
    /// tracer run — `(a0 = array, a1 = number of u64s) -> ctx address` —
    /// and the tracer gets its result in a0 (lets a runtime place the ctx
    /// in read-only memory); otherwise a0 = the array in the frame.
    pub ctx_publisher: Option<u64>,
}

/// Why a trampoline or patch cannot be generated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrampolineError {
    #[error("{what} at {from:#x} cannot reach {to:#x}")]
    OutOfRange {
        what: &'static str,
        from: u64,
        to: u64,
    },
}

fn imm(v: i64) -> Imm12 {
    Imm12::new(v).expect("frame offsets fit 12 bits")
}

fn sd(rs2: Reg, off: i64) -> Inst {
    Inst::Store {
        op: StoreOp::Sd,
        rs1: Reg::SP,
        rs2,
        offset: imm(off),
    }
}

fn ld(rd: Reg, off: i64) -> Inst {
    Inst::Load {
        op: LoadOp::Ld,
        rd,
        rs1: Reg::SP,
        offset: imm(off),
    }
}

fn addi(rd: Reg, rs1: Reg, v: i64) -> Inst {
    Inst::AluImm {
        op: AluImmOp::Addi,
        rd,
        rs1,
        imm: imm(v),
    }
}

const ARG_REGS: [Reg; 5] = [Reg::A0, Reg::A1, Reg::A2, Reg::A3, Reg::A4];

/// Collects instructions with their addresses (every one is 4 bytes).
struct Asm {
    at: u64,
    insts: Vec<Inst>,
}

impl Asm {
    fn pc(&self) -> u64 {
        self.at + 4 * self.insts.len() as u64
    }

    fn hi_lo(
        &self,
        to: u64,
        what: &'static str,
    ) -> Result<(rvbpf_rv64::Imm20, Imm12), TrampolineError> {
        let from = self.pc();
        split_hi_lo(to.wrapping_sub(from) as i64).ok_or(TrampolineError::OutOfRange {
            what,
            from,
            to,
        })
    }

    /// `auipc t1, hi; jalr ra, lo(t1)`.
    fn call(&mut self, to: u64) -> Result<(), TrampolineError> {
        let (hi, lo) = self.hi_lo(to, "call")?;
        self.insts.push(Inst::Auipc {
            rd: Reg::T1,
            imm: hi,
        });
        self.insts.push(Inst::Jalr {
            rd: Reg::RA,
            rs1: Reg::T1,
            offset: lo,
        });
        Ok(())
    }

    /// `*counter += 1` with t0, t2.
    fn count(&mut self, counter: Option<u64>) -> Result<(), TrampolineError> {
        let Some(c) = counter else { return Ok(()) };
        let (hi, lo) = self.hi_lo(c, "counter")?;
        self.insts.push(Inst::Auipc {
            rd: Reg::T0,
            imm: hi,
        });
        let mem = |op_load: bool| {
            if op_load {
                Inst::Load {
                    op: LoadOp::Ld,
                    rd: Reg::T2,
                    rs1: Reg::T0,
                    offset: lo,
                }
            } else {
                Inst::Store {
                    op: StoreOp::Sd,
                    rs1: Reg::T0,
                    rs2: Reg::T2,
                    offset: lo,
                }
            }
        };
        self.insts.push(mem(true));
        self.insts.push(addi(Reg::T2, Reg::T2, 1));
        self.insts.push(mem(false));
        Ok(())
    }

    fn run_tracer(
        &mut self,
        tracer: u64,
        words: usize,
        spec: &TrampolineSpec,
    ) -> Result<(), TrampolineError> {
        self.insts.push(addi(Reg::A0, Reg::SP, CTX));
        if let Some(publish) = spec.ctx_publisher {
            self.insts.push(addi(Reg::A1, Reg::ZERO, words as i64));
            self.call(publish)?;
        }
        self.call(tracer)?;
        self.count(spec.run_counter)
    }
}

/// Generates the trampoline described by `spec` (see the module docs).
pub fn trampoline(spec: &TrampolineSpec) -> Result<Vec<u8>, TrampolineError> {
    let n = spec.arg_count.min(5) as usize;
    let mut a = Asm {
        at: spec.at,
        insts: Vec::new(),
    };
    a.insts.push(addi(Reg::SP, Reg::SP, -FRAME_SIZE));
    a.insts.push(sd(Reg::RA, RA));
    for (i, &r) in ARG_REGS.iter().enumerate() {
        a.insts.push(sd(r, ARGS + 8 * i as i64));
    }
    a.insts.push(sd(Reg::A6, TCC));
    for (i, &r) in ARG_REGS.iter().enumerate().take(n) {
        a.insts.push(sd(r, CTX + 8 * i as i64));
    }
    for &t in &spec.fentry {
        a.run_tracer(t, n, spec)?;
    }
    for (i, &r) in ARG_REGS.iter().enumerate() {
        a.insts.push(ld(r, ARGS + 8 * i as i64));
    }
    a.insts.push(ld(Reg::A6, TCC));
    a.call(spec.original)?;
    a.insts.push(sd(Reg::A5, RET));
    a.insts.push(sd(Reg::A6, TCC));
    if !spec.fexit.is_empty() {
        a.insts.push(sd(Reg::A5, CTX + 8 * n as i64));
    }
    for &t in &spec.fexit {
        a.run_tracer(t, n + 1, spec)?;
    }
    a.insts.push(ld(Reg::A5, RET));
    a.insts.push(addi(Reg::A0, Reg::A5, 0));
    a.insts.push(ld(Reg::A6, TCC));
    a.insts.push(ld(Reg::RA, RA));
    a.insts.push(addi(Reg::SP, Reg::SP, FRAME_SIZE));
    a.insts.push(Inst::RET);
    Ok(a.insts
        .iter()
        .flat_map(|i| encode(i).to_le_bytes())
        .collect())
}

/// The patch-site bytes `auipc t0, hi; jalr t0, lo(t0)` for a site at
/// `site` jumping to `target` (t0 = site + 8 on arrival).
pub fn patch_site(site: u64, target: u64) -> Result<[u8; 8], TrampolineError> {
    let (hi, lo) =
        split_hi_lo(target.wrapping_sub(site) as i64).ok_or(TrampolineError::OutOfRange {
            what: "patch site",
            from: site,
            to: target,
        })?;
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(
        &encode(&Inst::Auipc {
            rd: Reg::T0,
            imm: hi,
        })
        .to_le_bytes(),
    );
    out[4..].copy_from_slice(
        &encode(&Inst::Jalr {
            rd: Reg::T0,
            rs1: Reg::T0,
            offset: lo,
        })
        .to_le_bytes(),
    );
    Ok(out)
}

/// A bpf2bpf call instruction (sequence) inside an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalCallSite {
    /// Code offset of the call (`jal`, or the `auipc` of `auipc t1; jalr ra`).
    pub offset: usize,
    /// 4 (`jal`) or 8 (`auipc` + `jalr`).
    pub len: usize,
    /// Index into [`Image::functions`] of the callee.
    pub callee: usize,
}

/// Every bpf2bpf call in `image`: a `jal ra` or `auipc t1; jalr ra, lo(t1)`
/// whose target is a function's [`TAIL_CALL_ENTRY_OFFSET`]. (Helper calls
/// load their target from the pool and never match.)
pub fn local_call_sites(image: &Image) -> Vec<LocalCallSite> {
    let text = &image.code[..image.text_len];
    let callee_at = |target: i64| {
        image
            .functions
            .iter()
            .position(|f| (f.offset + TAIL_CALL_ENTRY_OFFSET) as i64 == target)
    };
    let mut out = Vec::new();
    let mut prev: Option<(usize, Inst)> = None;
    let mut at = 0;
    while at < text.len() {
        let Ok((inst, len)) = decode(&text[at..]) else {
            at += 2;
            prev = None;
            continue;
        };
        match inst {
            Inst::Jal { rd, offset } if rd == Reg::RA => {
                if let Some(callee) = callee_at(at as i64 + offset.value()) {
                    out.push(LocalCallSite {
                        offset: at,
                        len: 4,
                        callee,
                    });
                }
            }
            Inst::Jalr { rd, rs1, offset } if rd == Reg::RA && len == 4 => {
                if let Some((p, Inst::Auipc { rd: ard, imm })) = prev {
                    if ard == rs1 && p + 4 == at {
                        let target = p as i64 + imm.upper_value() + offset.value();
                        if let Some(callee) = callee_at(target) {
                            out.push(LocalCallSite {
                                offset: p,
                                len: 8,
                                callee,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        prev = Some((at, inst));
        at += len;
    }
    out
}

/// New bytes for call site `site` (at address `site_addr`) calling `target`
/// instead, in the same form and length.
pub fn retarget_call(
    site: &LocalCallSite,
    site_addr: u64,
    target: u64,
) -> Result<Vec<u8>, TrampolineError> {
    let rel = target.wrapping_sub(site_addr) as i64;
    let err = TrampolineError::OutOfRange {
        what: "bpf2bpf call",
        from: site_addr,
        to: target,
    };
    let insts = if site.len == 4 {
        vec![Inst::Jal {
            rd: Reg::RA,
            offset: JumpOffset::new(rel).ok_or(err)?,
        }]
    } else {
        let (hi, lo) = split_hi_lo(rel).ok_or(err)?;
        vec![
            Inst::Auipc {
                rd: Reg::T1,
                imm: hi,
            },
            Inst::Jalr {
                rd: Reg::RA,
                rs1: Reg::T1,
                offset: lo,
            },
        ]
    };
    Ok(insts.iter().flat_map(|i| encode(i).to_le_bytes()).collect())
}
