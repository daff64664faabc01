//! What each BPF instruction does to registers and control flow, decoded
//! once per instruction for every analysis of the function: register
//! liveness and upper-half liveness ([`super::live`]), known upper-half
//! facts ([`super::known`]) and the control-flow graph ([`super::cfg`]).
//!
//! One `match` per instruction, on purpose: in a program that mixes
//! instruction kinds, each `match` on the kind is a mispredicted branch,
//! and re-matching in every analysis cost more than the analyses' own
//! work. The passes then run over these dense records.

use super::consts::{alu_operand_constant, lddw_operand_constant};
use super::known::Known;
use rvbpf_ebpf::inst::{AluOp, AtomicOp, EndianOp, Inst, LddwKind, Operand, Reg, Size};

/// No register.
pub const NO_REG: u8 = u8::MAX;

/// The register effects of one instruction (bit n of a mask = rn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effects {
    /// Registers read, any bits (register liveness).
    pub reads: u16,
    /// Registers overwritten (register liveness).
    pub writes: u16,
    /// Registers whose upper half is read (upper-half liveness): 64-bit
    /// ALU operands, addresses, 64-bit stores and compares, call
    /// arguments, `exit`'s r0. Reads of only the low bits (ALU32 operands,
    /// narrow stores and byte swaps, `movsx`) do not count; `jmp32` does
    /// (it compares two registers known to be zero-extended as they are,
    /// and must extend anything else: a dropped zero-extension before a
    /// loop would cost one extension per iteration).
    pub reads_upper: u16,
    /// Registers whose upper half is overwritten (upper-half liveness).
    pub writes_upper: u16,
    /// Registers whose known facts are lost (known facts).
    pub clobbers: u16,
    /// The register whose facts the instruction sets, or [`NO_REG`].
    pub result: u8,
    /// Facts of `result`'s new value ...
    pub result_facts: Known,
    /// ... unless they are copied from this register ([`NO_REG`]: not).
    pub copy_facts_from: u8,
    /// `result` comes from an ALU32 operation: nothing is known of it when
    /// its zero-extension is dead (and the upper-half liveness decides
    /// whether it is).
    pub alu32: bool,
    /// Straight-line code: ALU, byte swap, `lddw`, load, store (no jump,
    /// call, atomic or exit); it writes at most `writes`.
    pub straight_line: bool,
}

/// Where control goes after one instruction (kept by [`super::cfg`] only,
/// so the per-pc [`Effects`] stay small).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Control continues at the next instruction (not `ja`, not `exit`).
    pub falls: bool,
    /// A jump's offset (target = pc + 1 + offset).
    pub jump: Option<i32>,
    /// Whether lowering will need a constant operand in a register, and
    /// its value (meaningless when not): [`super::consts`]'s input,
    /// decided in this `match` rather than in a second one on the kind.
    pub operand: (bool, i64),
}

/// No constant operand (see [`Flow::operand`]).
const NO_OPERAND: (bool, i64) = (false, 0);

/// The operand constant of an instruction with operand `src` that needs
/// a register for any non-zero immediate (compares, stores), without a
/// branch on the operand kind.
fn nonzero_immediate(src: Operand) -> (bool, i64) {
    let (is_imm, imm) = match src {
        Operand::Imm(i) => (true, i),
        Operand::Reg(_) => (false, 0),
    };
    (is_imm & (imm != 0), imm as i64)
}

fn bit(r: Reg) -> u16 {
    1 << r.index()
}

/// r1..r5: the arguments every call may take (the arity is unknown).
const ARGS: u16 = 0b11_1110;
/// r0..r5: what a call clobbers.
const CALLER_SAVED: u16 = 0b11_1111;
/// Every register.
const ALL: u16 = 0x7ff;

impl Effects {
    const NOTHING: Effects = Effects {
        reads: 0,
        writes: 0,
        reads_upper: 0,
        writes_upper: 0,
        clobbers: 0,
        result: NO_REG,
        result_facts: Known {
            zext: false,
            sext: false,
        },
        copy_facts_from: NO_REG,
        alu32: false,
        straight_line: false,
    };

