//! One function at a time: its instructions are lowered in batches of one
//! opcode byte into the stage, then copied to the text in program order.
//!
//! # Why batches
//!
//! Lowering in program order dispatches on each instruction's kind, and on
//! a realistic mix that dispatch is mispredicted for about every other
//! instruction: measured, the misses cost more than all the encoding work.
//! Sorting a function's pcs by opcode byte (a counting sort: two linear
//! passes) makes every batch run one specialised lowering whose branches
//! all go the same way (`fast.rs`). The price is the copy from the stage
//! to the text, a fixed-size block per instruction, and fix-ups that are
//! recorded at stage positions and translated once the text is laid out.
//!
//! Jump forms are guessed before any position is known, in both directions
//! ([`SHORT_REACH`](super::SHORT_REACH)); a guess that does not reach marks
//! that jump for the next longer form and the function is emitted again.

use super::fixup::EPILOGUE;
use super::Emitter;
use crate::image::Span;
use crate::items::Owner;
use crate::JitError;

/// Pcs lowered and copied per window: the window's stage, order and
/// staged positions stay in the L1 cache (on a whole 100k-instruction
/// function, the copy's reads from the stage missed it).
const WINDOW: usize = 2048;

/// Instructions are copied from the stage in blocks of this many words
/// (longer ones, which are rare, one by one).
const BLOCK: usize = 8;

/// The stage: words appended at a cursor into a buffer kept larger than
/// the cursor, so that appending writes in place, with no length update
/// per word and no zero fill (both showed up as a large share of the
/// compile time). Words past the cursor are stale and never read as code.
#[derive(Default)]
pub(super) struct Stage {
    buf: Vec<u32>,
    len: usize,
}

impl Stage {
    /// Words always writable past the cursor after [`Stage::room`].
    const ROOM: usize = 16;

    pub(super) fn clear(&mut self) {
        self.len = 0;
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The words written so far.
    pub(super) fn words(&self) -> &[u32] {
        &self.buf[..self.len]
    }

    /// Word `at` (already written), for patching an offset into it.
    pub(super) fn word_mut(&mut self, at: usize) -> &mut u32 {
        &mut self.words_mut()[at]
    }

    fn words_mut(&mut self) -> &mut [u32] {
        &mut self.buf[..self.len]
    }

    /// Makes [`Stage::ROOM`] words writable past the cursor.
    #[inline(always)]
    fn room(&mut self) {
        if self.buf.len() < self.len + Self::ROOM {
            self.grow();
        }
    }

    #[cold]
    fn grow(&mut self) {
        let size = (2 * self.buf.len()).max(self.len + 4 * Self::ROOM);
        self.buf.resize(size, 0);
    }

    #[inline(always)]
    pub(super) fn push(&mut self, word: u32) {
        self.room();
        self.buf[self.len] = word;
        self.len += 1;
    }

    /// Appends the words whose flag is set, in order, without a branch per
    /// word: each is stored at the cursor, which advances only when the
    /// flag is set. (Building the group on the stack and copying it stalled
    /// on store forwarding.)
    #[inline(always)]
    pub(super) fn push_present<const N: usize>(&mut self, words: [(u32, bool); N]) {
        const { assert!(N <= Self::ROOM) };
        self.room();
        let out = &mut self.buf[self.len..self.len + N];
        let mut k = 0;
        for (word, present) in words {
            out[k] = word;
            k = (k + present as usize).min(N - 1);
        }
        self.len += words.iter().filter(|w| w.1).count();
    }
}

impl Emitter<'_> {
    /// Emits function `i`, again with longer jump forms while a guess fails.
    pub(super) fn function(&mut self, i: usize) -> Result<(), JitError> {
        let functions = self.functions;
        let f = &functions[i];
        if f.has_tail_call && !f.tail_call_reachable {
            return Err(JitError::Internal(format!(
                "function `{}` tail calls but is not marked tail-call reachable",
                f.name
            )));
        }
        self.func = i;
        self.start = f.start;
        self.frame = crate::frame::FrameLayout::plan(
            f,
            i,
            f.makes_calls,
            &[],
            crate::TccScheme::Reg,
            self.program_has_tail_calls,
        )?;
        self.force.clear();
        let (text, global) = (self.text.len(), self.global.len());
        self.func_at.push(text as u32);
        self.frame_sizes.push(self.frame.size as usize);
        loop {
            self.words.clear();
            self.header_and_prologue();
            self.append_stage();
            let body = self.text.len();
            let mut window = f.start;
            while window < f.end {
                let end = (window + WINDOW).min(f.end);
                self.window(window, end)?;
                window = end;
            }
            self.words.clear();
            self.epilogue();
            let epilogue_at = self.text.len() as u32;
            self.append_stage();
            if self.resolve_local(f, epilogue_at) {
                let epilogue_end = self.text.len() as u32;
                let (text, body) = (text as u32, body as u32);
                for (owner, start, end) in [
                    (Owner::Header(i as u32), text, text + 3),
                    (Owner::Prologue(i as u32), text + 3, body),
                    (Owner::Epilogue(i as u32), epilogue_at, epilogue_end),
                ] {
                    self.spans.push(Span { owner, start, end });
                }
                return Ok(());
            }
            self.text.truncate(text);
            self.global.truncate(global);
        }
    }

