//! The executor: runs pre-decoded instructions of one executable region.
//!
//! The loop walks a decoded-instruction cache indexed by 2-byte parcel
//! (`idx = (pc - base) / 2`) instead of a pc, so sequential flow is one add and
//! "still inside this region" is the slice bounds check. Anything that leaves
//! the region (jumps to host-call slots, to the return sentinel, to another
//! region, to nowhere) exits with `LeftRegion` and the hart's slow path
//! decides. Counters live in locals and are written back once at exit.
//!
//! Faulting instructions exit before touching `idx`, a register, or memory,
//! so the hart's pc names the faulting instruction and it is not retired.

use super::arith::{
    div, divu, divuw, divw, mulh, mulhsu, mulhu, orc_b, rem, remu, remuw, remw, sext32,
};
use super::decoded::{Decoded, Kind, AMO_OPS};
use super::error::{Access, EmuError};
use super::hart::{Hart, Stop};
use super::memory::{GuestTrap, Memory};
use super::trace::TraceEntry;
use crate::decode::{decode, DecodeError};
use crate::op::AmoOp;
use crate::reg::Reg;

/// How [`run_region`] ended.
pub(crate) enum Exit {
    /// The pc left the region (the hart's pc is the new target).
    LeftRegion,
    /// `ecall`/`ebreak` retired.
    Stop(Stop),
    /// Fault, illegal instruction or budget exhaustion at the hart's pc.
    Error(EmuError),
    /// The budget does not cover the next chain: rerun in step mode, which
    /// charges instruction by instruction.
    NeedStep,
}

/// Does `[addr, addr+n)` overlap the 8 bytes a reservation may cover?
#[inline(always)]
fn overlaps_reservation(addr: u64, n: u64, reserved: u64) -> bool {
    addr < reserved.saturating_add(8) && reserved < addr.saturating_add(n)
}

