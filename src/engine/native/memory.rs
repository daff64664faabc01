//! The process side of the VM address space: `[SANDBOX_LOW, 2^36)`
//! reserved once (`PROT_NONE`, so a masked wild pointer faults instead of
//! reaching host memory), and for each run the runtime's regions mapped
//! at their VM addresses with copies of their bytes.

use crate::engine::TRACE_CTX_SIZE;
use crate::memory::{
    Memory, RegionId, REGION_STACK, REGION_TRACE_CTX, STACK_BASE, STACK_SIZE, STACK_TOP,
    TRACE_CTX_BASE,
};
use crate::vm::RunError;
use rvbpf_jit::SANDBOX_SIZE;
use std::sync::OnceLock;

/// Lowest address of the reservation: Linux maps nothing below 64 KiB
/// (`mmap_min_addr`), which serves as the null guard.
pub(super) const SANDBOX_LOW: u64 = 0x1_0000;

fn unavailable(why: impl std::fmt::Display) -> RunError {
    RunError::EngineUnavailable(format!("native engine: {why}"))
}

/// The system's page size (4 KiB if it cannot be asked).
pub(super) fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// Reserves `[SANDBOX_LOW, SANDBOX_SIZE)` for the process's lifetime (once).
pub(super) fn reserve_sandbox() -> Result<(), RunError> {
    static RESERVED: OnceLock<Result<(), String>> = OnceLock::new();
    RESERVED
        .get_or_init(|| {
            let len = (SANDBOX_SIZE - SANDBOX_LOW) as usize;
            let flags = libc::MAP_PRIVATE
                | libc::MAP_ANONYMOUS
                | libc::MAP_NORESERVE
                | libc::MAP_FIXED_NOREPLACE;
            // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing
            // mapping; a new PROT_NONE mapping touches no Rust object.
            let got =
                unsafe { libc::mmap(SANDBOX_LOW as *mut _, len, libc::PROT_NONE, flags, -1, 0) };
            if got == libc::MAP_FAILED {
                let e = std::io::Error::last_os_error();
                return Err(format!(
                    "cannot reserve [{SANDBOX_LOW:#x}, {SANDBOX_SIZE:#x}) for the sandbox \
                     (something of this process is mapped there?): {e}"
                ));
            }
            if got as u64 != SANDBOX_LOW {
                // An old kernel took the address as a hint.
                // SAFETY: `got` is the mapping just made, `len` bytes long.
                unsafe { libc::munmap(got, len) };
                return Err("the sandbox reservation landed elsewhere".into());
            }
            Ok(())
        })
        .clone()
        .map_err(unavailable)
}

/// Top of the native stack JIT'd code runs on: `2^36 + STACK_TOP`, so that
/// the prologue's masked R10 (`(sp + bpf_stack) mod 2^36`) lands in the VM
/// stack region, while the frames' control data (saved ra and registers)
/// stays outside the sandbox (`rvbpf_jit`'s "Sandboxing" contract).
pub(super) const NATIVE_STACK_TOP: u64 = SANDBOX_SIZE + STACK_TOP;

/// Maps the native stack `[2^36 + STACK_BASE, 2^36 + STACK_TOP)` for the
/// process's lifetime (once); returns its top.
pub(super) fn reserve_native_stack() -> Result<u64, RunError> {
    static STACK: OnceLock<Result<(), String>> = OnceLock::new();
    STACK
        .get_or_init(|| {
            let base = SANDBOX_SIZE + STACK_BASE;
            let flags = libc::MAP_PRIVATE
                | libc::MAP_ANONYMOUS
                | libc::MAP_NORESERVE
                | libc::MAP_FIXED_NOREPLACE;
            // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
            let got = unsafe {
                libc::mmap(
                    base as *mut _,
                    STACK_SIZE,
                    libc::PROT_READ | libc::PROT_WRITE,
                    flags,
                    -1,
                    0,
                )
            };
            if got == libc::MAP_FAILED || got as u64 != base {
                let e = std::io::Error::last_os_error();
                if got != libc::MAP_FAILED {
                    // SAFETY: the mapping just made, STACK_SIZE bytes.
                    unsafe { libc::munmap(got, STACK_SIZE) };
                }
                return Err(format!("cannot map the native stack at {base:#x}: {e}"));
            }
            Ok(())
        })
        .clone()
        .map(|()| NATIVE_STACK_TOP)
        .map_err(unavailable)
}