    /// The effects of `inst` and where control goes after it.
    ///
    /// Kept out of line: inlined into the scan's loop it measured slower
    /// (and whether the compiler inlines it changed with unrelated edits).
    #[inline(never)]
    pub fn of(inst: &Inst) -> (Effects, Flow) {
        // Most instructions fall through; the jumps and `exit` return early.
        let mut falls = Flow {
            falls: true,
            jump: None,
            operand: NO_OPERAND,
        };
        let src_bit = |s: Operand| match s {
            Operand::Reg(r) => bit(r),
            Operand::Imm(_) => 0,
        };
        // A straight-line write of `dst` whose new facts are `facts`.
        let def = |dst: Reg, facts: Option<Known>| Effects {
            straight_line: true,
            writes: bit(dst),
            writes_upper: bit(dst),
            clobbers: bit(dst),
            result: dst.index() as u8,
            result_facts: facts.unwrap_or_default(),
            ..Effects::NOTHING
        };
        let effects = match *inst {
            Inst::Alu { is64, op, dst, src } => {
                let (is_imm, imm) = match src {
                    Operand::Imm(i) => (true, i),
                    Operand::Reg(_) => (false, 0),
                };
                let (needs, value) = alu_operand_constant(op, imm);
                falls.operand = (is_imm & needs, value);
                alu_effects(is64, op, dst, src)
            }
            Inst::Endian { op, dst, bits } => Effects {
                reads: bit(dst),
                // A 64-bit swap needs every byte; narrower ones only the
                // low ones. `le64` is a no-op that passes all 64 bits
                // through, so it reads them all too (else an ALU32 result's
                // zero-extension before it would look dead).
                reads_upper: if bits == 64 { bit(dst) } else { 0 },
                ..def(
                    dst,
                    match (op, bits) {
                        (_, 16) => Some(Known::SMALL),
                        (_, 32) => Some(Known::ZEXT),
                        (EndianOp::Le | EndianOp::Be | EndianOp::Swap, _) => None,
                    },
                )
            },
            Inst::Lddw { dst, kind } => def(
                dst,
                match kind {
                    LddwKind::Imm(v) => {
                        falls.operand = lddw_operand_constant(v);
                        Some(Known::of_value(v as i64))
                    }
                    _ => None,
                },
            ),
            Inst::LddwHigh => Effects {
                straight_line: true,
                ..Effects::NOTHING
            },
            Inst::Load {
                size,
                signed,
                dst,
                src,
                ..
            } => Effects {
                reads: bit(src),
                reads_upper: bit(src),
                // By width, without a branch on it: unsigned narrow loads
                // zero-extend (B and H stay below 2^31), signed ones
                // sign-extend, DW says nothing.
                ..def(
                    dst,
                    Some(Known {
                        zext: !signed & (size != Size::DW),
                        sext: signed | matches!(size, Size::B | Size::H),
                    }),
                )
            },
            Inst::Store { size, dst, src, .. } => {
                falls.operand = nonzero_immediate(src);
                Effects {
                    reads: bit(dst) | src_bit(src),
                    reads_upper: bit(dst) | if size == Size::DW { src_bit(src) } else { 0 },
                    straight_line: true,
                    ..Effects::NOTHING
                }
            }
            Inst::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                ..
            } => {
                let cmpxchg = op == AtomicOp::Cmpxchg;
                let r0 = bit(Reg::R0);
                let wide = size == Size::DW;
                Effects {
                    // Register liveness counts every atomic as reading dst,
                    // src and (cmpxchg) r0 and writing nothing: safe there.
                    reads: bit(dst) | bit(src) | if cmpxchg { r0 } else { 0 },
                    reads_upper: bit(dst)
                        | if wide { bit(src) } else { 0 }
                        | if cmpxchg && wide { r0 } else { 0 },
                    // A fetching op returns the old value in src; cmpxchg
                    // returns it in r0 and leaves src alone (though its
                    // encoding has BPF_FETCH).
                    writes_upper: if cmpxchg { r0 } else { 0 }
                        | if fetch && !cmpxchg { bit(src) } else { 0 },
                    clobbers: r0 | if fetch { bit(src) } else { 0 },
                    ..Effects::NOTHING
                }
            }
            Inst::Ja { off, .. } => {
                let flow = Flow {
                    falls: false,
                    jump: Some(off),
                    operand: NO_OPERAND,
                };
                return (Effects::NOTHING, flow);
            }
            Inst::Jump { dst, src, off, .. } => {
                let effects = Effects {
                    reads: bit(dst) | src_bit(src),
                    reads_upper: bit(dst) | src_bit(src),
                    ..Effects::NOTHING
                };
                let flow = Flow {
                    falls: true,
                    jump: Some(off as i32),
                    operand: nonzero_immediate(src),
                };
                return (effects, flow);
            }
            // Calls take r1..r5 whole and clobber r0..r5.
            Inst::Call(_) => Effects {
                reads: ARGS,
                writes: CALLER_SAVED,
                reads_upper: ARGS,
                writes_upper: CALLER_SAVED,
                clobbers: CALLER_SAVED,
                ..Effects::NOTHING
            },
            Inst::Callx { reg } => Effects {
                reads: ARGS | bit(reg),
                writes: CALLER_SAVED,
                reads_upper: ARGS | bit(reg),
                writes_upper: CALLER_SAVED,
                clobbers: CALLER_SAVED,
                ..Effects::NOTHING
            },
            Inst::Exit => {
                let effects = Effects {
                    reads: bit(Reg::R0),
                    reads_upper: bit(Reg::R0),
                    ..Effects::NOTHING
                };
                let flow = Flow {
                    falls: false,
                    jump: None,
                    operand: NO_OPERAND,
                };
                return (effects, flow);
            }
            // A runtime call (lower/packet.rs): be conservative.
            Inst::LoadPacket { .. } => Effects {
                reads: ALL,
                reads_upper: ALL,
                writes_upper: CALLER_SAVED,
                clobbers: CALLER_SAVED,
                ..Effects::NOTHING
            },
        };
        (effects, falls)
    }
}

