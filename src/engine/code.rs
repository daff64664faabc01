//! Per-configuration code space: every loaded program compiled once
//! (lazily, at the first JIT run with that configuration after it was
//! loaded), laid out in one code region, linked, plus one tail-call thunk
//! per program (see the module docs of [`crate::engine`]).

use super::{
    JitConfig, CODE_BASE, DISPATCH_SLOT, HOST_CALL_BASE, JIT_DATA_BASE, KFUNC_SLOT0,
    PACKET_LOAD_SLOT,
};
use crate::maps::{MapId, Maps};
use crate::memory::{MAPS_BASE, MAP_STRIDE};
use crate::vm::Vm;
use rvbpf_jit::{Image, JitError, RelocKind, TAIL_CALL_ENTRY_OFFSET};
use rvbpf_rv64::{encode, split_hi_lo, AluImmOp, Imm12, Inst, LoadOp, Reg, StoreOp};
use std::collections::HashMap;

/// Offset of the successful-tail-call counter in the data region.
pub(crate) const TAIL_CALL_COUNTER: u64 = 0;
/// Offset of the tracer-run counter in the data region.
pub(crate) const TRACER_RUN_COUNTER: u64 = 8;
/// Bytes of the counters region at `JIT_DATA_BASE`.
pub(crate) const COUNTERS_SIZE: u64 = 16;
/// Offset from `JIT_DATA_BASE` of the read-only region holding the
/// prog-array views (a page after the counters).
pub(crate) const VIEWS_OFFSET: u64 = 0x1000;
/// Bytes of one tail-call thunk (12 bytes of padding + 6 instructions).
pub(crate) const THUNK_SIZE: u64 = TAIL_CALL_ENTRY_OFFSET as u64 + 6 * 4;

/// Compiled code spaces, one per configuration used so far.
#[derive(Debug, Default)]
pub(crate) struct JitCache {
    spaces: HashMap<JitConfig, CodeSpace>,
}

/// All loaded programs compiled for one configuration and linked at
/// [`CODE_BASE`].
#[derive(Debug)]
pub(crate) struct CodeSpace {
    /// Per program: its image (or why it could not be compiled).
    pub images: Vec<Result<Image, JitError>>,
    /// Per program: address of its image (meaningless for failed images).
    pub image_at: Vec<u64>,
    /// Per program: address of its tail-call thunk (a prog-array entry).
    pub thunk_at: Vec<u64>,
    /// Linked code and thunks; empty while lent to the emulator.
    pub code: Vec<u8>,
    /// Bytes of images and thunks (trampolines follow).
    pub base_len: usize,
    /// Applied patches: (code offset, original bytes), oldest first.
    pub patches: Vec<(usize, Vec<u8>)>,
    /// Prog-array views: (map, address of its view).
    pub views: Vec<(MapId, u64)>,
    /// Size of the views region (at `JIT_DATA_BASE + VIEWS_OFFSET`).
    pub views_size: u64,
}

impl CodeSpace {
    /// The program and image offset containing code address `addr`.
    pub fn locate(&self, addr: u64) -> Option<(u32, usize)> {
        self.images.iter().enumerate().find_map(|(p, img)| {
            let img = img.as_ref().ok()?;
            let start = self.image_at[p];
            (addr >= start && addr < start + img.text_len as u64)
                .then(|| (p as u32, (addr - start) as usize))
        })
    }

    /// The BPF (program, pc) of code address `addr`, if it lies in a BPF
    /// instruction's lowering.
    pub fn bpf_pc(&self, addr: u64) -> Option<(u32, usize)> {
        let (p, off) = self.locate(addr)?;
        let img = self.images[p as usize].as_ref().ok()?;
        img.pc_at(off).map(|pc| (p, pc))
    }
}

impl JitCache {
    /// Takes the code space of `cfg` out of the cache, (re)building it when
    /// programs were loaded since it was built. Give it back with [`put`].
    pub fn take(vm: &mut Vm, cfg: JitConfig) -> CodeSpace {
        let existing = vm.jit.spaces.remove(&cfg);
        let n = vm.progs.len();
        match existing {
            Some(s) if s.images.len() == n => s,
            other => {
                let mut images = other.map(|s| s.images).unwrap_or_default();
                for p in images.len()..n {
                    images.push(compile(vm, p, cfg));
                }
                link(vm, images)
            }
        }
    }

