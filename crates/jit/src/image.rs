//! The JIT's output: position-independent code, its entry points, the BPF pc
//! map, the relocations the loader must apply, and an annotated listing.

use crate::items::Owner;
use rvbpf_rv64::{disassemble_one, Target};
use std::fmt::Write;

/// What the loader writes into an 8-byte literal-pool slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelocKind {
    /// Address of helper `n` (Linux numbering), called with the C ABI.
    Helper(i32),
    /// Address of kfunc `i` (index into `Object::kfuncs`).
    Kfunc(u32),
    /// Address of the runtime's helper dispatcher for `callx`: a C-ABI
    /// function `(r1, r2, r3, r4, r5, helper_number) -> r0`; it must reject
    /// unknown numbers itself.
    HelperDispatch,
    /// Handle of map `i` (whatever the runtime's helpers expect as `map`).
    MapHandle(u32),
    /// Handle of prog-array map `i`: the address of its prog-array view
    /// (`u32 max_entries, u32 0, u64 entry[]`, see the crate docs).
    ProgArray(u32),
    /// Address of byte `offset` of map `map`'s value (global data).
    MapValue { map: u32, offset: u32 },
    /// Address of the runtime's legacy packet-load routine (`ldabs`/`ldind`).
    /// Not C ABI: offset (i64) in t0, size in bytes in t2; returns the
    /// big-endian value converted to host order in a5 (BPF R0) and t0 = 1,
    /// or a5 = 0 and t0 = 0 when `[offset, offset + size)` is not inside
    /// the packet. Every other register except t1 and ra is preserved.
    LoadPacket,
}

/// What an 8-byte literal-pool slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolEntry {
    /// A value the loader supplies (listed in [`Image::relocs`]).
    Reloc(RelocKind),
    /// A 64-bit constant too expensive to build inline (filled by the JIT).
    Const(u64),
}

/// A relocation: write the 8-byte value for `kind` at `offset` in `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reloc {
    pub offset: usize,
    pub kind: RelocKind,
}

/// One function of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionEntry {
    pub name: String,
    /// Offset of the function's header (its published entry point).
    pub offset: usize,
    /// Bytes the prologue subtracts from sp.
    pub frame_size: usize,
}

/// A contiguous code range produced for one owner (for the listing and
/// [`Image::pc_at`]); one per BPF instruction, hence 32-bit offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub owner: Owner,
    pub start: u32,
    pub end: u32,
}

/// Which code each owner produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Spans {
    /// Every owner run, in code order (the optimizing tier).
    Runs(Vec<Span>),
    /// Per function its header, prologue and epilogue, with its pcs' code
    /// tiling the range between prologue and epilogue in pc order (each
    /// pc's from its `pc_map` entry to the next one's). The baseline tier's
    /// code has this shape by construction; one span per instruction was a
    /// measurable share of its compile time.
    Tiled(Vec<FunctionTiles>),
}

/// One function of [`Spans::Tiled`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FunctionTiles {
    pub header: Span,
    pub prologue: Span,
    pub epilogue: Span,
    /// The function's pcs.
    pub pcs: std::ops::Range<u32>,
}

/// A compiled program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Text, `nop` padding to 8 bytes, then the literal pool (constants
    /// filled in; relocated slots zero until the loader applies `relocs`).
    pub code: Vec<u8>,
    /// Bytes of instructions at the start of `code`.
    pub text_len: usize,
    /// Functions in program order; `functions[0]` is the entry.
    pub functions: Vec<FunctionEntry>,
    /// Offset from a function's start to its tail-call entry
    /// ([`crate::TAIL_CALL_ENTRY_OFFSET`]).
    pub tail_call_entry_offset: usize,
    /// Code offset of the first instruction of each BPF pc (a `lddw` second
    /// slot maps to where the next instruction starts).
    pub pc_map: Vec<usize>,
    pub relocs: Vec<Reloc>,
    /// Every pool slot in order, starting at `align8(text_len)`.
    pub pool: Vec<PoolEntry>,
    /// The target the code was compiled for.
    pub target: Target,
    pub(crate) spans: Spans,
    /// The BPF instructions, formatted only by [`Image::listing`] (eager
    /// formatting was a large share of compile time).
    pub(crate) bpf_insts: std::sync::Arc<[rvbpf_ebpf::inst::Inst]>,
}

impl Image {
    /// Offset of the entry function (always 0).
    pub fn entry(&self) -> usize {
        self.functions[0].offset
    }

    /// The code with every relocation applied: `resolve` gives the 8-byte
    /// value of each pool slot (helper/kfunc/dispatcher address, map handle,
    /// prog-array view address, map value address). The result runs at any
    /// address (the code is position-independent).
    pub fn linked(&self, mut resolve: impl FnMut(&RelocKind) -> u64) -> Vec<u8> {
        let mut code = self.code.clone();
        for r in &self.relocs {
            code[r.offset..r.offset + 8].copy_from_slice(&resolve(&r.kind).to_le_bytes());
        }
        code
    }

