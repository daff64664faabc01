//! Loads, stores and atomics, and the address confinement of
//! [`Sandbox::Masked`](crate::Sandbox::Masked).
//!
//! # Masked addresses
//!
//! With `Sandbox::Masked` every access whose base is not R10 goes through
//!
//! ```text
//!   addi t4, base, off        ; or `li t4, off; add t4, t4, base` (off > 12 bits);
//!                             ; nothing when off = 0 (the shift reads base)
//!   slli t4, t4, 64-36        ; keep the low SANDBOX_BITS bits:
//!   srli t4, t4, 64-36        ;   t4 = (base + off) mod 2^36
//!   <access> 0(t4)
//! ```
//!
//! Pointers keep their VM values (only the accessed address is reduced),
//! so every access the interpreter allows lands at the same address and
//! results stay identical; any other address lands somewhere in
//! `[0, 2^36)`, which a native engine reserves whole (inaccessible except
//! the BPF regions). t4 is none of the register map's registers (see
//! `regmap.rs`), so it is free inside any one instruction.
//!
//! R10 itself is masked once, by the prologue ([`frame_pointer_mask`]):
//! the native stack, which holds saved `ra` and registers, lies above
//! 2^36, and the BPF stack is its mirror inside the sandbox.
//!
//! R10-based accesses are not masked: the verifier rejects any access
//! `r10 + off` outside `[r10 - 512, r10)` (`check_stack_access` in
//! `rvbpf_ebpf::verifier::dataflow`; R10 holds `Frame(0)` on entry and is
//! never written) and sizes the function's BPF stack to cover every such
//! offset (`FunctionFacts::stack_depth`), so the access stays in the
//! function's own (mirrored) frame.

use super::Cx;
use crate::frame::FrameLayout;
use crate::image::RelocKind;
use crate::items::{Item, Label};
use crate::regmap::{bpf_reg, T0, T1, T2, T3};
use crate::{JitError, JitOptions, Sandbox, SANDBOX_BITS};
use rvbpf_ebpf::inst::{AtomicOp, Operand, Reg as BpfReg, Size};
use rvbpf_ebpf::object::MapKind;
use rvbpf_rv64::{
    AluOp, AmoOp, AmoWidth, BranchOp, Imm12, Inst, LoadOp, Ordering, Reg, Shamt, ShiftOp, StoreOp,
};

/// Scratch register of masked addresses (not in the register map).
const MASKED: Reg = Reg::T4;

fn masked(cx: &Cx) -> bool {
    cx.prog.opts.sandbox == Sandbox::Masked
}

/// `base + off` as a (register, imm12) pair, computing into t2 when the
/// 16-bit BPF offset does not fit 12 bits. With `Sandbox::Masked` and a
/// base other than R10: t4 = the masked address, offset 0.
fn address(cx: &mut Cx, base: BpfReg, off: i16) -> (Reg, Imm12) {
    let base_reg = bpf_reg(base);
    if masked(cx) && base != BpfReg::R10 {
        return (masked_address(cx, base_reg, off), Imm12::ZERO);
    }
    if let Some(imm) = Imm12::new(off as i64) {
        return (base_reg, imm);
    }
    cx.li(T2, off as i64);
    cx.push(Inst::alu(AluOp::Add, T2, T2, base_reg));
    (T2, Imm12::ZERO)
}

/// t4 = (base + off) mod 2^SANDBOX_BITS (see the module docs).
fn masked_address(cx: &mut Cx, base: Reg, off: i16) -> Reg {
    let sum = match Imm12::new(off as i64) {
        _ if off == 0 => base,
        Some(imm) => {
            cx.push(Inst::addi(MASKED, base, imm));
            MASKED
        }
        None => {
            cx.li(MASKED, off as i64);
            cx.push(Inst::alu(AluOp::Add, MASKED, MASKED, base));
            MASKED
        }
    };
    let drop = 64 - SANDBOX_BITS;
    cx.shift(ShiftOp::Slli, MASKED, sum, drop);
    cx.shift(ShiftOp::Srli, MASKED, MASKED, drop);
    MASKED
}

