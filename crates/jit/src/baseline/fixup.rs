//! Jump forms and the patching of offsets once targets are known.
//!
//! Every patched instruction is emitted with a zero offset field; patching
//! ORs the offset bits in.

use super::enc::*;
use super::Emitter;
use crate::image::PoolEntry;
use crate::JitError;
use crate::TAIL_CALL_ENTRY_OFFSET;
use rvbpf_ebpf::verifier::FunctionFacts;

/// Reach of a jump form, shortest first (ordered: a failed guess moves a
/// jump to a later form).
pub type Far = u8;
/// `b<cc>` (±4 KiB).
pub const SHORT: Far = 0;
/// `b<!cc> +8; jal zero` (±1 MiB); for `ja`/`exit`: `jal zero`.
pub const LONG: Far = 1;
/// `b<!cc> +12; auipc t3; jalr zero, lo(t3)` (±2 GiB).
pub const FAR: Far = 2;

/// Target "the epilogue of the current function".
pub const EPILOGUE: u32 = u32::MAX;

/// A jump inside the current function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalFix {
    /// Word index of the `b<cc>`, `jal` or `auipc`: in the stage while its
    /// window is lowered, in the text afterwards.
    pub at: u32,
    /// The BPF pc whose lowering holds it (for a retry).
    pub pc: u32,
    /// Target pc, or [`EPILOGUE`].
    pub target: u32,
    pub form: Far,
}

/// What a [`GlobalFix`] points at.
#[derive(Clone, Copy, Debug)]
pub enum GlobalKind {
    /// `auipc rd; ld rd, lo(rd)` of pool slot n.
    Pool(u32),
    /// `jal ra` to function n + [`TAIL_CALL_ENTRY_OFFSET`].
    Call(u32),
    /// `auipc rd; addi rd, rd, lo` of function n's start.
    AddrOf(u32),
}

/// A reference patched after the last function.
#[derive(Clone, Copy, Debug)]
pub struct GlobalFix {
    /// Word index: in the stage while its window is lowered, in the text
    /// afterwards.
    pub at: u32,
    pub pc: u32,
    pub kind: GlobalKind,
}

/// Byte offset between two word indices.
#[inline(always)]
fn delta(from: u32, to: u32) -> i64 {
    (to as i64 - from as i64) * 4
}

fn fits_branch(off: i64) -> bool {
    (-4096..4096).contains(&off)
}

fn fits_jal(off: i64) -> bool {
    (-(1 << 20)..(1 << 20)).contains(&off)
}

/// ORs the `auipc` + I-type offset of `off` into words `at`, `at + 1`.
fn patch_pair(words: &mut [u32], at: usize, off: i64) {
    let (hi, lo) = hi_lo(off);
    words[at] |= ((hi as u32) & 0xfffff) << 12;
    words[at + 1] |= ((lo as u32) & 0xfff) << 20;
}