/// Gives `[addr, addr + len)` (inside the reservation) back to it.
fn release(addr: u64, len: usize) {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED;
    // SAFETY: the range lies inside our own reservation (checked when it
    // was mapped), where no Rust object lives.
    unsafe { libc::mmap(addr as *mut _, len, libc::PROT_NONE, flags, -1, 0) };
}

/// One runtime region mapped at its VM address.
struct MappedRegion {
    id: RegionId,
    base: u64,
    len: usize,
    map_len: usize,
    writable: bool,
}

/// The runtime's non-empty regions, mapped for one run; released (back to
/// `PROT_NONE`) when dropped.
pub(super) struct Mapped {
    regions: Vec<MappedRegion>,
}

impl Mapped {
    /// Maps every non-empty region of `mem` at its VM address with a copy
    /// of its bytes; read-only regions are mapped read-only. Regions end on
    /// a page boundary, so an access just past a region's end (in its last
    /// page) does not fault natively.
    pub fn map(mem: &Memory) -> Result<Mapped, RunError> {
        let page = page_size();
        let mut mapped = Mapped {
            regions: Vec::new(),
        };
        for (id, r) in mem.regions().iter().enumerate() {
            if r.data.is_empty() {
                continue;
            }
            let map_len = (r.data.len() as u64).next_multiple_of(page);
            if r.base % page != 0 || r.base < SANDBOX_LOW || r.base + map_len > SANDBOX_SIZE {
                return Err(unavailable(format!(
                    "region {:?} at {:#x} is not page-aligned inside the sandbox",
                    r.kind, r.base
                )));
            }
            let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED;
            // SAFETY: the range lies inside our reservation (checked above;
            // regions do not overlap), where no Rust object lives.
            let got = unsafe {
                libc::mmap(
                    r.base as *mut _,
                    map_len as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    flags,
                    -1,
                    0,
                )
            };
            if got == libc::MAP_FAILED {
                return Err(unavailable(format!(
                    "mapping region {:?} at {:#x}: {}",
                    r.kind,
                    r.base,
                    std::io::Error::last_os_error()
                )));
            }
            // SAFETY: `got` is a fresh RW mapping of at least `r.data.len()`
            // bytes that nothing else references.
            unsafe { std::ptr::copy_nonoverlapping(r.data.as_ptr(), got.cast(), r.data.len()) };
            if !r.writable {
                // SAFETY: changes the protection of our own mapping only.
                unsafe { libc::mprotect(got, map_len as usize, libc::PROT_READ) };
            }
            mapped.regions.push(MappedRegion {
                id,
                base: r.base,
                len: r.data.len(),
                map_len: map_len as usize,
                writable: r.writable,
            });
        }
        if mem.region(REGION_TRACE_CTX).data.is_empty() {
            mapped.map_trace_ctx(page)?;
        }
        Ok(mapped)
    }

    /// Maps the read-only page trampolines publish tracers' ctx arrays into
    /// (`publish_trace_ctx`), at `TRACE_CTX_BASE` like on the other engines.
    fn map_trace_ctx(&mut self, page: u64) -> Result<(), RunError> {
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED;
        // SAFETY: inside our reservation, where no Rust object lives.
        let got = unsafe {
            libc::mmap(
                TRACE_CTX_BASE as *mut _,
                page as usize,
                libc::PROT_READ,
                flags,
                -1,
                0,
            )
        };
        if got == libc::MAP_FAILED {
            return Err(unavailable(format!(
                "mapping the trace ctx: {}",
                std::io::Error::last_os_error()
            )));
        }
        self.regions.push(MappedRegion {
            id: REGION_TRACE_CTX,
            base: TRACE_CTX_BASE,
            len: TRACE_CTX_SIZE as usize,
            map_len: page as usize,
            writable: false,
        });
        Ok(())
    }