/// With `Sandbox::Masked`, the end of a prologue that sets R10: `s5 =
/// (sp + bpf_stack) mod 2^SANDBOX_BITS` (`slli; srli` on s5), so that the
/// BPF stack is the *mirror* of the native frame inside the sandbox while
/// the native stack (saved `ra`, saved registers, tail-call count slot and
/// counter home) lies outside it, where no masked access reaches.
///
/// The engine runs the code on a native stack at `k * 2^SANDBOX_BITS +
/// [STACK_BASE, STACK_TOP)` for some k >= 1 and maps the VM stack region
/// itself for the mirror: R10 and every pointer derived from it are then
/// the same VM addresses as on the interpreter, and frames mirror frames
/// (same sizes, same order), so BPF stacks stay disjoint. When sp already
/// lies below 2^SANDBOX_BITS (the rv64 emulator) the mask changes nothing.
pub fn frame_pointer_mask(frame: &FrameLayout, opts: &JitOptions) -> Vec<Item> {
    if opts.sandbox != Sandbox::Masked || !frame.sets_r10 {
        return Vec::new();
    }
    let drop = Shamt::new(64 - SANDBOX_BITS).expect("fits 6 bits");
    let r10 = bpf_reg(BpfReg::R10);
    [ShiftOp::Slli, ShiftOp::Srli]
        .map(|op| {
            Item::Fixed(Inst::Shift {
                op,
                rd: r10,
                rs1: r10,
                shamt: drop,
            })
        })
        .to_vec()
}

/// With `Sandbox::Masked`, before a tail call reads the prog-array view
/// `array` points at (and jumps to an address it finds there): go on only
/// when `array` is the handle of one of the program's prog arrays, else
/// branch to `fail` (the tail call falls through, as for a bad index).
///
/// Masking `array` alone would not do: a view forged in BPF-writable
/// memory would make the tail call jump anywhere. The verifier checks r2
/// only where it is statically known. The views themselves must lie where
/// BPF code cannot write (the engine's job). Without prog arrays every
/// tail call fails. Costs `auipc; ld; bne` per prog array.
pub fn confine_prog_array(cx: &mut Cx, array: Reg, fail: Label) {
    if !masked(cx) {
        return;
    }
    let arrays: Vec<u32> = cx
        .facts()
        .map_kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| **k == MapKind::ProgArray)
        .map(|(i, _)| i as u32)
        .collect();
    let ok = cx.new_label();
    for (n, &map) in arrays.iter().enumerate() {
        let slot = cx.pool_slot(RelocKind::ProgArray(map));
        cx.item(Item::PoolLoad { rd: MASKED, slot });
        let last = n + 1 == arrays.len();
        cx.item(Item::Branch {
            op: if last { BranchOp::Bne } else { BranchOp::Beq },
            rs1: array,
            rs2: MASKED,
            target: if last { fail } else { ok },
        });
    }
    if arrays.is_empty() {
        cx.item(Item::Jump { target: fail });
    }
    cx.item(Item::Bind(ok));
}

pub fn lower_load(cx: &mut Cx, size: Size, signed: bool, dst: BpfReg, src: BpfReg, off: i16) {
    let op = match (size, signed) {
        (Size::B, false) => LoadOp::Lbu,
        (Size::B, true) => LoadOp::Lb,
        (Size::H, false) => LoadOp::Lhu,
        (Size::H, true) => LoadOp::Lh,
        (Size::W, false) => LoadOp::Lwu,
        (Size::W, true) => LoadOp::Lw,
        (Size::DW, _) => LoadOp::Ld,
    };
    let (rs1, offset) = address(cx, src, off);
    cx.push(Inst::Load {
        op,
        rd: bpf_reg(dst),
        rs1,
        offset,
    });
}