    /// Returns a code space taken with [`take`].
    pub fn put(vm: &mut Vm, cfg: JitConfig, space: CodeSpace) {
        vm.jit.spaces.insert(cfg, space);
    }
}

/// Re-verifies program `p` (the runtime keeps only pre-decoded code) and
/// compiles it.
fn compile(vm: &Vm, p: usize, cfg: JitConfig) -> Result<Image, JitError> {
    let (obj, index) = vm.program_source(p);
    let verified = crate::vm::verified_program(obj, index, &vm.registry).map_err(|e| {
        JitError::InvalidInput {
            pc: 0,
            why: e.to_string(),
        }
    })?;
    let opts = cfg.options();
    match cfg.tier {
        // What the baseline tier does not implement, the optimizing one does.
        rvbpf_jit::Tier::Baseline => match rvbpf_jit::compile_baseline(&verified, &opts) {
            Err(JitError::Unsupported { .. }) => rvbpf_jit::compile(&verified, &opts),
            other => other,
        },
        rvbpf_jit::Tier::Optimizing => rvbpf_jit::compile(&verified, &opts),
    }
}

/// Where each prog array's view goes when the views are laid out one after
/// another from address `first` (layout: rvbpf_jit's "Prog-array view":
/// `u32 max_entries`, `u32` reserved, `u64 entry[max_entries]`). Returns
/// (map, view address) per prog array, and the end address.
pub(crate) fn layout_views(maps: &Maps, first: u64) -> (Vec<(MapId, u64)>, u64) {
    let mut views = Vec::new();
    let mut at = first;
    for id in 0..maps.len() as u32 {
        if let Ok(h) = maps.prog_array(MapId(id)) {
            views.push((MapId(id), at));
            at += 8 + 8 * h.max_entries() as u64;
        }
    }
    (views, at)
}

/// Fills the view of prog array `map` into `out` (which starts at the
/// view): its size, then per slot the address a tail call through it
/// jumps to, `entry(program)`, or 0 for an empty slot or a program
/// `entry` gives no address for (one the JIT could not compile).
pub(crate) fn fill_view(
    out: &mut [u8],
    maps: &Maps,
    map: MapId,
    entry: impl Fn(usize) -> Option<u64>,
) {
    let Ok(h) = maps.prog_array(map) else {
        return;
    };
    out[..4].copy_from_slice(&h.max_entries().to_le_bytes());
    for slot in 0..h.max_entries() {
        let target = h.get(slot).and_then(|p| entry(p as usize)).unwrap_or(0);
        let e = 8 + 8 * slot as usize;
        out[e..e + 8].copy_from_slice(&target.to_le_bytes());
    }
}

fn align(v: u64, a: u64) -> u64 {
    v.next_multiple_of(a)
}