/// Executes region `region` (base `base`, decoded cache `ops`) from the
/// hart's pc until the pc leaves it or execution stops.
///
/// Budget accounting: in chain mode (`STEP = false`) entering a chain at
/// slot `s` charges `ops[s].run` instructions at once, and an instruction
/// that does not retire (fault) refunds its own `run`, i.e. itself and the
/// rest of the chain. In step mode every instruction is charged alone and
/// the trace (if any) is recorded.
// The arm macros take each operation as a closure literal so every arm
// stays one line; the closure is inlined, never a call at run time.
#[allow(clippy::redundant_closure_call)]
pub(crate) fn run_region<const STEP: bool>(
    hart: &mut Hart,
    mem: &mut Memory,
    region: usize,
    base: u64,
    ops: &mut [Decoded],
) -> Exit {
    // Registers live in a local file for the duration of the run: the
    // compiler then addresses them relative to the stack pointer instead of
    // keeping (and spilling) a pointer to the hart. 256 entries so any `u8`
    // index is in bounds; entry 32 is the sink for writes to x0.
    let mut file = [0u64; 256];
    file[..32].copy_from_slice(&hart.regs);
    let regs = &mut file;
    let trace = &mut hart.trace;
    let mut idx = (hart.pc.wrapping_sub(base) >> 1) as usize;
    let start_budget = hart.budget;
    let mut remaining = start_budget;
    let mut reservation = hart.reservation;
    // Event counters are bumped in place: keeping them in locals would
    // cost the hot loop four registers.
    let counters = &mut hart.counters;

    macro_rules! pc {
        () => {
            base.wrapping_add((idx as u64) << 1)
        };
    }
    // Register access; a `u8` index is always inside the 256-entry file.
    macro_rules! x {
        ($r:expr) => {
            regs[usize::from($r)]
        };
    }

    let exit = 'outer: loop {
        let Some(&first) = ops.get(idx) else {
            break Exit::LeftRegion;
        };
        if first.kind == Kind::NotDecoded {
            decode_chain(mem, region, base, ops, idx);
            continue;
        }
        let charge = if STEP { 1 } else { u64::from(first.run) };
        if charge > remaining {
            if STEP {
                break Exit::Error(EmuError::BudgetExhausted { pc: pc!() });
            }
            break Exit::NeedStep;
        }
        remaining -= charge;

        let mut d = first;
        loop {
            let next = idx.wrapping_add(usize::from(d.parcels));
            let insn_pc = if STEP { pc!() } else { 0 };

            // The instruction at `idx` does not retire: refund its charge.
            macro_rules! fail {
                ($err:expr) => {{
                    remaining += if STEP { 1 } else { chain_rest(ops, idx) };
                    break 'outer Exit::Error($err);
                }};
            }
            macro_rules! fault {
                ($addr:expr, $size:expr, $access:expr) => {
                    fail!(EmuError::Fault {
                        pc: pc!(),
                        addr: $addr,
                        size: $size,
                        access: $access
                    })
                };
            }
            // End of a chain-ending instruction: on to the next chain.
            macro_rules! end_chain {
                () => {{
                    if STEP {
                        record(trace, mem, region, insn_pc, &d, regs);
                    }
                    continue 'outer;
                }};
            }
            // A store hit executable memory; if it is this region, the
            // cache is gone: refund the rest of the chain and re-decode.
            macro_rules! code_written {
                ($r:expr) => {{
                    if $r.0 == region {
                        if !STEP {
                            remaining += chain_rest(ops, idx) - 1;
                        }
                        ops.fill(Decoded::NOT_DECODED);
                        idx = next;
                        end_chain!();
                    }
                }};
            }
            // rd = f(rs1, rs2)
            macro_rules! rr {
                ($f:expr) => {{
                    let f: fn(u64, u64) -> u64 = $f;
                    x!(d.rd) = f(x!(d.rs1), x!(d.rs2));
                    idx = next;
                }};
            }
            // rd = f(rs1, imm)
            macro_rules! ri {
                ($f:expr) => {{
                    let f: fn(u64, u64) -> u64 = $f;
                    x!(d.rd) = f(x!(d.rs1), i64::from(d.imm) as u64);
                    idx = next;
                }};
            }
            macro_rules! branch {
                ($cond:expr) => {{
                    let cond: fn(u64, u64) -> bool = $cond;
                    if cond(x!(d.rs1), x!(d.rs2)) {
                        idx = idx.wrapping_add(d.imm as isize as usize);
                        counters.taken_branches += 1;
                    } else {
                        idx = next;
                    }
                    end_chain!();
                }};
            }
            macro_rules! load {
                ($n:literal, $conv:expr) => {{
                    let addr = x!(d.rs1).wrapping_add(i64::from(d.imm) as u64);
                    match mem.guest_load::<$n>(addr) {
                        Ok(bytes) => {
                            let conv: fn([u8; $n]) -> u64 = $conv;
                            x!(d.rd) = conv(bytes);
                            counters.loads += 1;
                            idx = next;
                        }
                        Err(_) => fault!(addr, $n, Access::Read),
                    }
                }};
            }
            macro_rules! store {
                ($n:literal, $ty:ty) => {{
                    let addr = x!(d.rs1).wrapping_add(i64::from(d.imm) as u64);
                    let bytes = (x!(d.rs2) as $ty).to_le_bytes();
                    let result = mem.guest_store::<$n>(addr, bytes);
                    if let Err(GuestTrap::Fault) = result {
                        fault!(addr, $n, Access::Write);
                    }
                    counters.stores += 1;
                    if let Some(reserved) = reservation {
                        if overlaps_reservation(addr, $n, reserved) {
                            reservation = None;
                        }
                    }
                    if let Err(GuestTrap::CodeWritten(r)) = result {
                        code_written!(r);
                    }
                    idx = next;
                }};
            }

            match d.kind {
                Kind::NotDecoded => {
                    // Only reachable right after `code_written!` emptied
                    // the cache, which already re-entered the outer loop;
                    // kept total for robustness.
                    continue 'outer;
                }
                Kind::Undecodable => match decode_at(mem, region, pc!()) {
                    Err(e) => fail!(e),
                    // The bytes changed since (host write): decode again.
                    Ok(_) => {
                        remaining += if STEP { 1 } else { chain_rest(ops, idx) };
                        ops.fill(Decoded::NOT_DECODED);
                        continue 'outer;
                    }
                },
                Kind::Nop => idx = next,
                Kind::Li => {
                    x!(d.rd) = i64::from(d.imm) as u64;
                    idx = next;
                }
                Kind::Auipc => {
                    x!(d.rd) = pc!().wrapping_add(i64::from(d.imm) as u64);
                    idx = next;
                }
                Kind::Jal => {
                    x!(d.rd) = pc!().wrapping_add(u64::from(d.parcels) * 2);
                    idx = idx.wrapping_add(d.imm as isize as usize);
                    counters.jumps += 1;
                    end_chain!();
                }
                Kind::Jalr => {
                    let target = x!(d.rs1).wrapping_add(i64::from(d.imm) as u64) & !1;
                    x!(d.rd) = pc!().wrapping_add(u64::from(d.parcels) * 2);
                    idx = (target.wrapping_sub(base) >> 1) as usize;
                    counters.jumps += 1;
                    end_chain!();
                }
                Kind::Beq => branch!(|a, b| a == b),
                Kind::Bne => branch!(|a, b| a != b),
                Kind::Blt => branch!(|a, b| (a as i64) < (b as i64)),
                Kind::Bge => branch!(|a, b| (a as i64) >= (b as i64)),
                Kind::Bltu => branch!(|a, b| a < b),
                Kind::Bgeu => branch!(|a, b| a >= b),
                Kind::Lb => load!(1, |b| b[0] as i8 as u64),
                Kind::Lh => load!(2, |b| i16::from_le_bytes(b) as u64),
                Kind::Lw => load!(4, |b| i32::from_le_bytes(b) as u64),
                Kind::Ld => load!(8, u64::from_le_bytes),
                Kind::Lbu => load!(1, |b| u64::from(b[0])),
                Kind::Lhu => load!(2, |b| u64::from(u16::from_le_bytes(b))),
                Kind::Lwu => load!(4, |b| u64::from(u32::from_le_bytes(b))),
                Kind::Sb => store!(1, u8),
                Kind::Sh => store!(2, u16),
                Kind::Sw => store!(4, u32),
                Kind::Sd => store!(8, u64),
                Kind::Addi => ri!(|a, i| a.wrapping_add(i)),
                Kind::Slti => ri!(|a, i| u64::from((a as i64) < (i as i64))),
                Kind::Sltiu => ri!(|a, i| u64::from(a < i)),
                Kind::Xori => ri!(|a, i| a ^ i),
                Kind::Ori => ri!(|a, i| a | i),
                Kind::Andi => ri!(|a, i| a & i),
                Kind::Addiw => ri!(|a, i| sext32(a.wrapping_add(i))),
                Kind::Slli => ri!(|a, s| a << (s & 63)),
                Kind::Srli => ri!(|a, s| a >> (s & 63)),
                Kind::Srai => ri!(|a, s| ((a as i64) >> (s & 63)) as u64),
                Kind::Rori => ri!(|a, s| a.rotate_right(s as u32)),
                Kind::SlliUw => ri!(|a, s| (a & 0xffff_ffff) << (s & 63)),
                Kind::Slliw => ri!(|a, s| sext32(a << (s & 31))),
                Kind::Srliw => ri!(|a, s| sext32(u64::from((a as u32) >> (s & 31)))),
                Kind::Sraiw => ri!(|a, s| ((a as i32) >> (s & 31)) as u64),
                Kind::Roriw => ri!(|a, s| sext32(u64::from((a as u32).rotate_right(s as u32)))),
                Kind::Add => rr!(|a, b| a.wrapping_add(b)),
                Kind::Sub => rr!(|a, b| a.wrapping_sub(b)),
                Kind::Sll => rr!(|a, b| a << (b & 63)),
                Kind::Slt => rr!(|a, b| u64::from((a as i64) < (b as i64))),
                Kind::Sltu => rr!(|a, b| u64::from(a < b)),
                Kind::Xor => rr!(|a, b| a ^ b),
                Kind::Srl => rr!(|a, b| a >> (b & 63)),
                Kind::Sra => rr!(|a, b| ((a as i64) >> (b & 63)) as u64),
                Kind::Or => rr!(|a, b| a | b),
                Kind::And => rr!(|a, b| a & b),
                Kind::Addw => rr!(|a, b| sext32(a.wrapping_add(b))),
                Kind::Subw => rr!(|a, b| sext32(a.wrapping_sub(b))),
                Kind::Sllw => rr!(|a, b| sext32(a << (b & 31))),
                Kind::Srlw => rr!(|a, b| sext32(u64::from((a as u32) >> (b & 31)))),
                Kind::Sraw => rr!(|a, b| ((a as i32) >> (b & 31)) as u64),
                Kind::Mul => rr!(|a, b| a.wrapping_mul(b)),
                Kind::Mulh => rr!(mulh),
                Kind::Mulhsu => rr!(mulhsu),
                Kind::Mulhu => rr!(mulhu),
                Kind::Div => rr!(div),
                Kind::Divu => rr!(divu),
                Kind::Rem => rr!(rem),
                Kind::Remu => rr!(remu),
                Kind::Mulw => rr!(|a, b| sext32(a.wrapping_mul(b))),
                Kind::Divw => rr!(divw),
                Kind::Divuw => rr!(divuw),
                Kind::Remw => rr!(remw),
                Kind::Remuw => rr!(remuw),
                Kind::Sh1add => rr!(|a, b| (a << 1).wrapping_add(b)),
                Kind::Sh2add => rr!(|a, b| (a << 2).wrapping_add(b)),
                Kind::Sh3add => rr!(|a, b| (a << 3).wrapping_add(b)),
                Kind::AddUw => rr!(|a, b| (a & 0xffff_ffff).wrapping_add(b)),
                Kind::Sh1addUw => rr!(|a, b| ((a & 0xffff_ffff) << 1).wrapping_add(b)),
                Kind::Sh2addUw => rr!(|a, b| ((a & 0xffff_ffff) << 2).wrapping_add(b)),
                Kind::Sh3addUw => rr!(|a, b| ((a & 0xffff_ffff) << 3).wrapping_add(b)),
                Kind::Andn => rr!(|a, b| a & !b),
                Kind::Orn => rr!(|a, b| a | !b),
                Kind::Xnor => rr!(|a, b| !(a ^ b)),
                Kind::Max => rr!(|a, b| (a as i64).max(b as i64) as u64),
                Kind::Maxu => rr!(|a, b| a.max(b)),
                Kind::Min => rr!(|a, b| (a as i64).min(b as i64) as u64),
                Kind::Minu => rr!(|a, b| a.min(b)),
                Kind::Rol => rr!(|a, b| a.rotate_left((b & 63) as u32)),
                Kind::Ror => rr!(|a, b| a.rotate_right((b & 63) as u32)),
                Kind::Rolw => {
                    rr!(|a, b| sext32(u64::from((a as u32).rotate_left((b & 31) as u32))))
                }
                Kind::Rorw => {
                    rr!(|a, b| sext32(u64::from((a as u32).rotate_right((b & 31) as u32))))
                }
                Kind::Clz => ri!(|a, _| u64::from(a.leading_zeros())),
                Kind::Ctz => ri!(|a, _| u64::from(a.trailing_zeros())),
                Kind::Cpop => ri!(|a, _| u64::from(a.count_ones())),
                Kind::Clzw => ri!(|a, _| u64::from((a as u32).leading_zeros())),
                Kind::Ctzw => ri!(|a, _| u64::from((a as u32).trailing_zeros())),
                Kind::Cpopw => ri!(|a, _| u64::from((a as u32).count_ones())),
                Kind::SextB => ri!(|a, _| a as i8 as u64),
                Kind::SextH => ri!(|a, _| a as i16 as u64),
                Kind::ZextH => ri!(|a, _| a & 0xffff),
                Kind::Rev8 => ri!(|a, _| a.swap_bytes()),
                Kind::OrcB => ri!(|a, _| orc_b(a)),
                Kind::LrW | Kind::LrD => {
                    let addr = x!(d.rs1);
                    let value = if d.kind == Kind::LrW {
                        match atomic_load::<4>(mem, addr) {
                            Ok(b) => i32::from_le_bytes(b) as u64,
                            Err(e) => fail!(atomic_error(e, pc!(), addr, 4, Access::Read)),
                        }
                    } else {
                        match atomic_load::<8>(mem, addr) {
                            Ok(b) => u64::from_le_bytes(b),
                            Err(e) => fail!(atomic_error(e, pc!(), addr, 8, Access::Read)),
                        }
                    };
                    x!(d.rd) = value;
                    reservation = Some(addr);
                    counters.loads += 1;
                    idx = next;
                }
                Kind::ScW | Kind::ScD => {
                    let addr = x!(d.rs1);
                    let size: u8 = if d.kind == Kind::ScW { 4 } else { 8 };
                    if addr & (u64::from(size) - 1) != 0 {
                        fail!(EmuError::MisalignedAtomic { pc: pc!(), addr });
                    }
                    let success = reservation == Some(addr);
                    let mut written = None;
                    if success {
                        let value = x!(d.rs2);
                        let result = if size == 4 {
                            mem.guest_store::<4>(addr, (value as u32).to_le_bytes())
                        } else {
                            mem.guest_store::<8>(addr, value.to_le_bytes())
                        };
                        match result {
                            Ok(()) => {}
                            Err(GuestTrap::Fault) => fault!(addr, size, Access::Write),
                            Err(GuestTrap::CodeWritten(r)) => written = Some(r),
                        }
                        counters.stores += 1;
                    }
                    reservation = None;
                    x!(d.rd) = u64::from(!success);
                    if let Some(r) = written {
                        code_written!(r);
                    }
                    idx = next;
                }
                Kind::AmoW | Kind::AmoD => {
                    let addr = x!(d.rs1);
                    let src = x!(d.rs2);
                    let aux = ops.get(idx).map_or(0, |o| o.aux);
                    let op = AMO_OPS[usize::from(aux) % AMO_OPS.len()];
                    let (size, old, result) = if d.kind == Kind::AmoW {
                        let old = match atomic_load::<4>(mem, addr) {
                            Ok(b) => i32::from_le_bytes(b) as u64,
                            Err(e) => fail!(atomic_error(e, pc!(), addr, 4, Access::Read)),
                        };
                        let new = amo_w(op, old as u32, src as u32);
                        (4, old, mem.guest_store::<4>(addr, new.to_le_bytes()))
                    } else {
                        let old = match atomic_load::<8>(mem, addr) {
                            Ok(b) => u64::from_le_bytes(b),
                            Err(e) => fail!(atomic_error(e, pc!(), addr, 8, Access::Read)),
                        };
                        let new = amo_d(op, old, src);
                        (8, old, mem.guest_store::<8>(addr, new.to_le_bytes()))
                    };
                    if let Err(GuestTrap::Fault) = result {
                        fault!(addr, size, Access::Write);
                    }
                    if let Some(reserved) = reservation {
                        if overlaps_reservation(addr, u64::from(size), reserved) {
                            reservation = None;
                        }
                    }
                    x!(d.rd) = old;
                    counters.loads += 1;
                    counters.stores += 1;
                    if let Err(GuestTrap::CodeWritten(r)) = result {
                        code_written!(r);
                    }
                    idx = next;
                }
                Kind::Ecall | Kind::Ebreak => {
                    let pc = pc!();
                    idx = next;
                    if STEP {
                        record(trace, mem, region, insn_pc, &d, regs);
                    }
                    break 'outer Exit::Stop(if d.kind == Kind::Ecall {
                        Stop::Ecall { pc }
                    } else {
                        Stop::Ebreak { pc }
                    });
                }
            }
            // A sequential instruction retired.
            if STEP {
                record(trace, mem, region, insn_pc, &d, regs);
                continue 'outer;
            }
            match ops.get(idx) {
                Some(&n) => d = n,
                None => break 'outer Exit::LeftRegion,
            }
        }
    };

    hart.regs.copy_from_slice(&regs[..32]);
    hart.pc = pc!();
    hart.budget = remaining;
    hart.reservation = reservation;
    hart.counters.instructions += start_budget - remaining;
    exit
}