pub fn lower_store(cx: &mut Cx, size: Size, dst: BpfReg, off: i16, src: Operand) {
    let op = match size {
        Size::B => StoreOp::Sb,
        Size::H => StoreOp::Sh,
        Size::W => StoreOp::Sw,
        Size::DW => StoreOp::Sd,
    };
    let value = match src {
        Operand::Reg(s) => bpf_reg(s),
        Operand::Imm(0) => Reg::ZERO,
        Operand::Imm(i) => cx.operand_imm(i as i64),
    };
    let (rs1, offset) = address(cx, dst, off);
    cx.push(Inst::Store {
        op,
        rs1,
        rs2: value,
        offset,
    });
}

/// BPF atomics are sequentially consistent: every AMO/LR/SC is `.aqrl`.
pub fn lower_atomic(
    cx: &mut Cx,
    size: Size,
    op: AtomicOp,
    fetch: bool,
    dst: BpfReg,
    src: BpfReg,
    off: i16,
) -> Result<(), JitError> {
    let width = match size {
        Size::W => AmoWidth::W,
        Size::DW => AmoWidth::D,
        _ => return Err(cx.invalid("atomic operations are 32 or 64 bits")),
    };
    let is32 = width == AmoWidth::W;
    let addr = match off {
        0 if !masked(cx) || dst == BpfReg::R10 => bpf_reg(dst),
        _ => match address(cx, dst, off) {
            (base, Imm12::ZERO) => base,
            (base, imm) => {
                cx.push(Inst::addi(T2, base, imm));
                T2
            }
        },
    };
    let rs = bpf_reg(src);
    let ordering = Ordering::AcqRel;
    let amo = match op {
        AtomicOp::Add => AmoOp::Add,
        AtomicOp::Or => AmoOp::Or,
        AtomicOp::And => AmoOp::And,
        AtomicOp::Xor => AmoOp::Xor,
        AtomicOp::Xchg => AmoOp::Swap,
        AtomicOp::Cmpxchg => {
            cmpxchg(cx, width, addr, rs);
            return Ok(());
        }
    };
    cx.push(Inst::Amo {
        op: amo,
        width,
        ordering,
        rd: if fetch { rs } else { Reg::ZERO },
        rs1: addr,
        rs2: rs,
    });
    // amo*.w returns the old value sign-extended; BPF wants it zero-extended.
    if fetch && is32 {
        cx.zext32(rs, rs);
    }
    Ok(())
}

/// `r0 = cmpxchg(addr, r0, src)` as an LR/SC loop:
///
/// ```text
///   [sext.w t1, a5]          ; 32-bit: lr.w sign-extends, compare alike
/// retry:
///   lr.{w,d}.aqrl t0, (addr)
///   bne  t0, expected, done
///   sc.{w,d}.aqrl t3, src, (addr)
///   bnez t3, retry
/// done:
///   a5 = t0                  ; zero-extended for 32-bit
/// ```
fn cmpxchg(cx: &mut Cx, width: AmoWidth, addr: Reg, src: Reg) {
    let r0 = bpf_reg(BpfReg::R0);
    let ordering = Ordering::AcqRel;
    let expected = if width == AmoWidth::W {
        cx.sext32(T1, r0);
        T1
    } else {
        r0
    };
    let (retry, done) = (cx.new_label(), cx.new_label());
    cx.item(Item::Bind(retry));
    cx.push(Inst::Lr {
        width,
        ordering,
        rd: T0,
        rs1: addr,
    });
    cx.item(Item::Branch {
        op: BranchOp::Bne,
        rs1: T0,
        rs2: expected,
        target: done,
    });
    cx.push(Inst::Sc {
        width,
        ordering,
        rd: T3,
        rs1: addr,
        rs2: src,
    });
    cx.item(Item::Branch {
        op: BranchOp::Bne,
        rs1: T3,
        rs2: Reg::ZERO,
        target: retry,
    });
    cx.item(Item::Bind(done));
    if width == AmoWidth::W {
        cx.zext32(r0, T0);
    } else {
        cx.mv(r0, T0);
    }
}