/// Lays the images out, links them and emits the thunks.
fn link(vm: &mut Vm, images: Vec<Result<Image, JitError>>) -> CodeSpace {
    // Views region: a view per prog array (the counters have their own).
    let views_base = JIT_DATA_BASE + VIEWS_OFFSET;
    let (views, views_end) = layout_views(&vm.machine.maps, views_base);
    let views_size = views_end - views_base;
    // Code: images, then thunks.
    let mut image_at = Vec::with_capacity(images.len());
    let mut off = 0u64;
    for img in &images {
        off = align(off, 16);
        image_at.push(CODE_BASE + off);
        if let Ok(img) = img {
            off += img.code.len() as u64;
        }
    }
    off = align(off, 16);
    let thunk_at: Vec<u64> = (0..images.len() as u64)
        .map(|k| CODE_BASE + off + k * THUNK_SIZE)
        .collect();
    let code_len = (off + images.len() as u64 * THUNK_SIZE).max(16) as usize;
    // (Trampolines are appended after the thunks, see `engine::attach`.)
    let mut code = vec![0u8; code_len];
    for (p, img) in images.iter().enumerate() {
        let Ok(img) = img else { continue };
        let obj_maps = vm.program_maps(p);
        let linked = img.linked(|kind| match *kind {
            RelocKind::Helper(n) => HOST_CALL_BASE + 4 * n as u64,
            RelocKind::Kfunc(i) => {
                let id = vm.program_kfunc_id(p, i).unwrap_or(u32::MAX - KFUNC_SLOT0);
                HOST_CALL_BASE + 4 * (KFUNC_SLOT0 as u64 + id as u64)
            }
            RelocKind::HelperDispatch => HOST_CALL_BASE + 4 * DISPATCH_SLOT as u64,
            RelocKind::LoadPacket => HOST_CALL_BASE + 4 * PACKET_LOAD_SLOT as u64,
            RelocKind::MapHandle(i) => obj_maps.get(i as usize).map_or(0, |&m| Maps::handle(m)),
            RelocKind::ProgArray(i) => obj_maps
                .get(i as usize)
                .and_then(|&m| views.iter().find(|v| v.0 == m))
                .map_or(0, |v| v.1),
            RelocKind::MapValue { map, offset } => obj_maps
                .get(map as usize)
                .map_or(0, |m| MAPS_BASE + m.0 as u64 * MAP_STRIDE + offset as u64),
        });
        let start = (image_at[p] - CODE_BASE) as usize;
        code[start..start + linked.len()].copy_from_slice(&linked);
    }
    for (p, img) in images.iter().enumerate() {
        let Ok(img) = img else { continue };
        let target = image_at[p] + img.entry() as u64 + TAIL_CALL_ENTRY_OFFSET as u64;
        let thunk = thunk_code(thunk_at[p], JIT_DATA_BASE + TAIL_CALL_COUNTER, target);
        let start = (thunk_at[p] - CODE_BASE) as usize;
        code[start..start + thunk.len()].copy_from_slice(&thunk);
    }
    CodeSpace {
        images,
        image_at,
        thunk_at,
        base_len: code.len(),
        patches: Vec::new(),
        code,
        views,
        views_size,
    }
}

/// The tail-call thunk at `at`: the JIT jumps to `at + 12`, which counts
/// the tail call in the u64 at `counter` and jumps on to `target`.
///
/// ```text
///  at+0:  nop; nop; nop            (never executed)
///  at+12: auipc t0, %hi(counter)
///         ld    t2, %lo(counter)(t0)
///         addi  t2, t2, 1
///         sd    t2, %lo(counter)(t0)
///  at+28: auipc t0, %hi(target)
///         jalr  zero, %lo(target)(t0)
/// ```
pub(crate) fn thunk_code(at: u64, counter: u64, target: u64) -> Vec<u8> {
    let nop = Inst::AluImm {
        op: AluImmOp::Addi,
        rd: Reg::ZERO,
        rs1: Reg::ZERO,
        imm: Imm12::new(0).expect("0 fits"),
    };
    let body = at + TAIL_CALL_ENTRY_OFFSET as u64;
    let (chi, clo) = split_hi_lo(counter.wrapping_sub(body) as i64).expect("data within 2 GiB");
    let (thi, tlo) = split_hi_lo(target.wrapping_sub(body + 16) as i64).expect("code within 2 GiB");
    let insts = [
        nop,
        nop,
        nop,
        Inst::Auipc {
            rd: Reg::T0,
            imm: chi,
        },
        Inst::Load {
            op: LoadOp::Ld,
            rd: Reg::T2,
            rs1: Reg::T0,
            offset: clo,
        },
        Inst::AluImm {
            op: AluImmOp::Addi,
            rd: Reg::T2,
            rs1: Reg::T2,
            imm: Imm12::new(1).expect("1 fits"),
        },
        Inst::Store {
            op: StoreOp::Sd,
            rs1: Reg::T0,
            rs2: Reg::T2,
            offset: clo,
        },
        Inst::Auipc {
            rd: Reg::T0,
            imm: thi,
        },
        Inst::Jalr {
            rd: Reg::ZERO,
            rs1: Reg::T0,
            offset: tlo,
        },
    ];
    insts.iter().flat_map(|i| encode(i).to_le_bytes()).collect()
}