    /// Copies a trampoline's ctx array (`words` u64s at `array`, in its
    /// frame on the native stack) into the read-only trace-ctx page;
    /// returns the page's VM address, the ctx the tracer gets.
    pub fn publish_trace_ctx(&self, array: u64, words: u64) -> u64 {
        let len = (words.min(TRACE_CTX_SIZE / 8) * 8) as usize;
        let Some(r) = self.regions.iter().find(|r| r.base == TRACE_CTX_BASE) else {
            return TRACE_CTX_BASE;
        };
        let at = TRACE_CTX_BASE as *mut libc::c_void;
        // SAFETY: the trace-ctx page is ours (mapped above or from the
        // runtime's region); `array` is the generated trampoline's frame on
        // the native stack, `len` <= 48 bytes of it; the page is made
        // writable only for the copy.
        unsafe {
            libc::mprotect(at, r.map_len, libc::PROT_READ | libc::PROT_WRITE);
            std::ptr::copy_nonoverlapping(array as *const u8, at.cast::<u8>(), len);
            libc::mprotect(at, r.map_len, libc::PROT_READ);
        }
        TRACE_CTX_BASE
    }

    /// The byte range of `r` to sync: all of it, except for the stack, of
    /// which only `[stack_low, top)` is live (`stack_low`: the VM address
    /// of the innermost BPF frame's bottom, sp mod 2^36).
    fn live(r: &MappedRegion, stack_low: u64) -> std::ops::Range<usize> {
        if r.id == REGION_STACK && stack_low > r.base {
            let from = ((stack_low - r.base) as usize).min(r.len);
            from..r.len
        } else {
            0..r.len
        }
    }

    /// Copies the writable regions' bytes back into `mem` (stack: from
    /// `stack_low` up, see [`Mapped::live`]).
    pub fn sync_to_runtime(&self, mem: &mut Memory, stack_low: u64) {
        for r in self.regions.iter().filter(|r| r.writable) {
            let data = &mut mem.region_mut(r.id).data;
            if data.len() != r.len {
                continue; // checked by `sync_from_runtime`, which follows every call
            }
            let live = Self::live(r, stack_low);
            // SAFETY: the mapping is `r.len` bytes or more, readable, and
            // no Rust reference points into it; `live` lies within r.len.
            let src = unsafe {
                std::slice::from_raw_parts((r.base as *const u8).add(live.start), live.len())
            };
            data[live].copy_from_slice(src);
        }
    }

    /// Copies the writable regions' bytes from `mem` into the mappings
    /// (after host code ran on `mem`).
    pub fn sync_from_runtime(&self, mem: &Memory, stack_low: u64) -> Result<(), RunError> {
        if mem.regions().len() < self.regions.iter().map(|r| r.id + 1).max().unwrap_or(0) {
            return Err(unavailable("a host call removed memory regions"));
        }
        for r in self.regions.iter().filter(|r| r.writable) {
            let data = &mem.region(r.id).data;
            if data.len() != r.len {
                return Err(unavailable(format!(
                    "region {:?} changed size during a host call",
                    mem.region(r.id).kind
                )));
            }
            let live = Self::live(r, stack_low);
            // SAFETY: as in `sync_to_runtime`; the mapping is writable.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    data[live.clone()].as_ptr(),
                    (r.base as *mut u8).add(live.start),
                    live.len(),
                )
            };
        }
        Ok(())
    }

    /// Whether `[addr, addr + size)` lies in a mapped read-only region.
    pub fn is_read_only(&self, addr: u64, size: usize) -> bool {
        self.regions.iter().any(|r| {
            !r.writable && addr >= r.base && addr + size as u64 <= r.base + r.map_len as u64
        })
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        for r in &self.regions {
            release(r.base, r.map_len);
        }
    }
}

const _: () = assert!(STACK_BASE >= SANDBOX_LOW);
