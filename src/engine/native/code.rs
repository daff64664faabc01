//! The code mapping of a native run: every loaded program's image linked
//! at its real address, one tail-call thunk per program, one host-call
//! stub per helper/kfunc slot used, the fentry/fexit trampolines
//! (`attach.rs`), and (on the following pages, RW) the
//! run counters and the prog-array views. One mapping, so that the thunks
//! reach the counter pc-relatively; it lies above `2^36` (the sandbox
//! reservation is made first), out of reach of masked code.

use super::arch::{routine_addr, rvbpf_native_host_call, rvbpf_native_load_packet};
// The data pages start with the emulated engine's counters (same offsets),
// then the views.
use crate::engine::code::{
    fill_view, layout_views, thunk_code, CodeSpace, COUNTERS_SIZE, TAIL_CALL_COUNTER, THUNK_SIZE,
    TRACER_RUN_COUNTER,
};
use crate::engine::{DISPATCH_SLOT, KFUNC_SLOT0, TRACE_CTX_SLOT};
use crate::maps::{MapId, Maps};
use crate::memory::{MAPS_BASE, MAP_STRIDE};
use crate::vm::{RunError, Vm};
use rvbpf_jit::{RelocKind, SANDBOX_SIZE, TAIL_CALL_ENTRY_OFFSET};
use rvbpf_rv64::{encode, Imm12, Imm20, Inst, LoadOp, Reg};
use std::collections::BTreeMap;

/// Bytes of one host-call stub: 4 instructions, the routine's address, the slot.
const STUB_SIZE: u64 = 32;

/// The linked code and data of one native run; unmapped when dropped.
pub(super) struct CodeMap {
    base: u64,
    len: usize,
    /// Bytes of the code part (images, thunks, stubs, room for trampolines).
    pub code_len: usize,
    /// Bytes of code actually generated (`Stats::code_bytes`): images,
    /// thunks, stubs and trampolines.
    pub code_bytes: u64,
    /// Per program: address of its image (meaningless for failed images).
    image_at: Vec<u64>,
    /// Prog-array views: (map, address of its view).
    pub views: Vec<(MapId, u64)>,
    /// Address of the successful-tail-call counter.
    tail_calls_at: u64,
}

fn unavailable(why: impl std::fmt::Display) -> RunError {
    RunError::EngineUnavailable(format!("native engine: {why}"))
}

