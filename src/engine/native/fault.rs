//! Faults in JIT'd code: a SIGSEGV/SIGBUS/SIGILL handler, installed for the
//! duration of a run (with SIGALRM from the budget timer), that records where a fault inside the code mapping
//! happened and resumes the thread at `rvbpf_native_abort`, which ends the
//! run through the same path as a failed host call. Signals from anywhere
//! else are handed to the previous handler (the old action is restored and
//! the faulting instruction runs again).

use super::arch::abort_addr;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The signals turned into run errors (SIGALRM: the budget timer, see
/// `budget.rs`).
const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGALRM];

/// A fault recorded by the handler.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fault {
    pub signal: libc::c_int,
    pub pc: u64,
    pub addr: u64,
}

// The handler communicates through atomics only (async-signal-safe).
static CODE_START: AtomicU64 = AtomicU64::new(0);
static CODE_END: AtomicU64 = AtomicU64::new(0);
static ABORT_AT: AtomicU64 = AtomicU64::new(0);
static FAULT_SIGNAL: AtomicU64 = AtomicU64::new(0);
static FAULT_PC: AtomicU64 = AtomicU64::new(0);
static FAULT_ADDR: AtomicU64 = AtomicU64::new(0);

/// The actions replaced while a run is in progress.
struct OldActions(UnsafeCell<[libc::sigaction; 4]>);
// SAFETY: written only by `install` while no handler of ours is active,
// read by the handler and `Handlers::drop` (runs are serialised by the
// engine's lock).
unsafe impl Sync for OldActions {}
// SAFETY: an all-zero `sigaction` is a valid (SIG_DFL) action.
static OLD: OldActions = OldActions(UnsafeCell::new(unsafe { std::mem::zeroed() }));

extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
    let pc: u64 = unsafe { (*uc).uc_mcontext.__gregs[libc::REG_PC] };
    let ours = pc >= CODE_START.load(Ordering::Relaxed) && pc < CODE_END.load(Ordering::Relaxed);
    if ours {
        // SAFETY: `info` is valid for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as u64;
        FAULT_SIGNAL.store(sig as u64, Ordering::Relaxed);
        FAULT_PC.store(pc, Ordering::Relaxed);
        FAULT_ADDR.store(addr, Ordering::Relaxed);
        // SAFETY: resuming at the abort routine leaves the JIT frames
        // behind; the routine restores the host's registers and stack.
        unsafe { (*uc).uc_mcontext.__gregs[libc::REG_PC] = ABORT_AT.load(Ordering::Relaxed) as _ };
        return;
    }
    if sig == libc::SIGALRM {
        return; // the budget timer outside JIT'd code: it fires again
    }
    if let Some(i) = SIGNALS.iter().position(|&s| s == sig) {
        // SAFETY: restores the previous action (sigaction is
        // async-signal-safe); the instruction faults again under it.
        unsafe { libc::sigaction(sig, &(*OLD.0.get())[i], std::ptr::null_mut()) };
    }
}

/// The handlers of one run; the previous actions come back when dropped.
pub(super) struct Handlers(());

/// Installs the handlers for faults inside `code`.
pub(super) fn install(code: std::ops::Range<u64>) -> Handlers {
    CODE_START.store(code.start, Ordering::SeqCst);
    CODE_END.store(code.end, Ordering::SeqCst);
    ABORT_AT.store(abort_addr(), Ordering::SeqCst);
    FAULT_SIGNAL.store(0, Ordering::SeqCst);
    for (i, &sig) in SIGNALS.iter().enumerate() {
        // SAFETY: a zeroed sigaction is valid; we fill in the handler,
        // flags and an empty mask, and keep the old action in OLD, which
        // nothing else reads while we write it.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_fault as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, &mut (*OLD.0.get())[i]);
        }
    }
    Handlers(())
}

impl Drop for Handlers {
    fn drop(&mut self) {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: puts back the action saved by `install`.
            unsafe { libc::sigaction(sig, &(*OLD.0.get())[i], std::ptr::null_mut()) };
        }
        CODE_START.store(0, Ordering::SeqCst);
        CODE_END.store(0, Ordering::SeqCst);
    }
}

/// The fault that ended the last run, if one did.
pub(super) fn take() -> Option<Fault> {
    let signal = FAULT_SIGNAL.swap(0, Ordering::SeqCst) as libc::c_int;
    (signal != 0).then(|| Fault {
        signal,
        pc: FAULT_PC.load(Ordering::SeqCst),
        addr: FAULT_ADDR.load(Ordering::SeqCst),
    })
}

/// Whether the RV64 instruction `word` (the first bytes at a faulting pc)
/// writes memory, and how many bytes it accesses; `None` for an
/// instruction that is not a load, store or atomic.
pub(super) fn access_of(word: [u8; 4]) -> Option<(bool, usize)> {
    let half = u16::from_le_bytes([word[0], word[1]]);
    if half & 3 != 3 {
        // Compressed: quadrant 0 (c.lw/c.ld/c.sw/c.sd) and 2 (sp-based).
        let funct3 = half >> 13;
        return match (half & 3, funct3) {
            (0 | 2, 0b010) => Some((false, 4)),
            (0 | 2, 0b011) => Some((false, 8)),
            (0 | 2, 0b110) => Some((true, 4)),
            (0 | 2, 0b111) => Some((true, 8)),
            _ => None,
        };
    }
    let w = u32::from_le_bytes(word);
    let funct3 = (w >> 12) & 7;
    match w & 0x7f {
        0x03 => Some((false, 1 << (funct3 & 3))),
        0x23 => Some((true, 1 << (funct3 & 3))),
        // AMO / LR / SC: lr (funct5 = 0b00010) only reads.
        0x2f => Some((w >> 27 != 0b00010, 1 << (funct3 & 3))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::access_of;

    #[test]
    fn classifies_loads_stores_and_atomics() {
        // Encodings from the RISC-V ISA manual's formats:
        // ld a0, 8(a1): imm=8, rs1=11, funct3=3, rd=10, opcode 0x03.
        let ld = (8 << 20) | (11 << 15) | (3 << 12) | (10 << 7) | 0x03u32;
        assert_eq!(access_of(ld.to_le_bytes()), Some((false, 8)));
        // sw a0, 0(a1): rs2=10, rs1=11, funct3=2, opcode 0x23.
        let sw = (10 << 20) | (11 << 15) | (2 << 12) | 0x23u32;
        assert_eq!(access_of(sw.to_le_bytes()), Some((true, 4)));
        // lbu: funct3=4 -> 1 byte.
        let lbu = (11 << 15) | (4 << 12) | (10 << 7) | 0x03u32;
        assert_eq!(access_of(lbu.to_le_bytes()), Some((false, 1)));
        // amoadd.d: funct5=0, funct3=3; lr.w: funct5=0b00010, funct3=2.
        let amoadd = (11 << 15) | (3 << 12) | (10 << 7) | 0x2fu32;
        assert_eq!(access_of(amoadd.to_le_bytes()), Some((true, 8)));
        let lr = (0b00010 << 27) | (11 << 15) | (2 << 12) | (10 << 7) | 0x2fu32;
        assert_eq!(access_of(lr.to_le_bytes()), Some((false, 4)));
        // c.ld (quadrant 0, funct3 011) and c.sdsp (quadrant 2, funct3 111).
        assert_eq!(access_of([0x00, 0x60, 0, 0]), Some((false, 8)));
        assert_eq!(access_of([0x02, 0xe0, 0, 0]), Some((true, 8)));
        // addi is no memory access.
        assert_eq!(access_of(0x0000_0013u32.to_le_bytes()), None);
    }
}