    /// Lowers pcs `start..end` of the current function by opcode batches
    /// into the stage, appends them to the text in program order, and
    /// moves the fix-ups they recorded to text positions.
    fn window(&mut self, start: usize, end: usize) -> Result<(), JitError> {
        let (local, global) = (self.local.len(), self.global.len());
        self.window = start;
        self.words.clear();
        self.staged.clear();
        self.staged.resize(end - start, (0, 0));
        let mut order = std::mem::take(&mut self.order);
        let groups = self.by_opcode(start, end, &mut order);
        let lowered = self.lower_batches(&order, &groups);
        self.order = order;
        lowered?;
        self.copy_window(start, end);
        for k in local..self.local.len() {
            let fix = self.local[k];
            self.local[k].at = self.text_pos(fix.pc, fix.at);
        }
        for k in global..self.global.len() {
            let fix = self.global[k];
            self.global[k].at = self.text_pos(fix.pc, fix.at);
        }
        Ok(())
    }

    /// Fills `order` with the pcs `start..end` sorted by opcode byte
    /// (stable); returns where each opcode's run begins (`groups[o]..
    /// groups[o + 1]`).
    fn by_opcode(&self, start: usize, end: usize, order: &mut Vec<u32>) -> [u32; 257] {
        let raw = &self.raw[start..end];
        let mut groups = [0u32; 257];
        for insn in raw {
            groups[insn.opc as usize + 1] += 1;
        }
        for o in 0..256 {
            groups[o + 1] += groups[o];
        }
        let mut next = groups;
        order.clear();
        order.resize(raw.len(), 0);
        for (pc, insn) in (start as u32..).zip(raw) {
            let slot = &mut next[insn.opc as usize];
            order[*slot as usize] = pc;
            *slot += 1;
        }
        groups
    }

    /// Appends the whole stage to the text (header, prologue, epilogue).
    fn append_stage(&mut self) {
        self.text.extend_from_slice(self.words.words());
    }

    /// Appends the staged window `start..end` to the text in program
    /// order, and fills its `pc_map`.
    fn copy_window(&mut self, start: usize, end: usize) {
        let staged_len = self.words.len();
        // Every instruction is copied as a whole block: the stage's spare
        // room (`Stage::ROOM >= BLOCK`) pads its end.
        const { assert!(BLOCK <= Stage::ROOM) };
        self.words.room();
        let stage = &self.words.buf;
        // Every staged word lands in the text exactly once.
        let base = self.text.len();
        self.text.resize(base + staged_len + BLOCK, 0);
        let text = &mut self.text;
        let mut here = base;
        for (pc, &(at, len)) in (start..end).zip(&self.staged) {
            let (at, len) = (at as usize, len as usize);
            self.pc_map[pc] = here as u32;
            if len <= BLOCK {
                text[here..here + BLOCK].copy_from_slice(&stage[at..at + BLOCK]);
            } else {
                text[here..here + len].copy_from_slice(&stage[at..at + len]);
            }
            here += len;
        }
        text.truncate(here);
    }

    /// Text position of stage position `at`, which lies in the words of
    /// `pc` (of the current function, already copied to the text).
    #[inline(always)]
    pub(super) fn text_pos(&self, pc: u32, at: u32) -> u32 {
        let (staged_at, _) = self.staged[pc as usize - self.window];
        self.pc_map[pc as usize] + (at - staged_at)
    }

    /// Target text position of a local jump.
    #[inline(always)]
    pub(super) fn jump_target(&self, target: u32, epilogue_at: u32) -> u32 {
        if target == EPILOGUE {
            epilogue_at
        } else {
            self.pc_map[target as usize]
        }
    }
}