/// The effects of an ALU operation (the most common kind), computed
/// without branching on its operation or operand: they come in no
/// predictable order, and each branch on them was a misprediction. The
/// facts of the result are [`alu_facts`]'s (a unit test holds the two
/// together).
fn alu_effects(is64: bool, op: AluOp, dst: Reg, src: Operand) -> Effects {
    let (is_imm, imm, src_reg) = match src {
        Operand::Imm(i) => (true, i, NO_REG),
        Operand::Reg(r) => (false, 0, r.index() as u8),
    };
    let movsx = matches!(op, AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32);
    let plain_mov = op == AluOp::Mov;
    let (and, rsh) = (op == AluOp::And, op == AluOp::Rsh);
    // Bit `src_reg` (NO_REG, masked to 15, is no register's bit) when a
    // register operand.
    let src_bit = ((!is_imm) as u16) << (src_reg & 15);
    let reads = (bit(dst) * !(plain_mov | movsx) as u16) | src_bit;
    let reads_upper = reads * (is64 & !movsx) as u16;
    // A moved or non-negative mask immediate: the value itself is known
    // (a 32-bit one zero-extended; for the mask that changes nothing).
    let exact = is_imm & (plain_mov | (and & (imm >= 0)));
    let v = if is64 { imm as i64 } else { imm as u32 as i64 };
    let of_v = Known::of_value(v);
    let shift64 = imm & 63;
    let rsh_imm = rsh & is_imm;
    // Every ALU32 result is zero-extended; a 64-bit shift right by 32 or
    // more leaves the upper half zero.
    let zext = (exact & of_v.zext) | (!is64 & !exact) | (is64 & rsh_imm & (shift64 >= 32));
    // A logical shift right clears bit 31 (32-bit: by 1..31; 64-bit: by
    // 33 or more); movsx sign-extends.
    let sext = (exact & of_v.sext)
        | (!is64 & !exact & rsh_imm & (imm & 31 != 0))
        | (is64 & movsx)
        | (is64 & rsh_imm & (shift64 >= 33));
    let copies = is64 & plain_mov & !is_imm;
    Effects {
        reads,
        reads_upper,
        writes: bit(dst),
        writes_upper: bit(dst),
        clobbers: bit(dst),
        result: dst.index() as u8,
        result_facts: Known { zext, sext },
        copy_facts_from: if copies { src_reg } else { NO_REG },
        alu32: !is64,
        straight_line: true,
    }
}

