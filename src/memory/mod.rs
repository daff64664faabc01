//! The VM address space: every byte a BPF program can touch (ctx, packet,
//! stack, map values, global data) lives in a [`Region`] at a fixed **VM
//! address**, and every access goes through a bounds check.
//!
//! Layout (one 64-bit address space, shared by every engine; the JIT's
//! emulator maps the same regions at the same addresses):
//!
//! ```text
//!  VM address                  region                     notes
//!  0x0000_0000_0000_0000  ┌──────────────────────────┐
//!                         │ unmapped (null guard)    │  any access faults
//!  0x0000_0000_1000_0000  ├──────────────────────────┤
//!                         │ CTX                      │  __sk_buff / xdp_md / raw bytes
//!  0x0000_0000_1800_0000  ├──────────────────────────┤
//!                         │ TRACE_CTX (read-only)    │  u64 args (+ ret) of a traced fn
//!  0x0000_0000_2000_0000  ├──────────────────────────┤
//!                         │ PACKET                   │  skb/xdp data .. data_end
//!  0x0000_0000_3000_0000  ├──────────────────────────┤
//!                         │ MAP_DESC (read-only)     │  32-byte descriptor per map;
//!                         │                          │  a map "handle" points here
//!  0x0000_0000_4000_0000  ├──────────────────────────┤
//!                         │ STACK (grows down)       │  frames, innermost lowest
//!  0x0000_0000_4004_0000  ├──────────────────────────┤  (STACK_SIZE = 256 KiB)
//!                         │ unmapped                 │
//!  0x0000_0001_0000_0000  ├──────────────────────────┤
//!                         │ MAP 0 values             │  map i at MAPS_BASE + i*MAP_STRIDE
//!  0x0000_0001_1000_0000  ├──────────────────────────┤
//!                         │ MAP 1 values  ...        │  (each ≤ 256 MiB)
//!                         └──────────────────────────┘
//! ```
//!
//! Everything lies below 2^36 (64 GiB), the range `rvbpf_jit::Sandbox::Masked`
//! code confines its accesses to; hence at most [`MAX_MAPS`] = 240 maps.
//!
//! Ctx and packet sit below 4 GiB because `__sk_buff.data`/`data_end` and
//! `xdp_md.data`/`data_end` are u32 fields.
//!
//! The stack region has a movable lower bound ([`Memory::set_stack_floor`]):
//! bytes below the innermost frame are out of bounds, so a frame cannot
//! touch memory it has not allocated, while callers' frames stay reachable
//! through pointers passed down to callees.
//!
//! Regions own their storage as a `Vec<u8>` that can be taken out
//! ([`Memory::take_region_data`]) and put back, so another engine can run on
//! the same bytes without copying.

use std::fmt;

/// Base of the ctx region.
pub const CTX_BASE: u64 = 0x1000_0000;
/// Base of the tracing-program argument region.
pub const TRACE_CTX_BASE: u64 = 0x1800_0000;
/// Base of the packet region.
pub const PACKET_BASE: u64 = 0x2000_0000;
/// Base of the map descriptor region (map handles point into it).
pub const MAP_DESC_BASE: u64 = 0x3000_0000;
/// Size of one map descriptor.
pub const MAP_DESC_SIZE: u64 = 32;
/// Lowest address of the stack region.
pub const STACK_BASE: u64 = 0x4000_0000;
/// Size of the whole stack region (all frames of one run, tracers included).
/// Live frames pile up through tail calls made from subprograms: about
/// 34 chains x 512 bytes of BPF stack, twice with a tracer's own chains,
/// plus the JIT's saved registers per frame.
pub const STACK_SIZE: usize = 256 * 1024;
/// One past the highest stack byte: r10 of the outermost frame.
pub const STACK_TOP: u64 = STACK_BASE + STACK_SIZE as u64;
/// Base of map value storage.
pub const MAPS_BASE: u64 = 0x1_0000_0000;
/// Address distance between the value regions of consecutive maps.
pub const MAP_STRIDE: u64 = 0x1000_0000;
/// Largest region a packet or raw ctx may occupy (it must stay below the next region).
pub const MAX_CTX_BYTES: usize = 0x0800_0000;
/// Most maps (global sections included) one VM holds: map values must end
/// below `2^rvbpf_jit::SANDBOX_BITS` (64 GiB), the range `Sandbox::Masked`
/// JIT code can reach, so `(2^36 - MAPS_BASE) / MAP_STRIDE` = 240.
/// `Maps::create` refuses more with `MapError::TooManyMaps`.
pub const MAX_MAPS: u32 = ((rvbpf_jit::SANDBOX_SIZE - MAPS_BASE) / MAP_STRIDE) as u32;

