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
    pub(crate) spans: Vec<Span>,
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
        let i = self.spans.partition_point(|s| s.end as usize <= offset);
        let span = self.spans.get(i).filter(|s| s.start as usize <= offset)?;
        match span.owner {
            Owner::Insn(pc) => Some(pc as usize),
            _ => None,
        }
    }

    /// Annotated listing: each function's header, prologue, every BPF
    /// instruction followed by the RV64 instructions it became (offset,
    /// bytes, text from rv64's printer), the epilogue, then the pool.
    pub fn listing(&self) -> String {
        let mut s = String::new();
        let text = &self.code[..self.text_len];
        for span in &self.spans {
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
