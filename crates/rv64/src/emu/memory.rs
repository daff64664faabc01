//! Guest memory: a small set of named, non-overlapping regions, each backed
//! by its own `Vec<u8>` and carrying R/W/X permissions.
//!
//! The backing vectors can be taken out and put back without copying, so a
//! runtime can lend its own buffers (for example BPF map storage) to the guest
//! for the duration of a run.
//!
//! Guest accesses go through the `guest_*` methods used by the executor; they
//! check bounds and permissions and return [`GuestTrap`] instead of building
//! an error, so the executor can attach the pc. Host accesses (`read`, `write`,
//! ...) ignore permissions but still require the bytes to lie in one region.

use super::decoded::Decoded;
use super::error::MemoryError;

/// Access permissions of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Perms {
    /// Guest loads allowed.
    pub read: bool,
    /// Guest stores allowed.
    pub write: bool,
    /// Guest instruction fetch allowed.
    pub exec: bool,
}

impl Perms {
    /// Read-only data.
    pub const R: Perms = Perms {
        read: true,
        write: false,
        exec: false,
    };
    /// Read-write data (stack, maps, context).
    pub const RW: Perms = Perms {
        read: true,
        write: true,
        exec: false,
    };
    /// Code: readable and executable, not writable.
    pub const RX: Perms = Perms {
        read: true,
        write: false,
        exec: true,
    };
    /// Execute-only code.
    pub const X: Perms = Perms {
        read: false,
        write: false,
        exec: true,
    };
    /// Everything; guest stores into it invalidate decoded instructions.
    pub const RWX: Perms = Perms {
        read: true,
        write: true,
        exec: true,
    };
}

impl std::fmt::Display for Perms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            flag(self.read, 'r'),
            flag(self.write, 'w'),
            flag(self.exec, 'x')
        )
    }
}

/// Handle to a region of one [`Memory`], returned by [`Memory::add_region`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionId(pub(crate) usize);

/// One named guest region.
#[derive(Debug, Clone)]
pub struct Region {
    name: String,
    base: u64,
    size: u64,
    perms: Perms,
    /// Backing bytes; empty while taken out by [`Memory::take_data`], in
    /// which case every guest access to the region faults.
    data: Vec<u8>,
    /// Lazily filled decoded-instruction cache of an executable region: one
    /// slot per 2-byte parcel, `Decoded::NOT_DECODED` until first executed.
    /// Emptied whenever the host writes the region.
    pub(crate) decoded: Vec<Decoded>,
}

impl Region {
    /// The region's name, unique within its memory.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// First guest address of the region.
    pub fn base(&self) -> u64 {
        self.base
    }
    /// Declared size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// One past the last guest address (`base + size`).
    pub fn end(&self) -> u64 {
        self.base + self.size
    }
    /// Guest permissions.
    pub fn perms(&self) -> Perms {
        self.perms
    }
    /// Current backing bytes (empty while taken out).
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// Whether the backing store is currently present.
    pub fn is_backed(&self) -> bool {
        self.data.len() as u64 == self.size
    }
    fn contains(&self, addr: u64) -> bool {
        addr.wrapping_sub(self.base) < self.size
    }
    /// Offset of `[addr, addr+n)` inside the live backing store, if it fits.
    #[inline(always)]
    fn offset_of(&self, addr: u64, n: usize) -> Option<usize> {
        let off = addr.wrapping_sub(self.base);
        let len = self.data.len() as u64;
        (off < len && len - off >= n as u64).then_some(off as usize)
    }
}

/// Why a guest access failed inside [`Memory`]; the executor turns it into
/// an `EmuError` (adding the pc) or handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuestTrap {
    /// Out of bounds, across regions, or missing permission.
    Fault,
    /// The store succeeded but hit an executable region whose decoded
    /// instructions were dropped; the executor must drop any it holds.
    CodeWritten(RegionId),
}

/// The guest address space: named regions with permissions.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    regions: Vec<Region>,
    /// Index of the region that served the last data access; tried first.
    hint: usize,
}