// Every fixed region lies below the masked range too (the stack is the
// highest of them).
const _: () = assert!(STACK_TOP <= MAPS_BASE && MAPS_BASE < rvbpf_jit::SANDBOX_SIZE);
const _: () = assert!(MAPS_BASE + MAX_MAPS as u64 * MAP_STRIDE <= rvbpf_jit::SANDBOX_SIZE);

/// Whether an access reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// What a region holds (for error messages and for engines mapping regions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    Ctx,
    TraceCtx,
    Packet,
    MapDesc,
    Stack,
    /// Value storage of a map (by map index in the VM).
    MapValues(u32),
}

/// A faulting access, before the engine attaches its pc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MemFault {
    #[error("{access} of {size} bytes at {addr:#x} is out of bounds")]
    OutOfBounds {
        addr: u64,
        size: usize,
        access: Access,
    },
    #[error("write of {size} bytes at {addr:#x} hits a read-only region")]
    ReadOnly { addr: u64, size: usize },
}

/// One contiguous piece of the address space.
#[derive(Clone, Debug)]
pub struct Region {
    pub kind: RegionKind,
    /// VM address of `data[0]`.
    pub base: u64,
    /// Lowest valid offset (non-zero only for the stack: the innermost frame's bottom).
    pub floor: usize,
    /// Whether BPF code may write (`false` for `.rodata`, trace ctx, map descriptors).
    pub writable: bool,
    pub data: Vec<u8>,
}

impl Region {
    /// Offset of `[addr, addr+size)` inside the region, if it lies within `[floor, len)`.
    #[inline(always)]
    fn offset_of(&self, addr: u64, size: usize) -> Option<usize> {
        let off = addr.wrapping_sub(self.base);
        let len = self.data.len() as u64;
        if off >= self.floor as u64 && off <= len && size as u64 <= len - off {
            Some(off as usize)
        } else {
            None
        }
    }
}

/// Index of a region inside [`Memory`].
pub type RegionId = usize;

/// Fixed region indices (created by [`Memory::new`]).
pub const REGION_CTX: RegionId = 0;
pub const REGION_TRACE_CTX: RegionId = 1;
pub const REGION_PACKET: RegionId = 2;
pub const REGION_MAP_DESC: RegionId = 3;
pub const REGION_STACK: RegionId = 4;