/// Instructions from slot `idx` to the end of its chain (its `run`). Read
/// from the cache rather than from the executing copy so the hot loop does
/// not keep `run` in a register.
#[cold]
fn chain_rest(ops: &[Decoded], idx: usize) -> u64 {
    ops.get(idx).map_or(0, |d| u64::from(d.run))
}

/// Decodes the straight-line chain starting at slot `start`: instructions
/// in sequence up to and including the first one that may not fall through
/// (jump, branch, `ecall`, `ebreak`, undecodable bytes), the region's end,
/// or an already decoded slot. Then sets each new slot's `run`: the number
/// of instructions from it to the chain's end, so a later entry at any slot
/// can charge its whole chain at once. Runs never go stale: a chain only
/// ever ends where execution cannot fall through, or where a decoded chain
/// (whose runs are final) continues it.
#[cold]
fn decode_chain(mem: &Memory, region: usize, base: u64, ops: &mut [Decoded], start: usize) {
    let mut chain = Vec::new();
    let mut i = start;
    let tail_run = loop {
        match ops.get(i) {
            None => break 0,
            Some(d) if d.kind != Kind::NotDecoded => break d.run,
            Some(_) => {}
        }
        let pc = base.wrapping_add((i as u64) << 1);
        let d = decode_at(mem, region, pc).unwrap_or(Decoded::UNDECODABLE);
        ops[i] = d;
        chain.push(i);
        if d.ends_chain() {
            break 0;
        }
        i += usize::from(d.parcels);
    };
    let mut run = tail_run;
    for &i in chain.iter().rev() {
        run = run.saturating_add(1);
        ops[i].run = run;
    }
}