impl Memory {
    /// An empty address space.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `data` at `base` with `perms`; the region's size is `data.len()`.
    pub fn add_region(
        &mut self,
        name: impl Into<String>,
        base: u64,
        perms: Perms,
        data: Vec<u8>,
    ) -> Result<RegionId, MemoryError> {
        let name = name.into();
        let size = data.len() as u64;
        if size == 0 || base.checked_add(size).is_none() {
            return Err(MemoryError::BadRange { name, base, size });
        }
        if perms.exec && base & 1 != 0 {
            return Err(MemoryError::MisalignedCode { name, base });
        }
        if self.regions.iter().any(|r| r.name == name) {
            return Err(MemoryError::DuplicateName { name });
        }
        if let Some(other) = self
            .regions
            .iter()
            .find(|r| base < r.end() && r.base < base + size)
        {
            let other = other.name.clone();
            return Err(MemoryError::Overlap {
                name,
                base,
                size,
                other,
            });
        }
        self.regions.push(Region {
            name,
            base,
            size,
            perms,
            data,
            decoded: Vec::new(),
        });
        Ok(RegionId(self.regions.len() - 1))
    }

    /// Maps `size` zero bytes at `base` with `perms`.
    pub fn add_zeroed_region(
        &mut self,
        name: impl Into<String>,
        base: u64,
        size: u64,
        perms: Perms,
    ) -> Result<RegionId, MemoryError> {
        let name = name.into();
        let Ok(len) = usize::try_from(size) else {
            return Err(MemoryError::BadRange { name, base, size });
        };
        self.add_region(name, base, perms, vec![0; len])
    }

    /// All regions, in the order they were added (index = `RegionId`).
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The region behind `id`.
    ///
    /// # Panics
    /// If `id` came from a different `Memory` with fewer regions.
    pub fn region(&self, id: RegionId) -> &Region {
        &self.regions[id.0]
    }

    /// Looks a region up by name.
    pub fn region_id(&self, name: &str) -> Option<RegionId> {
        self.regions
            .iter()
            .position(|r| r.name == name)
            .map(RegionId)
    }

    /// The region containing `addr`, if any.
    pub fn region_at(&self, addr: u64) -> Option<RegionId> {
        self.regions
            .iter()
            .position(|r| r.contains(addr))
            .map(RegionId)
    }

    /// Takes the backing store out of a region without copying. Until
    /// [`put_data`](Self::put_data) gives one back, guest accesses to the
    /// region fault and host accesses return `Unmapped`.
    pub fn take_data(&mut self, id: RegionId) -> Vec<u8> {
        let region = &mut self.regions[id.0];
        region.decoded = Vec::new();
        std::mem::take(&mut region.data)
    }

    /// Installs `data` as a region's backing store; its length must equal the
    /// region's size. Any previous store is dropped.
    pub fn put_data(&mut self, id: RegionId, data: Vec<u8>) -> Result<(), MemoryError> {
        self.replace_data(id, data).map(drop)
    }

    /// Swaps in `data` (same length as the region) and returns the previous
    /// backing store (empty if it had been taken out).
    pub fn replace_data(&mut self, id: RegionId, data: Vec<u8>) -> Result<Vec<u8>, MemoryError> {
        let region = &mut self.regions[id.0];
        if data.len() as u64 != region.size {
            return Err(MemoryError::SizeMismatch {
                name: region.name.clone(),
                expected: region.size,
                got: data.len() as u64,
            });
        }
        region.decoded = Vec::new();
        Ok(std::mem::replace(&mut region.data, data))
    }

    /// Mutable host view of a region's bytes. Drops its decoded instructions,
    /// since the caller may rewrite code.
    pub fn data_mut(&mut self, id: RegionId) -> &mut [u8] {
        let region = &mut self.regions[id.0];
        region.decoded = Vec::new();
        &mut region.data
    }