/// The stub for host-call `slot`, at `at`: loads the slot into t0 and
/// jumps to the common host-call routine (the JIT called it with `jalr ra`,
/// so ra still points into the JIT'd code).
///
/// ```text
///  at+0:  auipc t0, 0
///         ld    t1, 16(t0)     ; routine
///         lwu   t0, 24(t0)     ; slot
///         jalr  zero, 0(t1)
///  at+16: .dword routine
///  at+24: .word slot, 0
/// ```
fn stub_code(slot: u32, routine: u64) -> Vec<u8> {
    let imm = |v: i64| Imm12::new(v).expect("small offset");
    let insts = [
        Inst::Auipc {
            rd: Reg::T0,
            imm: Imm20::ZERO,
        },
        Inst::Load {
            op: LoadOp::Ld,
            rd: Reg::T1,
            rs1: Reg::T0,
            offset: imm(16),
        },
        Inst::Load {
            op: LoadOp::Lwu,
            rd: Reg::T0,
            rs1: Reg::T0,
            offset: imm(24),
        },
        Inst::Jalr {
            rd: Reg::ZERO,
            rs1: Reg::T1,
            offset: imm(0),
        },
    ];
    let mut out: Vec<u8> = insts.iter().flat_map(|i| encode(i).to_le_bytes()).collect();
    out.extend_from_slice(&routine.to_le_bytes());
    out.extend_from_slice(&slot.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

/// The host-call slot a relocation goes through (the emulated engine's
/// numbering, which `engine::host::serve` understands), if it is one.
fn host_slot(vm: &Vm, p: usize, kind: &RelocKind) -> Option<u32> {
    match *kind {
        RelocKind::Helper(n) => Some(n as u32),
        RelocKind::Kfunc(i) => {
            let id = vm.program_kfunc_id(p, i).unwrap_or(u32::MAX - KFUNC_SLOT0);
            Some(KFUNC_SLOT0 + id)
        }
        RelocKind::HelperDispatch => Some(DISPATCH_SLOT),
        _ => None,
    }
}

impl CodeMap {
    /// Maps and links `space`'s images for a run of `vm`: code read-execute
    /// (instruction cache flushed), counters and views read-write.
    pub fn build(vm: &Vm, space: &CodeSpace) -> Result<CodeMap, RunError> {
        let images = &space.images;
        // Layout: images (16-aligned), thunks, stubs, room for trampolines;
        // data (counters, views) on the next page.
        let mut image_at_off = Vec::with_capacity(images.len());
        let mut off = 0u64;
        let mut slots = BTreeMap::new();
        for (p, img) in images.iter().enumerate() {
            off = off.next_multiple_of(16);
            image_at_off.push(off);
            if let Ok(img) = img {
                off += img.code.len() as u64;
                for r in &img.relocs {
                    if let Some(s) = host_slot(vm, p, &r.kind) {
                        slots.insert(s, 0u64);
                    }
                }
            }
        }
        let trampolines_len = super::attach::trampolines_bound(vm);
        if trampolines_len > 0 {
            slots.insert(TRACE_CTX_SLOT, 0);
        }
        let thunks_off = off.next_multiple_of(16);
        let stubs_off = thunks_off + images.len() as u64 * THUNK_SIZE;
        let trampolines_off = (stubs_off + slots.len() as u64 * STUB_SIZE).next_multiple_of(16);
        let code_len = trampolines_off + trampolines_len;
        let page = super::memory::page_size();
        let data_off = code_len.max(1).next_multiple_of(page);
        let maps = &vm.machine.maps;
        let (view_offs, data_end) = layout_views(maps, data_off + COUNTERS_SIZE);
        let len = data_end.next_multiple_of(page) as usize;
        // SAFETY: a fresh private anonymous mapping at an address of the
        // kernel's choosing touches no existing object.
        let got = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if got == libc::MAP_FAILED {
            return Err(unavailable(format!(
                "code mapping: {}",
                std::io::Error::last_os_error()
            )));
        }
        let base = got as u64;
        let mut map = CodeMap {
            base,
            len,
            code_len: code_len as usize,
            code_bytes: trampolines_off,
            image_at: image_at_off.iter().map(|o| base + o).collect(),
            views: view_offs.iter().map(|&(m, o)| (m, base + o)).collect(),
            tail_calls_at: base + data_off + TAIL_CALL_COUNTER,
        };
        if base < SANDBOX_SIZE {
            return Err(unavailable("the code mapping landed inside the sandbox"));
        }
        // SAFETY: the whole mapping is ours, RW, `len` bytes, and no other
        // reference to it exists yet.
        let mem = unsafe { std::slice::from_raw_parts_mut(got.cast::<u8>(), len) };
        let host_call = routine_addr(rvbpf_native_host_call);
        for (k, (&slot, at)) in slots.iter_mut().enumerate() {
            let o = (stubs_off + k as u64 * STUB_SIZE) as usize;
            mem[o..o + STUB_SIZE as usize].copy_from_slice(&stub_code(slot, host_call));
            *at = base + o as u64;
        }
        for (p, img) in images.iter().enumerate() {
            let Ok(img) = img else { continue };
            let obj_maps = vm.program_maps(p);
            let linked = img.linked(|kind| match *kind {
                RelocKind::LoadPacket => routine_addr(rvbpf_native_load_packet),
                RelocKind::MapHandle(i) => obj_maps.get(i as usize).map_or(0, |&m| Maps::handle(m)),
                RelocKind::ProgArray(i) => obj_maps
                    .get(i as usize)
                    .and_then(|&m| map.views.iter().find(|v| v.0 == m))
                    .map_or(0, |v| v.1),
                RelocKind::MapValue { map: m, offset } => obj_maps
                    .get(m as usize)
                    .map_or(0, |m| MAPS_BASE + m.0 as u64 * MAP_STRIDE + offset as u64),
                ref other => host_slot(vm, p, other)
                    .and_then(|s| slots.get(&s).copied())
                    .unwrap_or(0),
            });
            let o = image_at_off[p] as usize;
            mem[o..o + linked.len()].copy_from_slice(&linked);
            let thunk_at = base + thunks_off + p as u64 * THUNK_SIZE;
            let target = map.image_at[p] + img.entry() as u64 + TAIL_CALL_ENTRY_OFFSET as u64;
            let thunk = thunk_code(thunk_at, map.tail_calls_at, target);
            let o = (thunk_at - base) as usize;
            mem[o..o + thunk.len()].copy_from_slice(&thunk);
        }
        // Prog-array views (layout: rvbpf_jit's "Prog-array view").
        let compiled = |p: usize| {
            let ok = images.get(p).is_some_and(|i| i.is_ok());
            ok.then(|| base + thunks_off + p as u64 * THUNK_SIZE)
        };
        for &(m, off) in &view_offs {
            fill_view(&mut mem[off as usize..], maps, m, compiled);
        }
        if trampolines_len > 0 {
            let layout = super::attach::Layout {
                base,
                image_at: &map.image_at,
                free: base + trampolines_off..base + code_len,
                run_counter: base + data_off + TRACER_RUN_COUNTER,
                ctx_publisher: slots[&TRACE_CTX_SLOT],
            };
            map.code_bytes += super::attach::apply(vm, space, &layout, mem)?;
        }
        let code_pages = data_off as usize;
        // SAFETY: our own mapping; from here on the code is only executed.
        let rc = unsafe { libc::mprotect(got, code_pages, libc::PROT_READ | libc::PROT_EXEC) };
        if rc != 0 {
            return Err(unavailable(format!(
                "mprotect: {}",
                std::io::Error::last_os_error()
            )));
        }
        flush_icache(base, base + code_len);
        Ok(map)
    }

    /// The code's address range (faults inside it are the program's).
    pub fn code_range(&self) -> std::ops::Range<u64> {
        self.base..self.base + self.code_len as u64
    }

    /// Address of program `p`'s entry function (offset 0).
    pub fn entry(&self, space: &CodeSpace, p: usize) -> Option<u64> {
        let img = space.images.get(p)?.as_ref().ok()?;
        Some(self.image_at[p] + img.entry() as u64)
    }

    /// The BPF (program, pc) of code address `addr`, if it lies in a BPF
    /// instruction's lowering.
    pub fn bpf_pc(&self, space: &CodeSpace, addr: u64) -> Option<(u32, usize)> {
        space.images.iter().enumerate().find_map(|(p, img)| {
            let img = img.as_ref().ok()?;
            let start = self.image_at[p];
            let off = addr.checked_sub(start)? as usize;
            (off < img.text_len)
                .then(|| img.pc_at(off))
                .flatten()
                .map(|pc| (p as u32, pc))
        })
    }

    /// Successful tail calls counted by the thunks so far.
    pub fn tail_calls(&self) -> u64 {
        // SAFETY: the counter lies in our RW data pages, 8-aligned.
        unsafe { std::ptr::read_volatile(self.tail_calls_at as *const u64) }
    }

    /// Tracer runs counted by the trampolines so far.
    pub fn tracer_runs(&self) -> u64 {
        let at = self.tail_calls_at - TAIL_CALL_COUNTER + TRACER_RUN_COUNTER;
        // SAFETY: as in `tail_calls`.
        unsafe { std::ptr::read_volatile(at as *const u64) }
    }

    /// The 4 bytes at code address `addr` (for decoding a faulting
    /// instruction), if they lie in the code.
    pub fn word_at(&self, addr: u64) -> Option<[u8; 4]> {
        let r = self.code_range();
        // Compressed instructions may end the code: read what exists.
        if !r.contains(&addr) {
            return None;
        }
        let mut w = [0u8; 4];
        let n = (r.end - addr).min(4) as usize;
        // SAFETY: `[addr, addr + n)` lies in our readable code pages.
        unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, w.as_mut_ptr(), n) };
        Some(w)
    }
}

impl Drop for CodeMap {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer executed or referenced.
        unsafe { libc::munmap(self.base as *mut _, self.len) };
    }
}

/// Makes freshly written code visible to instruction fetch on every hart:
/// Linux's `riscv_flush_icache` syscall, and `fence.i` for this hart.
fn flush_icache(start: u64, end: u64) {
    const SYS_RISCV_FLUSH_ICACHE: libc::c_long = 259;
    // SAFETY: the syscall only synchronises caches for the given range.
    unsafe { libc::syscall(SYS_RISCV_FLUSH_ICACHE, start, end, 0u64) };
    // SAFETY: fence.i has no operands and no memory effects.
    unsafe { std::arch::asm!("fence.i") };
}