/// Why an atomic's load half failed.
enum AtomicTrap {
    Misaligned,
    Fault,
}

#[inline(always)]
fn atomic_load<const N: usize>(mem: &mut Memory, addr: u64) -> Result<[u8; N], AtomicTrap> {
    if addr & (N as u64 - 1) != 0 {
        return Err(AtomicTrap::Misaligned);
    }
    mem.guest_load::<N>(addr).map_err(|_| AtomicTrap::Fault)
}

#[cold]
fn atomic_error(e: AtomicTrap, pc: u64, addr: u64, size: u8, access: Access) -> EmuError {
    match e {
        AtomicTrap::Misaligned => EmuError::MisalignedAtomic { pc, addr },
        AtomicTrap::Fault => EmuError::Fault {
            pc,
            addr,
            size,
            access,
        },
    }
}

/// New memory value of a 32-bit AMO (comparisons on the 32-bit values).
fn amo_w(op: AmoOp, old: u32, src: u32) -> u32 {
    match op {
        AmoOp::Swap => src,
        AmoOp::Add => old.wrapping_add(src),
        AmoOp::Xor => old ^ src,
        AmoOp::And => old & src,
        AmoOp::Or => old | src,
        AmoOp::Min => (old as i32).min(src as i32) as u32,
        AmoOp::Max => (old as i32).max(src as i32) as u32,
        AmoOp::Minu => old.min(src),
        AmoOp::Maxu => old.max(src),
    }
}