/// What is known of an ALU result (when its zero-extension is kept), or
/// the register it copies its facts from, case by case: the specification
/// [`alu_effects`] computes without branches. These are properties of the
/// values the lowering guarantees to produce.
#[cfg(test)]
fn alu_facts(is64: bool, op: AluOp, src: Operand) -> (Option<Known>, u8) {
    let facts = if !is64 {
        match (op, src) {
            (AluOp::Mov, Operand::Imm(i)) => Known::of_value(i as u32 as i64),
            // A non-negative mask bounds the value.
            (AluOp::And, Operand::Imm(i)) if i >= 0 => Known::of_value(i as i64),
            (AluOp::Rsh, Operand::Imm(i)) if i & 31 != 0 => Known::SMALL,
            // Every other ALU32 result is zero-extended.
            _ => Known::ZEXT,
        }
    } else {
        match (op, src) {
            (AluOp::Mov, Operand::Reg(s)) => return (None, s.index() as u8),
            (AluOp::Mov, Operand::Imm(i)) => Known::of_value(i as i64),
            (AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32, _) => Known::SEXT,
            (AluOp::And, Operand::Imm(i)) if i >= 0 => Known::of_value(i as i64),
            (AluOp::Rsh, Operand::Imm(i)) if i & 63 >= 33 => Known::SMALL,
            (AluOp::Rsh, Operand::Imm(i)) if i & 63 == 32 => Known::ZEXT,
            _ => return (None, NO_REG),
        }
    };
    (Some(facts), NO_REG)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The branch-free ALU effects against the case-by-case facts and the
    /// register sets stated by hand.
    #[test]
    fn alu_effects_agree_with_the_case_by_case_facts() {
        use AluOp::*;
        let ops = [
            Add, Sub, Mul, Div, Sdiv, Or, And, Lsh, Rsh, Neg, Mod, Smod, Xor, Mov, Movsx8, Movsx16,
            Movsx32, Arsh,
        ];
        let imms = [
            0,
            1,
            7,
            31,
            32,
            33,
            63,
            64,
            95,
            96,
            0x7fff_ffff,
            -1,
            -2,
            -32,
            -33,
            i32::MIN,
            0x8000,
            -0x8000,
            0x1234_5678,
        ];
        let r = |n| Reg::new(n).unwrap();
        let mut srcs: Vec<Operand> = imms.iter().map(|&i| Operand::Imm(i)).collect();
        srcs.extend([0, 3, 9, 10].map(|n| Operand::Reg(r(n))));
        for is64 in [false, true] {
            for op in ops {
                for &src in &srcs {
                    for dst in [r(0), r(3), r(9)] {
                        let e = alu_effects(is64, op, dst, src);
                        let (facts, copy) = alu_facts(is64, op, src);
                        let at = format!("{is64} {op:?} {dst:?} {src:?}");
                        assert_eq!(e.result_facts, facts.unwrap_or_default(), "{at}");
                        assert_eq!(e.copy_facts_from, copy, "{at}");
                        // Moves do not read dst; movsx and ALU32 read only
                        // low halves.
                        let movsx = matches!(op, Movsx8 | Movsx16 | Movsx32);
                        let s = match src {
                            Operand::Reg(s) => bit(s),
                            Operand::Imm(_) => 0,
                        };
                        let d = if op == Mov || movsx { 0 } else { bit(dst) };
                        assert_eq!(e.reads, d | s, "{at}");
                        let upper = if is64 && !movsx { d | s } else { 0 };
                        assert_eq!(e.reads_upper, upper, "{at}");
                        let w = bit(dst);
                        assert_eq!((e.writes, e.writes_upper, e.clobbers), (w, w, w), "{at}");
                        assert_eq!(e.result, dst.index() as u8, "{at}");
                        assert_eq!((e.alu32, e.straight_line), (!is64, true), "{at}");
                    }
                }
            }
        }
    }
}
