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

/// Instructions are copied from the stage in blocks of this many words
/// (longer ones, which are rare, one by one).
const BLOCK: usize = 8;

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
        self.staged.clear();
        self.staged.resize(f.end - f.start, (0, 0));
        let (order, groups) = self.by_opcode(f.start, f.end);
        let (text, global) = (self.text.len(), self.global.len());
        self.func_at.push(text as u32);
        self.frame_sizes.push(self.frame.size as usize);
        loop {
            self.words.clear();
            self.header_and_prologue();
            let body = self.words.len();
            self.lower_batches(&order, &groups)?;
            let epilogue = self.words.len();
            self.epilogue();
            let epilogue_at = self.copy_to_text(f.start, f.end, body, epilogue);
            if self.resolve_local(f, epilogue_at) {
                self.translate_global(global);
                let at = |n: usize| (text + n) as u32;
                let epilogue_len = (self.words.len() - epilogue) as u32;
                for (owner, start, end) in [
                    (Owner::Header(i as u32), at(0), at(3)),
                    (Owner::Prologue(i as u32), at(3), at(body)),
                    (
                        Owner::Epilogue(i as u32),
                        epilogue_at,
                        epilogue_at + epilogue_len,
                    ),
                ] {
                    self.spans.push(Span { owner, start, end });
                }
                return Ok(());
            }
            self.text.truncate(text);
            self.global.truncate(global);
        }
    }

    /// The pcs `start..end` sorted by opcode byte (stable), and where each
    /// opcode's run begins (`groups[o]..groups[o + 1]`).
    fn by_opcode(&self, start: usize, end: usize) -> (Vec<u32>, [u32; 257]) {
        let raw = &self.raw[start..end];
        let mut groups = [0u32; 257];
        for insn in raw {
            groups[insn.opc as usize + 1] += 1;
        }
        for o in 0..256 {
            groups[o + 1] += groups[o];
        }
        let mut next = groups;
        let mut order = vec![0u32; raw.len()];
        for (pc, insn) in (start as u32..).zip(raw) {
            let slot = &mut next[insn.opc as usize];
            order[*slot as usize] = pc;
            *slot += 1;
        }
        (order, groups)
    }

    /// Appends the staged function to the text in program order: header and
    /// prologue (`..body`), each pc's words, the epilogue (`epilogue..`).
    /// Fills `pc_map`; returns the text position of the epilogue.
    fn copy_to_text(&mut self, start: usize, end: usize, body: usize, epilogue: usize) -> u32 {
        let staged_len = self.words.len();
        // Padding so that every instruction can be copied as a whole block.
        self.words.extend_from_slice(&[0; BLOCK]);
        let stage = &self.words;
        let text = &mut self.text;
        text.extend_from_slice(&stage[..body]);
        for (pc, &(at, len)) in (start..end).zip(&self.staged) {
            let (at, len) = (at as usize, len as usize);
            let here = text.len();
            self.pc_map[pc] = here as u32;
            if len <= BLOCK {
                text.extend_from_slice(&stage[at..at + BLOCK]);
                text.truncate(here + len);
            } else {
                text.extend_from_slice(&stage[at..at + len]);
            }
        }
        let epilogue_at = text.len() as u32;
        text.extend_from_slice(&stage[epilogue..staged_len]);
        self.words.truncate(staged_len);
        epilogue_at
    }

    /// Text position of stage position `at`, which lies in the words of
    /// `pc` (of the current function, already copied to the text).
    #[inline(always)]
    pub(super) fn text_pos(&self, pc: u32, at: u32) -> u32 {
        let (staged_at, _) = self.staged[pc as usize - self.start];
        self.pc_map[pc as usize] + (at - staged_at)
    }

    /// The current function's global fix-ups (from index `first`) move
    /// from stage to text positions.
    fn translate_global(&mut self, first: usize) {
        for k in first..self.global.len() {
            let fix = self.global[k];
            self.global[k].at = self.text_pos(fix.pc, fix.at);
        }
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