/// New memory value of a 64-bit AMO.
fn amo_d(op: AmoOp, old: u64, src: u64) -> u64 {
    match op {
        AmoOp::Swap => src,
        AmoOp::Add => old.wrapping_add(src),
        AmoOp::Xor => old ^ src,
        AmoOp::And => old & src,
        AmoOp::Or => old | src,
        AmoOp::Min => (old as i64).min(src as i64) as u64,
        AmoOp::Max => (old as i64).max(src as i64) as u64,
        AmoOp::Minu => old.min(src),
        AmoOp::Maxu => old.max(src),
    }
}

/// Decodes the instruction at `pc` in executable region `region`.
#[cold]
fn decode_at(mem: &Memory, region: usize, pc: u64) -> Result<Decoded, EmuError> {
    let fetch_fault = |size| EmuError::Fault {
        pc,
        addr: pc,
        size,
        access: Access::Execute,
    };
    let (raw, available) = mem.fetch_parcels(region, pc).ok_or(fetch_fault(2))?;
    let bytes = raw.to_le_bytes();
    match decode(&bytes[..available]) {
        Ok((inst, len)) => Ok(Decoded::translate(inst, len)),
        // A 32-bit encoding whose second half lies past the region's end.
        Err(DecodeError::Truncated { .. }) => Err(fetch_fault(4)),
        Err(_) => {
            let bits = if raw & 0b11 == 0b11 {
                raw
            } else {
                raw & 0xffff
            };
            Err(EmuError::IllegalInstruction { pc, bits })
        }
    }
}

#[inline(never)]
fn record(
    trace: &mut Option<super::trace::Trace>,
    mem: &Memory,
    region: usize,
    pc: u64,
    d: &Decoded,
    regs: &[u64; 256],
) {
    let Some(trace) = trace else { return };
    let len = d.parcels * 2;
    let (raw, _) = mem.fetch_parcels(region, pc).unwrap_or((0, 0));
    let bits = if len == 2 { raw & 0xffff } else { raw };
    let write = (d.writes_rd())
        .then(|| Reg::new(d.rd).map(|r| (r, regs[usize::from(d.rd)])))
        .flatten();
    trace.push(TraceEntry {
        pc,
        bits,
        len,
        write,
    });
}
