//! The assembly glue between Rust and JIT'd code: entering a run with the
//! stack switched to the VM stack region, aborting it from anywhere
//! (a hand-written setjmp/longjmp that never unwinds through JIT frames),
//! and the two routines JIT'd code calls into the host through.
//!
//! One run at a time per process (the caller holds the engine's lock), so
//! the saved host state lives in one static, [`JMPBUF`].

use std::arch::global_asm;

/// Host state saved by `rvbpf_native_enter`: ra, sp, s0..s11, fs0..fs11.
/// Only the assembly below reads or writes it (through `sym`); the host
/// stack pointer at offset 8 is also where host calls switch back to.
#[repr(C, align(16))]
struct JmpBuf([u64; 26]);

static mut JMPBUF: JmpBuf = JmpBuf([0; 26]);

/// What the packet-load routine hands back to JIT'd code: R0 (a5) and the
/// ok flag (t0). Returned in a0/a1 by the C ABI.
#[repr(C)]
pub(super) struct PacketLoad {
    pub value: u64,
    pub ok: u64,
}

global_asm!(
    ".pushsection .text.rvbpf_native,\"ax\",@progbits",
    ".p2align 2",
    // The target has D (riscv64gc); the assembler is told explicitly.
    ".option push",
    ".option arch, +d",
    // u64 rvbpf_native_enter(u64 entry, const u64 args[5], u64 stack_top)
    // Saves the host's callee-saved state, switches sp to `stack_top` and
    // calls `entry` with a0..a4 = args. Returns its a0, or 0 through
    // rvbpf_native_abort.
    ".globl rvbpf_native_enter",
    ".hidden rvbpf_native_enter",
    "rvbpf_native_enter:",
    "lla t0, {jmpbuf}",
    "sd ra, 0(t0)",
    "sd sp, 8(t0)",
    "sd s0, 16(t0)",
    "sd s1, 24(t0)",
    "sd s2, 32(t0)",
    "sd s3, 40(t0)",
    "sd s4, 48(t0)",
    "sd s5, 56(t0)",
    "sd s6, 64(t0)",
    "sd s7, 72(t0)",
    "sd s8, 80(t0)",
    "sd s9, 88(t0)",
    "sd s10, 96(t0)",
    "sd s11, 104(t0)",
    "fsd fs0, 112(t0)",
    "fsd fs1, 120(t0)",
    "fsd fs2, 128(t0)",
    "fsd fs3, 136(t0)",
    "fsd fs4, 144(t0)",
    "fsd fs5, 152(t0)",
    "fsd fs6, 160(t0)",
    "fsd fs7, 168(t0)",
    "fsd fs8, 176(t0)",
    "fsd fs9, 184(t0)",
    "fsd fs10, 192(t0)",
    "fsd fs11, 200(t0)",
    "mv t1, a0",
    "mv t2, a1",
    "mv sp, a2",
    "ld a0, 0(t2)",
    "ld a1, 8(t2)",
    "ld a2, 16(t2)",
    "ld a3, 24(t2)",
    "ld a4, 32(t2)",
    "jalr ra, 0(t1)",
    ".Lrvbpf_native_restore:",
    "lla t0, {jmpbuf}",
    "ld ra, 0(t0)",
    "ld sp, 8(t0)",
    "ld s0, 16(t0)",
    "ld s1, 24(t0)",
    "ld s2, 32(t0)",
    "ld s3, 40(t0)",
    "ld s4, 48(t0)",
    "ld s5, 56(t0)",
    "ld s6, 64(t0)",
    "ld s7, 72(t0)",
    "ld s8, 80(t0)",
    "ld s9, 88(t0)",
    "ld s10, 96(t0)",
    "ld s11, 104(t0)",
    "fld fs0, 112(t0)",
    "fld fs1, 120(t0)",
    "fld fs2, 128(t0)",
    "fld fs3, 136(t0)",
    "fld fs4, 144(t0)",
    "fld fs5, 152(t0)",
    "fld fs6, 160(t0)",
    "fld fs7, 168(t0)",
    "fld fs8, 176(t0)",
    "fld fs9, 184(t0)",
    "fld fs10, 192(t0)",
    "fld fs11, 200(t0)",
    "ret",
    // void rvbpf_native_abort(void), never returns: ends the run from a
    // host call or (as the pc a signal handler resumes at) from JIT code;
    // rvbpf_native_enter returns 0 to its caller.
    ".globl rvbpf_native_abort",
    ".hidden rvbpf_native_abort",
    "rvbpf_native_abort:",
    "li a0, 0",
    "j .Lrvbpf_native_restore",
    // Host call, entered by a stub with t0 = host-call slot and the C
    // arguments in a0..a7, ra = return address into JIT code. Runs the
    // dispatcher on the host stack and returns its a0 like a C function,
    // caller-saved registers (a6 included) clobbered as C code may: the JIT
    // parks what it needs across the call.
    ".globl rvbpf_native_host_call",
    ".hidden rvbpf_native_host_call",
    "rvbpf_native_host_call:",
    "addi sp, sp, -32",
    "sd ra, 0(sp)",
    "sd s0, 8(sp)",
    "mv s0, sp",
    "lla t1, {jmpbuf}",
    "ld sp, 8(t1)",
    "addi sp, sp, -64",
    "sd a0, 0(sp)",
    "sd a1, 8(sp)",
    "sd a2, 16(sp)",
    "sd a3, 24(sp)",
    "sd a4, 32(sp)",
    "sd a5, 40(sp)",
    "sd a6, 48(sp)",
    "sd a7, 56(sp)",
    "mv a0, t0",
    "mv a1, sp",
    "addi a2, s0, 32",
    "ld a3, 0(s0)",
    "call {dispatch}",
    "mv sp, s0",
    "ld ra, 0(sp)",
    "ld s0, 8(sp)",
    "addi sp, sp, 32",
    "ret",
    // Legacy packet load (rvbpf_jit::RelocKind::LoadPacket): offset in t0,
    // size in t2 -> a5 = value, t0 = ok; every other register preserved.
    ".globl rvbpf_native_load_packet",
    ".hidden rvbpf_native_load_packet",
    "rvbpf_native_load_packet:",
    "addi sp, sp, -128",
    "sd ra, 0(sp)",
    "sd s0, 8(sp)",
    "sd a0, 16(sp)",
    "sd a1, 24(sp)",
    "sd a2, 32(sp)",
    "sd a3, 40(sp)",
    "sd a4, 48(sp)",
    "sd a6, 56(sp)",
    "sd a7, 64(sp)",
    "sd t1, 72(sp)",
    "sd t2, 80(sp)",
    "sd t3, 88(sp)",
    "sd t4, 96(sp)",
    "sd t5, 104(sp)",
    "sd t6, 112(sp)",
    "mv s0, sp",
    "lla t1, {jmpbuf}",
    "ld sp, 8(t1)",
    "mv a0, t0",
    "mv a1, t2",
    "addi a2, s0, 128",
    "mv a3, ra",
    "call {load_packet}",
    "mv sp, s0",
    "mv a5, a0",
    "mv t0, a1",
    "ld ra, 0(sp)",
    "ld s0, 8(sp)",
    "ld a0, 16(sp)",
    "ld a1, 24(sp)",
    "ld a2, 32(sp)",
    "ld a3, 40(sp)",
    "ld a4, 48(sp)",
    "ld a6, 56(sp)",
    "ld a7, 64(sp)",
    "ld t1, 72(sp)",
    "ld t2, 80(sp)",
    "ld t3, 88(sp)",
    "ld t4, 96(sp)",
    "ld t5, 104(sp)",
    "ld t6, 112(sp)",
    "addi sp, sp, 128",
    "ret",
    ".option pop",
    ".popsection",
    jmpbuf = sym JMPBUF,
    dispatch = sym super::dispatch::host_call,
    load_packet = sym super::dispatch::load_packet,
);

extern "C" {
    /// Runs JIT'd code at `entry` with a0..a4 = `args[0..5]` and sp =
    /// `stack_top`; returns its a0, or 0 after [`rvbpf_native_abort`].
    pub(super) fn rvbpf_native_enter(entry: u64, args: *const u64, stack_top: u64) -> u64;
    /// Ends the current run: restores the state `rvbpf_native_enter` saved
    /// and returns 0 from it. Callable only while a run is in progress,
    /// from a frame with nothing left to drop.
    pub(super) fn rvbpf_native_abort() -> !;
    /// The common host-call routine stubs jump to (t0 = slot).
    pub(super) fn rvbpf_native_host_call();
    /// The legacy packet-load routine (its own convention, see above).
    pub(super) fn rvbpf_native_load_packet();
}

/// Address of an assembly routine, for literal-pool slots and stubs.
pub(super) fn routine_addr(f: unsafe extern "C" fn()) -> u64 {
    f as *const () as usize as u64
}

/// Address JIT'd code resumes at to abort the run (signal handler).
pub(super) fn abort_addr() -> u64 {
    rvbpf_native_abort as *const () as usize as u64
}
