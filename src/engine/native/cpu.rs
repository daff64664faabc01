//! Which RV64 extensions this CPU runs, found by running them: Linux's
//! `riscv_hwprobe` is missing on older kernels and in qemu-user before 8.1,
//! so a tiny routine using one Zba and one Zbb instruction is called once
//! through the engine's own entry and fault handling; SIGILL means no.

use super::arch::rvbpf_native_enter;
use super::{fault, memory, NATIVE_LOCK};
use rvbpf_rv64::Target;
use std::sync::OnceLock;

/// `sh1add a0, a0, a0` (Zba), `andn a0, a0, a0` (Zbb; a0 & !a0 = 0),
/// `ret`: R-type encodings from the bit-manipulation spec (opcode OP,
/// funct7 0x10/funct3 2 and funct7 0x20/funct3 7, rd = rs1 = rs2 = a0).
const PROBE: [u32; 3] = [
    (0x10 << 25) | (10 << 20) | (10 << 15) | (2 << 12) | (10 << 7) | 0x33,
    (0x20 << 25) | (10 << 20) | (10 << 15) | (7 << 12) | (10 << 7) | 0x33,
    0x0000_8067,
];

/// Whether the CPU runs code compiled for `target`.
pub(crate) fn supports(target: Target) -> bool {
    static ZBA_ZBB: OnceLock<bool> = OnceLock::new();
    !(target.zba || target.zbb) || *ZBA_ZBB.get_or_init(probe_zba_zbb)
}

fn probe_zba_zbb() -> bool {
    let _lock = NATIVE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(stack_top) = memory::reserve_native_stack() else {
        return false;
    };
    let len = memory::page_size() as usize;
    // SAFETY: a fresh anonymous mapping at an address of the kernel's choosing.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return false;
    }
    let code: Vec<u8> = PROBE.iter().flat_map(|w| w.to_le_bytes()).collect();
    let start = page as u64;
    // SAFETY: the page is ours, RW, and larger than the 12 probe bytes;
    // it becomes RX before it runs and is unmapped afterwards.
    unsafe {
        std::ptr::copy_nonoverlapping(code.as_ptr(), page.cast::<u8>(), code.len());
        if libc::mprotect(page, len, libc::PROT_READ | libc::PROT_EXEC) != 0 {
            libc::munmap(page, len);
            return false;
        }
        std::arch::asm!("fence.i");
        let handlers = fault::install(start..start + code.len() as u64);
        let args = [7u64, 0, 0, 0, 0];
        let ret = rvbpf_native_enter(start, args.as_ptr(), stack_top);
        drop(handlers);
        libc::munmap(page, len);
        // No fault, and andn's result (0) came back.
        fault::take().is_none() && ret == 0
    }
}
