//! Optional per-instruction execution trace, for debugging generated code.
//!
//! Tracing is off by default. The executor is compiled twice (a const generic
//! flag), so the untraced loop contains no trace code at all.

use std::collections::VecDeque;
use std::fmt;

use crate::decode::decode;
use crate::reg::Reg;

/// One retired instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEntry {
    /// Address of the instruction.
    pub pc: u64,
    /// Raw encoding: the low 16 bits for a compressed instruction.
    pub bits: u32,
    /// Length in bytes (2 or 4).
    pub len: u8,
    /// Register written and its new value, if the instruction wrote one
    /// (writes to `x0` are not reported).
    pub write: Option<(Reg, u64)>,
}

impl TraceEntry {
    /// objdump-style disassembly through the shared decoder and printer
    /// (the base form for compressed encodings).
    pub fn disassembly(&self) -> String {
        let bytes = self.bits.to_le_bytes();
        match decode(&bytes[..usize::from(self.len)]) {
            Ok((inst, _)) => inst.display(self.pc).to_string(),
            Err(e) => format!("<{e}>"),
        }
    }
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 2 {
            write!(
                f,
                "{:#010x}: {:04x}     {}",
                self.pc,
                self.bits,
                self.disassembly()
            )?;
        } else {
            write!(
                f,
                "{:#010x}: {:08x} {}",
                self.pc,
                self.bits,
                self.disassembly()
            )?;
        }
        if let Some((reg, value)) = self.write {
            write!(f, "  ; {reg} = {value:#x}")?;
        }
        Ok(())
    }
}

/// A bounded trace: keeps the most recent `capacity` entries, which is what
/// one wants when a long run ends in a fault.
#[derive(Debug, Clone)]
pub struct Trace {
    entries: VecDeque<TraceEntry>,
    capacity: usize,
    /// Entries dropped because the buffer was full.
    dropped: u64,
}

impl Trace {
    /// A trace keeping at most `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Trace {
            entries: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity,
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, entry: TraceEntry) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    /// The retained entries, oldest first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &TraceEntry> {
        self.entries.iter()
    }

    /// How many older entries were discarded to respect the capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Number of retained entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries retained?
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dropped > 0 {
            writeln!(f, "... {} earlier instructions dropped", self.dropped)?;
        }
        for e in &self.entries {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}