    /// The BPF pc whose lowering contains code offset `offset` (for
    /// attributing a fault to an instruction); `None` in headers,
    /// prologues, epilogues, padding and the pool.
    pub fn pc_at(&self, offset: usize) -> Option<usize> {
        match &self.spans {
            Spans::Runs(spans) => {
                let i = spans.partition_point(|s| s.end as usize <= offset);
                let span = spans.get(i).filter(|s| s.start as usize <= offset)?;
                match span.owner {
                    Owner::Insn(pc) => Some(pc as usize),
                    _ => None,
                }
            }
            Spans::Tiled(functions) => {
                let i = functions.partition_point(|f| f.header.start as usize <= offset);
                let f = &functions[i.checked_sub(1)?];
                if offset < f.prologue.end as usize || offset >= f.epilogue.start as usize {
                    return None;
                }
                // The last pc starting at or before `offset` (an empty pc,
                // a `lddw` second slot, shares its start with the next).
                let starts = &self.pc_map[f.pcs.start as usize..f.pcs.end as usize];
                let k = starts.partition_point(|&at| at <= offset);
                Some(f.pcs.start as usize + k.checked_sub(1)?)
            }
        }
    }

    /// Every owner run in code order.
    fn span_list(&self) -> std::borrow::Cow<'_, [Span]> {
        let functions = match &self.spans {
            Spans::Runs(spans) => return std::borrow::Cow::Borrowed(spans),
            Spans::Tiled(functions) => functions,
        };
        let mut out = Vec::with_capacity(self.pc_map.len() + 3 * functions.len());
        for f in functions {
            out.extend([f.header, f.prologue]);
            for pc in f.pcs.clone() {
                let end = if pc + 1 < f.pcs.end {
                    self.pc_map[pc as usize + 1]
                } else {
                    f.epilogue.start as usize
                };
                out.push(Span {
                    owner: Owner::Insn(pc),
                    start: self.pc_map[pc as usize] as u32,
                    end: end as u32,
                });
            }
            out.push(f.epilogue);
        }
        std::borrow::Cow::Owned(out)
    }

    /// Annotated listing: each function's header, prologue, every BPF
    /// instruction followed by the RV64 instructions it became (offset,
    /// bytes, text from rv64's printer), the epilogue, then the pool.
    pub fn listing(&self) -> String {
        let mut s = String::new();
        let text = &self.code[..self.text_len];
        for span in self.span_list().iter() {
            let heading = match span.owner {
                Owner::Header(f) => {
                    let f = &self.functions[f as usize];
                    format!("\n<{}> (frame {} bytes):\n  ; header", f.name, f.frame_size)
                }
                Owner::Prologue(_) => "  ; prologue".to_string(),
                Owner::Epilogue(_) => "  ; epilogue".to_string(),
                // A lddw second slot has no code of its own.
                Owner::Insn(pc) => {
                    let text = rvbpf_ebpf::disasm::format_inst(&self.bpf_insts[pc as usize]);
                    if span.start == span.end && text.is_empty() {
                        continue;
                    }
                    format!("  {pc:>4}: {text}")
                }
            };
            let _ = writeln!(s, "{heading}");
            let (mut at, end) = (span.start as usize, span.end as usize);
            while at < end {
                let (len, txt) = disassemble_one(&text[at..end], at as u64);
                let hex: Vec<String> = text[at..at + len]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let _ = writeln!(s, "        {at:6x}: {:<12} {txt}", hex.join(" "));
                at += len;
            }
        }
        if !self.pool.is_empty() {
            let _ = writeln!(s, "\n<pool>:");
            let base = (self.text_len + 7) & !7;
            for (i, entry) in self.pool.iter().enumerate() {
                let at = base + 8 * i;
                let _ = match entry {
                    PoolEntry::Reloc(kind) => writeln!(s, "        {at:6x}: .quad {kind:?}"),
                    PoolEntry::Const(v) => writeln!(s, "        {at:6x}: .quad {v:#x}"),
                };
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use crate::{compile_baseline, JitOptions};
    use rvbpf_ebpf::asm::assemble_object;
    use rvbpf_ebpf::verifier::{verify, VerifyEnv};

    #[test]
    fn tiled_pc_at_agrees_with_a_scan_of_every_span() {
        // Two functions; a lddw (whose second slot has no code) and an
        // `exit` that ends each function (no code of its own either).
        let src = "mov %r6, 1\nlddw %r0, 0x123456789\ncall local f\nadd %r0, %r6\nexit\n\
                   f:\nlddw %r0, 7\nexit";
        let obj = assemble_object("spans", src).unwrap();
        let env = VerifyEnv {
            helper_known: &|_| true,
            kfunc_known: &|_| true,
            entry_args: 1,
        };
        let prog = verify(&obj, 0, &env).unwrap();
        let image = compile_baseline(&prog, &JitOptions::default()).unwrap();
        assert!(matches!(image.spans, super::Spans::Tiled(_)));
        let spans = image.span_list();
        let scan = |offset: usize| {
            spans
                .iter()
                .find(|s| (s.start as usize..s.end as usize).contains(&offset))
                .and_then(|s| match s.owner {
                    super::Owner::Insn(pc) => Some(pc as usize),
                    _ => None,
                })
        };
        for offset in 0..image.code.len() + 8 {
            assert_eq!(image.pc_at(offset), scan(offset), "offset {offset:#x}");
        }
        // The scan itself: pc 0's code is where the pc map says.
        assert_eq!(scan(image.pc_map[0]), Some(0));
    }
}