    /// Host read of `buf.len()` bytes at `addr` (permissions ignored).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        let (r, off) = self.host_locate(addr, buf.len())?;
        buf.copy_from_slice(&self.regions[r].data[off..off + buf.len()]);
        Ok(())
    }

    /// Host write of `bytes` at `addr` (permissions ignored). Writing an
    /// executable region drops its decoded instructions.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), MemoryError> {
        let (r, off) = self.host_locate(addr, bytes.len())?;
        let region = &mut self.regions[r];
        region.data[off..off + bytes.len()].copy_from_slice(bytes);
        region.decoded = Vec::new();
        Ok(())
    }

    /// Host read of a little-endian `u8`.
    pub fn read_u8(&self, addr: u64) -> Result<u8, MemoryError> {
        Ok(self.read_array::<1>(addr)?[0])
    }
    /// Host read of a little-endian `u16`.
    pub fn read_u16(&self, addr: u64) -> Result<u16, MemoryError> {
        Ok(u16::from_le_bytes(self.read_array(addr)?))
    }
    /// Host read of a little-endian `u32`.
    pub fn read_u32(&self, addr: u64) -> Result<u32, MemoryError> {
        Ok(u32::from_le_bytes(self.read_array(addr)?))
    }
    /// Host read of a little-endian `u64`.
    pub fn read_u64(&self, addr: u64) -> Result<u64, MemoryError> {
        Ok(u64::from_le_bytes(self.read_array(addr)?))
    }
    /// Host write of a `u8`.
    pub fn write_u8(&mut self, addr: u64, value: u8) -> Result<(), MemoryError> {
        self.write(addr, &[value])
    }
    /// Host write of a little-endian `u16`.
    pub fn write_u16(&mut self, addr: u64, value: u16) -> Result<(), MemoryError> {
        self.write(addr, &value.to_le_bytes())
    }
    /// Host write of a little-endian `u32`.
    pub fn write_u32(&mut self, addr: u64, value: u32) -> Result<(), MemoryError> {
        self.write(addr, &value.to_le_bytes())
    }
    /// Host write of a little-endian `u64`.
    pub fn write_u64(&mut self, addr: u64, value: u64) -> Result<(), MemoryError> {
        self.write(addr, &value.to_le_bytes())
    }

    fn read_array<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemoryError> {
        let mut buf = [0; N];
        self.read(addr, &mut buf)?;
        Ok(buf)
    }

    fn host_locate(&self, addr: u64, len: usize) -> Result<(usize, usize), MemoryError> {
        self.regions
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.offset_of(addr, len).map(|off| (i, off)))
            .ok_or(MemoryError::Unmapped {
                addr,
                size: len as u64,
            })
    }

    // ---- guest side (used by the executor) -------------------------------

    /// Finds the region holding `[addr, addr+n)` entirely, trying the last
    /// hit first. Returns (region index, offset).
    #[inline(always)]
    fn guest_locate(&mut self, addr: u64, n: usize) -> Option<(usize, usize)> {
        if let Some(r) = self.regions.get(self.hint) {
            if let Some(off) = r.offset_of(addr, n) {
                return Some((self.hint, off));
            }
        }
        self.guest_locate_slow(addr, n)
    }

    #[cold]
    fn guest_locate_slow(&mut self, addr: u64, n: usize) -> Option<(usize, usize)> {
        let (i, off) = self
            .regions
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.offset_of(addr, n).map(|off| (i, off)))?;
        self.hint = i;
        Some((i, off))
    }

    /// Guest load of `N` little-endian bytes (needs R).
    #[inline(always)]
    pub(crate) fn guest_load<const N: usize>(&mut self, addr: u64) -> Result<[u8; N], GuestTrap> {
        let (r, off) = self.guest_locate(addr, N).ok_or(GuestTrap::Fault)?;
        let region = &self.regions[r];
        if !region.perms.read {
            return Err(GuestTrap::Fault);
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&region.data[off..off + N]);
        Ok(out)
    }

    /// Guest store of `N` bytes (needs W). A store into an executable region
    /// succeeds but reports `CodeWritten` so decoded instructions are redone.
    #[inline(always)]
    pub(crate) fn guest_store<const N: usize>(
        &mut self,
        addr: u64,
        bytes: [u8; N],
    ) -> Result<(), GuestTrap> {
        let (r, off) = self.guest_locate(addr, N).ok_or(GuestTrap::Fault)?;
        let region = &mut self.regions[r];
        if !region.perms.write {
            return Err(GuestTrap::Fault);
        }
        region.data[off..off + N].copy_from_slice(&bytes);
        if region.perms.exec {
            region.decoded = Vec::new();
            return Err(GuestTrap::CodeWritten(RegionId(r)));
        }
        Ok(())
    }

    /// The executable region containing `pc`, if any.
    pub(crate) fn exec_region_at(&self, pc: u64) -> Option<usize> {
        self.regions
            .iter()
            .position(|r| r.perms.exec && r.contains(pc))
    }

    /// Region by index (executor use).
    pub(crate) fn region_mut(&mut self, index: usize) -> &mut Region {
        &mut self.regions[index]
    }

    /// Raw instruction parcel fetch for decoding: up to 4 bytes at `pc`
    /// from executable region `index`; returns the bytes available (2 or 4
    /// when the region ends after the first parcel), or `None`.
    pub(crate) fn fetch_parcels(&self, index: usize, pc: u64) -> Option<(u32, usize)> {
        let r = &self.regions[index];
        if let Some(off) = r.offset_of(pc, 4) {
            let b = &r.data[off..off + 4];
            return Some((u32::from_le_bytes([b[0], b[1], b[2], b[3]]), 4));
        }
        let off = r.offset_of(pc, 2)?;
        let b = &r.data[off..off + 2];
        Some((u32::from(u16::from_le_bytes([b[0], b[1]])), 2))
    }
}
