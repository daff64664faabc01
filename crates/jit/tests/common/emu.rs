//! Runs JIT images in the rv64 emulator: each image in its own RX region,
//! relocations applied by hand (helpers → host-call slots, maps → RW
//! regions, prog arrays → the prog-array view), a RW stack, a RW ctx.

use rvbpf_jit::{Image, RelocKind};
use rvbpf_rv64::emu::{EmuError, Hart, Memory, Perms};

pub const CODE_BASE: u64 = 0x10_0000;
pub const CODE_STRIDE: u64 = 0x10_0000;
pub const HOST_BASE: u64 = 0x0100_0000;
pub const KFUNC_SLOT0: u32 = 1000;
/// Host slot of the `callx` dispatcher (the helper number is in a5).
pub const DISPATCH_SLOT: u32 = 1999;
pub const MAP_BASE: u64 = 0x0200_0000;
pub const MAP_STRIDE: u64 = 0x1_0000;
pub const CTX_BASE: u64 = 0x0400_0000;
pub const STACK_BASE: u64 = 0x0800_0000;
pub const STACK_SIZE: u64 = 0x1_0000;

/// Address of map `i`'s storage (its handle and its value).
pub fn map_addr(i: u32) -> u64 {
    MAP_BASE + MAP_STRIDE * i as u64
}

/// A helper: `(number or KFUNC_SLOT0 + i, a0..a7, memory) -> a0`.
pub type Helper<'a> = dyn FnMut(u32, [u64; 8], &mut Memory) -> u64 + 'a;

pub struct World {
    pub mem: Memory,
    pub entries: Vec<u64>,
    pub hart: Hart,
}

/// Maps `images` (image k at `CODE_BASE + k * CODE_STRIDE`) and `maps`
/// regions of `MAP_STRIDE` bytes. `prog_arrays[(map, slot)] = image index`
/// fills prog-array views.
pub fn world(images: &[&Image], maps: u32, prog_arrays: &[(u32, u32, usize)]) -> World {
    let mut mem = Memory::new();
    let entries: Vec<u64> = (0..images.len())
        .map(|k| CODE_BASE + CODE_STRIDE * k as u64)
        .collect();
    for (k, image) in images.iter().enumerate() {
        let code = image.linked(|kind| match *kind {
            RelocKind::Helper(n) => HOST_BASE + 4 * n as u64,
            RelocKind::Kfunc(i) => HOST_BASE + 4 * (KFUNC_SLOT0 + i) as u64,
            RelocKind::HelperDispatch => HOST_BASE + 4 * DISPATCH_SLOT as u64,
            RelocKind::MapHandle(m) | RelocKind::ProgArray(m) => map_addr(m),
            RelocKind::MapValue { map, offset } => map_addr(map) + offset as u64,
            // No packet routine in this world: a call faults at address 0.
            RelocKind::LoadPacket => 0,
        });
        mem.add_region(
            format!("code{k}"),
            entries[k] + image.entry() as u64,
            Perms::RX,
            code,
        )
        .unwrap();
    }
    for m in 0..maps {
        let mut data = vec![0u8; MAP_STRIDE as usize];
        let slots: Vec<_> = prog_arrays.iter().filter(|p| p.0 == m).collect();
        if !slots.is_empty() {
            // The prog-array view: u32 max_entries, u32 0, u64 entry[].
            data[0..4].copy_from_slice(&4u32.to_le_bytes());
            for &&(_, slot, img) in &slots {
                let at = 8 + 8 * slot as usize;
                data[at..at + 8].copy_from_slice(&entries[img].to_le_bytes());
            }
        }
        mem.add_region(format!("map{m}"), map_addr(m), Perms::RW, data)
            .unwrap();
    }
    mem.add_zeroed_region("ctx", CTX_BASE, 0x1000, Perms::RW)
        .unwrap();
    mem.add_zeroed_region("stack", STACK_BASE, STACK_SIZE, Perms::RW)
        .unwrap();
    let mut hart = Hart::new();
    hart.set_host_calls(HOST_BASE, 2000);
    hart.set_budget(10_000_000);
    World { mem, entries, hart }
}

impl World {
    /// Runs image `k` from its entry with a0 = ctx; returns a0.
    pub fn run(&mut self, k: usize, helper: &mut Helper) -> Result<u64, EmuError> {
        self.run_with_args(k, &[CTX_BASE], helper)
    }

    /// Runs image `k` from its entry with `args` in a0..; returns a0.
    pub fn run_with_args(
        &mut self,
        k: usize,
        args: &[u64],
        helper: &mut Helper,
    ) -> Result<u64, EmuError> {
        let sp = STACK_BASE + STACK_SIZE;
        // Callee-saved registers must survive the run (C ABI).
        let canaries: Vec<(rvbpf_rv64::Reg, u64)> = (0..12)
            .map(|i| {
                let r = [
                    rvbpf_rv64::Reg::S0,
                    rvbpf_rv64::Reg::S1,
                    rvbpf_rv64::Reg::S2,
                    rvbpf_rv64::Reg::S3,
                    rvbpf_rv64::Reg::S4,
                    rvbpf_rv64::Reg::S5,
                    rvbpf_rv64::Reg::S6,
                    rvbpf_rv64::Reg::S7,
                    rvbpf_rv64::Reg::S8,
                    rvbpf_rv64::Reg::S9,
                    rvbpf_rv64::Reg::S10,
                    rvbpf_rv64::Reg::S11,
                ][i];
                (r, 0x5a5a_0000 + i as u64)
            })
            .collect();
        for &(r, v) in &canaries {
            self.hart.set_reg(r, v);
        }
        // a6 holds garbage on entry: the header must initialise it.
        self.hart.set_reg(rvbpf_rv64::Reg::A6, 0xdead_beef);
        let entry = self.entries[k];
        let r =
            self.hart
                .call_with_host::<EmuError>(&mut self.mem, entry, sp, args, |n, h, m| {
                    let a = h.args();
                    let n = if n == DISPATCH_SLOT { a[5] as u32 } else { n };
                    let v = helper(n, a, m);
                    h.set_return_value(v);
                    Ok(())
                })?;
        for &(reg, v) in &canaries {
            assert_eq!(self.hart.reg(reg), v, "{reg} not preserved");
        }
        assert_eq!(self.hart.reg(rvbpf_rv64::Reg::SP), sp, "sp not restored");
        Ok(r)
    }
}

/// Compiles `src` for every target and scheme, runs it and returns the
/// distinct results (so a test can assert there is exactly one).
pub fn run_everywhere(
    src: &str,
    maps: &[rvbpf_ebpf::object::MapKind],
    helper: &mut Helper,
) -> Vec<u64> {
    let mut seen = Vec::new();
    for t in super::TARGETS {
        for s in super::SCHEMES {
            let image = super::compile_text(src, maps, &super::opts(t, s));
            let mut w = world(&[&image], maps.len() as u32, &[]);
            let r = w
                .run(0, helper)
                .unwrap_or_else(|e| panic!("{t} {s:?}: {e}\n{}", image.listing()));
            if !seen.contains(&r) {
                seen.push(r);
            }
        }
    }
    seen
}