/// The whole address space: regions sorted by base address.
#[derive(Clone, Debug)]
pub struct Memory {
    regions: Vec<Region>,
    /// Region hit by the last access: the fast path checks it first.
    last: usize,
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Memory {
    /// The fixed regions (ctx, trace ctx, packet, map descriptors, stack), all empty but the stack.
    pub fn new() -> Memory {
        let mk = |kind, base, writable, len: usize| Region {
            kind,
            base,
            floor: 0,
            writable,
            data: vec![0; len],
        };
        Memory {
            regions: vec![
                mk(RegionKind::Ctx, CTX_BASE, true, 0),
                mk(RegionKind::TraceCtx, TRACE_CTX_BASE, false, 0),
                mk(RegionKind::Packet, PACKET_BASE, true, 0),
                mk(RegionKind::MapDesc, MAP_DESC_BASE, false, 0),
                mk(RegionKind::Stack, STACK_BASE, true, STACK_SIZE),
            ],
            last: REGION_STACK,
        }
    }

    /// Adds a region above every existing one (maps are added in id order).
    pub fn add_region(&mut self, region: Region) -> RegionId {
        if let Some(last) = self.regions.last() {
            debug_assert!(
                last.base < region.base,
                "regions must be added in address order"
            );
        }
        self.regions.push(region);
        self.regions.len() - 1
    }

    pub fn region(&self, id: RegionId) -> &Region {
        &self.regions[id]
    }
    pub fn region_mut(&mut self, id: RegionId) -> &mut Region {
        &mut self.regions[id]
    }
    /// All regions, sorted by base address (for engines that map them).
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Takes a region's bytes out (leaving it empty) so another engine can own them.
    pub fn take_region_data(&mut self, id: RegionId) -> Vec<u8> {
        std::mem::take(&mut self.regions[id].data)
    }
    /// Puts bytes taken by [`Memory::take_region_data`] back.
    pub fn put_region_data(&mut self, id: RegionId, data: Vec<u8>) {
        self.regions[id].data = data;
    }

    /// Sets the lowest valid stack address (the innermost frame's bottom).
    #[inline]
    pub fn set_stack_floor(&mut self, addr: u64) {
        self.regions[REGION_STACK].floor = (addr - STACK_BASE) as usize;
    }
    /// The lowest valid stack address.
    #[inline]
    pub fn stack_floor(&self) -> u64 {
        STACK_BASE + self.regions[REGION_STACK].floor as u64
    }

    /// Finds the region holding `[addr, addr+size)`: cached region first, then a binary search.
    #[inline(always)]
    fn locate(
        &mut self,
        addr: u64,
        size: usize,
        access: Access,
    ) -> Result<(RegionId, usize), MemFault> {
        if let Some(off) = self.regions[self.last].offset_of(addr, size) {
            return Ok((self.last, off));
        }
        self.locate_slow(addr, size, access)
    }

    #[cold]
    fn locate_slow(
        &mut self,
        addr: u64,
        size: usize,
        access: Access,
    ) -> Result<(RegionId, usize), MemFault> {
        // Programs alternate mostly between the stack and one other region.
        if let Some(off) = self.regions[REGION_STACK].offset_of(addr, size) {
            return Ok((REGION_STACK, off));
        }
        let idx = self.regions.partition_point(|r| r.base <= addr);
        let fault = MemFault::OutOfBounds { addr, size, access };
        let id = idx.checked_sub(1).ok_or(fault)?;
        let off = self.regions[id].offset_of(addr, size).ok_or(fault)?;
        self.last = id;
        Ok((id, off))
    }

    /// Bytes `[addr, addr+len)` for reading.
    #[inline]
    pub fn slice(&mut self, addr: u64, len: usize) -> Result<&[u8], MemFault> {
        let (id, off) = self.locate(addr, len, Access::Read)?;
        Ok(&self.regions[id].data[off..off + len])
    }

    /// Bytes `[addr, addr+len)` for writing (fails on read-only regions).
    #[inline]
    pub fn slice_mut(&mut self, addr: u64, len: usize) -> Result<&mut [u8], MemFault> {
        let (id, off) = self.locate(addr, len, Access::Write)?;
        let r = &mut self.regions[id];
        if !r.writable {
            return Err(MemFault::ReadOnly { addr, size: len });
        }
        Ok(&mut r.data[off..off + len])
    }

    /// Loads a little-endian value of `size` (1, 2, 4 or 8) bytes, zero-extended.
    /// (Other sizes are bounds-checked as given and read as their first ≤ 8 bytes.)
    #[inline(always)]
    pub fn load(&mut self, addr: u64, size: usize) -> Result<u64, MemFault> {
        // Fast path: the region of the previous access, bytes read in place.
        let r = &self.regions[self.last];
        if let Some(off) = r.offset_of(addr, size) {
            return Ok(read_le(&r.data[off..], size));
        }
        let b = self.slice(addr, size)?;
        Ok(read_le(b, size))
    }

    /// Stores the low `size` (1, 2, 4 or 8) bytes of `value`, little-endian.
    #[inline(always)]
    pub fn store(&mut self, addr: u64, size: usize, value: u64) -> Result<(), MemFault> {
        let last = self.last;
        let r = &mut self.regions[last];
        if r.writable {
            if let Some(off) = r.offset_of(addr, size) {
                write_le(&mut r.data[off..], size, value);
                return Ok(());
            }
        }
        let b = self.slice_mut(addr, size)?;
        write_le(b, size, value);
        Ok(())
    }

    /// [`Memory::load`] for an address that is most likely on the stack
    /// (an r10-based access): the stack region is tried before the cache.
    /// Same result and faults as `load`.
    #[inline(always)]
    pub fn load_stack(&mut self, addr: u64, size: usize) -> Result<u64, MemFault> {
        let r = &self.regions[REGION_STACK];
        if let Some(off) = r.offset_of(addr, size) {
            return Ok(read_le(&r.data[off..], size));
        }
        self.load(addr, size)
    }

    /// [`Memory::store`] for an address that is most likely on the stack
    /// (the stack is always writable). Same effect and faults as `store`.
    #[inline(always)]
    pub fn store_stack(&mut self, addr: u64, size: usize, value: u64) -> Result<(), MemFault> {
        let r = &mut self.regions[REGION_STACK];
        if let Some(off) = r.offset_of(addr, size) {
            write_le(&mut r.data[off..], size, value);
            return Ok(());
        }
        self.store(addr, size, value)
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
    /// Stops at the end of the region if no NUL is found within `max` bytes.
    pub fn c_string(&mut self, addr: u64, max: usize) -> Result<Vec<u8>, MemFault> {
        let (id, off) = self.locate(addr, 1, Access::Read)?;
        let data = &self.regions[id].data[off..];
        let data = &data[..data.len().min(max)];
        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        Ok(data[..end].to_vec())
    }
}

/// Little-endian integer of `size` (1, 2, 4, 8) bytes at the start of `b`.
#[inline(always)]
fn read_le(b: &[u8], size: usize) -> u64 {
    match size {
        // One bounds check and one load each (`offset_of` guarantees the length).
        1 => b[0] as u64,
        2 => u16::from_le_bytes(*b.first_chunk().expect("2 bytes")) as u64,
        4 => u32::from_le_bytes(*b.first_chunk().expect("4 bytes")) as u64,
        8 => u64::from_le_bytes(*b.first_chunk().expect("8 bytes")),
        // Other widths only come from host callers (helpers): at most 8 bytes count.
        n => {
            let k = n.min(8);
            let mut w = [0u8; 8];
            w[..k].copy_from_slice(&b[..k]);
            u64::from_le_bytes(w)
        }
    }
}

/// Writes the low `size` bytes of `v` little-endian at the start of `b`.
#[inline(always)]
fn write_le(b: &mut [u8], size: usize, v: u64) {
    match size {
        1 => b[0] = v as u8,
        2 => b[..2].copy_from_slice(&(v as u16).to_le_bytes()),
        4 => b[..4].copy_from_slice(&(v as u32).to_le_bytes()),
        8 => b[..8].copy_from_slice(&v.to_le_bytes()),
        n => {
            let k = n.min(8);
            b[..k].copy_from_slice(&v.to_le_bytes()[..k]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_floor_bounds_accesses() {
        let mut m = Memory::new();
        m.set_stack_floor(STACK_TOP - 16);
        assert!(m.store(STACK_TOP - 8, 8, 7).is_ok());
        assert_eq!(m.load(STACK_TOP - 8, 8), Ok(7));
        assert_eq!(
            m.load(STACK_TOP - 24, 8),
            Err(MemFault::OutOfBounds {
                addr: STACK_TOP - 24,
                size: 8,
                access: Access::Read
            })
        );
        // Straddling the top of the stack.
        assert!(m.load(STACK_TOP - 4, 8).is_err());
    }

    #[test]
    fn odd_sizes_are_checked_and_never_panic() {
        let mut m = Memory::new();
        m.set_stack_floor(STACK_TOP - 16);
        assert!(m.store(STACK_TOP - 3, 3, 0x0102_0304).is_ok());
        assert_eq!(m.load(STACK_TOP - 3, 3), Ok(0x02_0304));
        assert!(m.load(STACK_TOP - 2, 3).is_err());
        // A 16-byte read is bounds-checked as 16 and yields its first 8 bytes (still zero).
        assert_eq!(m.load(STACK_TOP - 16, 16), Ok(0));
        assert!(m.load(STACK_TOP - 16, 0).is_ok());
    }

    #[test]
    fn null_and_wraparound_fault() {
        let mut m = Memory::new();
        assert!(m.load(0, 1).is_err());
        assert!(m.load(u64::MAX, 8).is_err());
        assert!(m.load(STACK_BASE.wrapping_sub(1), 2).is_err());
    }

    #[test]
    fn read_only_regions_reject_writes() {
        let mut m = Memory::new();
        m.add_region(Region {
            kind: RegionKind::MapValues(0),
            base: MAPS_BASE,
            floor: 0,
            writable: false,
            data: vec![1, 2, 3, 4],
        });
        assert_eq!(m.load(MAPS_BASE + 1, 2), Ok(0x0302));
        assert_eq!(
            m.store(MAPS_BASE, 1, 0),
            Err(MemFault::ReadOnly {
                addr: MAPS_BASE,
                size: 1
            })
        );
    }
}