impl Emitter<'_> {
    /// The form a jump from `pc` to `target` (a pc, or [`EPILOGUE`]) starts
    /// in: the guess (see `stage.rs`), or the form a failed guess forced.
    #[inline(always)]
    fn form_for(&self, pc: usize, target: u32, conditional: bool) -> Far {
        let forced = self.force.get(pc - self.start).copied().unwrap_or(SHORT);
        let near = target != EPILOGUE && (target as i64 - pc as i64).abs() < super::SHORT_REACH;
        let guess = if conditional && near { SHORT } else { LONG };
        guess.max(forced)
    }

    /// `if rs1 <f3> rs2 goto target` (a pc of the current function).
    pub(super) fn cond_branch(&mut self, pc: usize, f3: u32, rs1: R, rs2: R, target: usize) {
        let form = self.form_for(pc, target as u32, true);
        let fix = |at| LocalFix {
            at,
            pc: pc as u32,
            target: target as u32,
            form,
        };
        match form {
            SHORT => {
                self.local.push(fix(self.here()));
                self.put(branch(f3, rs1, rs2, 0));
            }
            LONG => {
                self.put(branch(f3 ^ 1, rs1, rs2, 8));
                self.local.push(fix(self.here()));
                self.put(jal(ZERO, 0));
            }
            _ => {
                self.put(branch(f3 ^ 1, rs1, rs2, 12));
                self.local.push(fix(self.here()));
                self.put(auipc(T3, 0));
                self.put(jalr(ZERO, T3, 0));
            }
        }
    }

    /// `goto target` (a pc of the current function, or [`EPILOGUE`]).
    pub(super) fn jump(&mut self, pc: usize, target: u32) {
        let form = self.form_for(pc, target, false);
        self.local.push(LocalFix {
            at: self.here(),
            pc: pc as u32,
            target,
            form,
        });
        if form == FAR {
            self.put(auipc(T3, 0));
            self.put(jalr(ZERO, T3, 0));
        } else {
            self.put(jal(ZERO, 0));
        }
    }

    /// `rd = pool[entry]` (`auipc rd; ld rd, lo(rd)`).
    pub(super) fn pool_load(&mut self, pc: usize, rd: R, entry: PoolEntry) {
        let slot = self.pool_slot(entry);
        self.global_fix(pc, GlobalKind::Pool(slot));
        self.put(auipc(rd, 0));
        self.put(ld(rd, rd, 0));
    }

    pub(super) fn global_fix(&mut self, pc: usize, kind: GlobalKind) {
        self.global.push(GlobalFix {
            at: self.here(),
            pc: pc as u32,
            kind,
        });
    }

    /// Patches the current function's jumps, now in the text (its
    /// epilogue at `epilogue_at`). `false` when some guess did not reach:
    /// those jumps are marked for a longer form, and the function must be
    /// emitted again.
    pub(super) fn resolve_local(&mut self, f: &FunctionFacts, epilogue_at: u32) -> bool {
        let mut ok = true;
        for k in 0..self.local.len() {
            let fix = self.local[k];
            let at = fix.at;
            let off = delta(at, self.jump_target(fix.target, epilogue_at));
            // Short and long forms interleave at random: select, not branch.
            let short = fix.form == SHORT;
            let reaches = pick(short, fits_branch(off), fits_jal(off)) | (fix.form == FAR);
            if !reaches {
                if self.force.is_empty() {
                    self.force = vec![SHORT; f.end - f.start];
                }
                self.force[fix.pc as usize - f.start] = fix.form + 1;
                ok = false;
                continue;
            }
            let at = at as usize;
            if fix.form == FAR {
                patch_pair(&mut self.text, at, off);
            } else {
                let bits = pick(short, b_imm(off as i32), j_imm(off as i32));
                self.text[at] |= bits;
            }
        }
        self.local.clear();
        ok
    }

    /// Patches pool loads, calls and function addresses in the text; the
    /// pool starts at word `pool_at`.
    pub(super) fn resolve_global(&mut self, pool_at: usize) -> Result<(), JitError> {
        for k in 0..self.global.len() {
            let fix = self.global[k];
            let at = fix.at as usize;
            match fix.kind {
                GlobalKind::Pool(slot) => {
                    let off = delta(fix.at, pool_at as u32) + 8 * slot as i64;
                    patch_pair(&mut self.text, at, off);
                }
                GlobalKind::AddrOf(func) => {
                    let off = delta(fix.at, self.func_at[func as usize]);
                    patch_pair(&mut self.text, at, off);
                }
                GlobalKind::Call(func) => {
                    let off =
                        delta(fix.at, self.func_at[func as usize]) + TAIL_CALL_ENTRY_OFFSET as i64;
                    if !fits_jal(off) {
                        return Err(JitError::Unsupported {
                            pc: fix.pc as usize,
                            what: "a bpf2bpf call farther than 1 MiB",
                        });
                    }
                    self.text[at] |= j_imm(off as i32);
                }
            }
        }
        Ok(())
    }
}
