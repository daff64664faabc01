//! Typed BPF instructions (RFC 9669, ISA v1–v4) and strict decoding from raw
//! slots.
//!
//! Decoding is strict: every field the instruction does not use must be zero
//! (RFC 9669 §3), so `decode(encode(i)) == i` and a raw slot either maps to
//! exactly one `Inst` or is rejected with a [`DecodeError`] naming the pc.
//! A `lddw` occupies two slots; [`decode_program`] yields one entry per slot
//! and marks the second slot [`Inst::LddwHigh`], which no valid jump may
//! target.

use crate::insn::{op, pseudo, Insn};
use std::fmt;

/// A BPF register r0..r10. r10 is the read-only frame pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    pub const R0: Reg = Reg(0);
    pub const R1: Reg = Reg(1);
    pub const R2: Reg = Reg(2);
    pub const R3: Reg = Reg(3);
    pub const R4: Reg = Reg(4);
    pub const R5: Reg = Reg(5);
    pub const R6: Reg = Reg(6);
    pub const R7: Reg = Reg(7);
    pub const R8: Reg = Reg(8);
    pub const R9: Reg = Reg(9);
    pub const R10: Reg = Reg(10);
    /// The frame pointer.
    pub const FP: Reg = Reg(10);

    /// `None` for numbers above 10.
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 {
            Some(Reg(n))
        } else {
            None
        }
    }
    pub const fn index(self) -> usize {
        self.0 as usize
    }
    pub const fn num(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// Second operand of ALU and jump instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    Reg(Reg),
    Imm(i32),
}

/// Arithmetic and logic operations. `Sdiv`/`Smod` are the v4 signed forms
/// (offset 1), `Movsx*` the v4 sign-extending moves (offset 8/16/32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    Sdiv,
    Or,
    And,
    Lsh,
    Rsh,
    Neg,
    Mod,
    Smod,
    Xor,
    Mov,
    Movsx8,
    Movsx16,
    Movsx32,
    Arsh,
}

/// Byte-order operations. `Le`/`Be` convert to little/big endian (and
/// truncate to the width), `Swap` is the v4 unconditional swap (`bswap`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndianOp {
    Le,
    Be,
    Swap,
}

/// Memory access width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    B,
    H,
    W,
    DW,
}

impl Size {
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
    fn from_bits(b: u8) -> Size {
        match b & 0x18 {
            op::B => Size::B,
            op::H => Size::H,
            op::W => Size::W,
            _ => Size::DW,
        }
    }
    const fn bits(self) -> u8 {
        match self {
            Size::B => op::B,
            Size::H => op::H,
            Size::W => op::W,
            Size::DW => op::DW,
        }
    }
}

/// Conditions of conditional jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    Eq,
    Gt,
    Ge,
    Set,
    Ne,
    Sgt,
    Sge,
    Lt,
    Le,
    Slt,
    Sle,
}

/// Read-modify-write operations of `BPF_ATOMIC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add,
    Or,
    And,
    Xor,
    /// Always fetches: `src = xchg(mem, src)`.
    Xchg,
    /// Always fetches: `r0 = cmpxchg(mem, r0, src)`.
    Cmpxchg,
}

/// What a `call` instruction calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallTarget {
    /// A helper by its (Linux) number.
    Helper(i32),
    /// A bpf2bpf call: callee pc = pc + 1 + offset.
    Local(i32),
    /// A kfunc: index into `Object::kfuncs`.
    Kfunc(u32),
}

/// What a `lddw` loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LddwKind {
    /// A 64-bit constant.
    Imm(u64),
    /// A handle to map number `map` (index into `Object::maps`).
    Map { map: u32 },
    /// The address of byte `offset` of map `map`'s value (global data).
    MapValue { map: u32, offset: u32 },
    /// The address of the subprogram at pc + 1 + `offset` (callbacks).
    Func { offset: i32 },
}

/// One typed instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Inst {
    /// `dst = dst op src` (or `dst = -dst` for `Neg`, `dst = src` for moves).
    /// 32-bit forms (`is64 == false`) zero-extend the result.
    Alu {
        is64: bool,
        op: AluOp,
        dst: Reg,
        src: Operand,
    },
    /// Byte-order conversion of `dst` on its low `bits` (16, 32 or 64).
    Endian {
        op: EndianOp,
        dst: Reg,
        bits: u8,
    },
    /// `lddw`, first slot (the second slot decodes as `LddwHigh`).
    Lddw {
        dst: Reg,
        kind: LddwKind,
    },
    /// Second slot of a `lddw`; never executed.
    LddwHigh,
    /// Legacy packet access `ldabs`/`ldind` (r0 = packet[src? + imm]).
    LoadPacket {
        size: Size,
        index: Option<Reg>,
        imm: i32,
    },
    /// `dst = *(size *)(src + off)`, sign-extended when `signed` (v4 MEMSX).
    Load {
        size: Size,
        signed: bool,
        dst: Reg,
        src: Reg,
        off: i16,
    },
    /// `*(size *)(dst + off) = src`.
    Store {
        size: Size,
        dst: Reg,
        off: i16,
        src: Operand,
    },
    /// Atomic read-modify-write on `*(size *)(dst + off)` with `src`;
    /// `fetch` puts the old value in `src` (r0 for `Cmpxchg`). Size is W or DW.
    Atomic {
        size: Size,
        op: AtomicOp,
        fetch: bool,
        dst: Reg,
        src: Reg,
        off: i16,
    },
    /// Unconditional jump to pc + 1 + `off` (`ja` uses a 16-bit offset,
    /// `gotol` a 32-bit one; `long` records which encoding).
    Ja {
        off: i32,
        long: bool,
    },
    /// Conditional jump to pc + 1 + `off` when `dst cond src` holds,
    /// comparing 32-bit halves when `is32`.
    Jump {
        is32: bool,
        cond: Cond,
        dst: Reg,
        src: Operand,
        off: i16,
    },
    Call(CallTarget),
    /// Call the helper whose number is in `reg` (LLVM encodes the register in dst).
    Callx {
        reg: Reg,
    },
    Exit,
}

impl Inst {
    /// Number of 8-byte slots the instruction occupies.
    pub fn slots(&self) -> usize {
        match self {
            Inst::Lddw { .. } => 2,
            _ => 1,
        }
    }
}

/// Why a raw slot is not a valid instruction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("pc {pc}: unknown opcode {opc:#04x}")]
    UnknownOpcode { pc: usize, opc: u8 },
    #[error("pc {pc}: register r{reg} does not exist (r0..r10)")]
    BadRegister { pc: usize, reg: u8 },
    #[error("pc {pc}: field `{field}` must be zero for opcode {opc:#04x}")]
    NonZeroField {
        pc: usize,
        opc: u8,
        field: &'static str,
    },
    #[error("pc {pc}: invalid value {value} in field `{field}` for opcode {opc:#04x}")]
    BadField {
        pc: usize,
        opc: u8,
        field: &'static str,
        value: i64,
    },
    #[error("pc {pc}: lddw is missing its second slot")]
    IncompleteLddw { pc: usize },
}

fn reg(pc: usize, n: u8) -> Result<Reg, DecodeError> {
    Reg::new(n).ok_or(DecodeError::BadRegister { pc, reg: n })
}

/// Ensures each named field is zero.
fn zero(pc: usize, i: Insn, fields: &[&'static str]) -> Result<(), DecodeError> {
    for &f in fields {
        let v = match f {
            "dst" => i.dst as i64,
            "src" => i.src as i64,
            "off" => i.off as i64,
            _ => i.imm as i64,
        };
        if v != 0 {
            return Err(DecodeError::NonZeroField {
                pc,
                opc: i.opc,
                field: f,
            });
        }
    }
    Ok(())
}

/// Decodes the instruction at `pc` (which may span two slots).
pub fn decode_at(insns: &[Insn], pc: usize) -> Result<Inst, DecodeError> {
    let i = insns[pc];
    match i.class() {
        op::ALU | op::ALU64 => decode_alu(pc, i),
        op::JMP | op::JMP32 => decode_jmp(pc, i),
        op::LD => decode_ld(insns, pc),
        op::LDX => {
            let mode = i.opc & 0xe0;
            let size = Size::from_bits(i.opc);
            let signed = match mode {
                op::MEM => false,
                op::MEMSX if size != Size::DW => true,
                _ => return Err(DecodeError::UnknownOpcode { pc, opc: i.opc }),
            };
            zero(pc, i, &["imm"])?;
            Ok(Inst::Load {
                size,
                signed,
                dst: reg(pc, i.dst)?,
                src: reg(pc, i.src)?,
                off: i.off,
            })
        }
        op::ST => {
            if i.opc & 0xe0 != op::MEM {
                return Err(DecodeError::UnknownOpcode { pc, opc: i.opc });
            }
            zero(pc, i, &["src"])?;
            Ok(Inst::Store {
                size: Size::from_bits(i.opc),
                dst: reg(pc, i.dst)?,
                off: i.off,
                src: Operand::Imm(i.imm),
            })
        }
        _ => decode_stx(pc, i),
    }
}

fn decode_stx(pc: usize, i: Insn) -> Result<Inst, DecodeError> {
    let size = Size::from_bits(i.opc);
    let (dst, src) = (reg(pc, i.dst)?, reg(pc, i.src)?);
    match i.opc & 0xe0 {
        op::MEM => {
            zero(pc, i, &["imm"])?;
            Ok(Inst::Store {
                size,
                dst,
                off: i.off,
                src: Operand::Reg(src),
            })
        }
        op::ATOMIC if matches!(size, Size::W | Size::DW) => {
            let (aop, fetch) = match i.imm {
                x if x == op::ATOMIC_ADD => (AtomicOp::Add, false),
                x if x == op::ATOMIC_OR => (AtomicOp::Or, false),
                x if x == op::ATOMIC_AND => (AtomicOp::And, false),
                x if x == op::ATOMIC_XOR => (AtomicOp::Xor, false),
                x if x == op::ATOMIC_ADD | op::FETCH => (AtomicOp::Add, true),
                x if x == op::ATOMIC_OR | op::FETCH => (AtomicOp::Or, true),
                x if x == op::ATOMIC_AND | op::FETCH => (AtomicOp::And, true),
                x if x == op::ATOMIC_XOR | op::FETCH => (AtomicOp::Xor, true),
                x if x == op::ATOMIC_XCHG => (AtomicOp::Xchg, true),
                x if x == op::ATOMIC_CMPXCHG => (AtomicOp::Cmpxchg, true),
                x => {
                    return Err(DecodeError::BadField {
                        pc,
                        opc: i.opc,
                        field: "imm",
                        value: x as i64,
                    })
                }
            };
            Ok(Inst::Atomic {
                size,
                op: aop,
                fetch,
                dst,
                src,
                off: i.off,
            })
        }
        _ => Err(DecodeError::UnknownOpcode { pc, opc: i.opc }),
    }
}

fn decode_ld(insns: &[Insn], pc: usize) -> Result<Inst, DecodeError> {
    let i = insns[pc];
    let size = Size::from_bits(i.opc);
    match i.opc & 0xe0 {
        op::IMM if size == Size::DW => {
            let hi = *insns
                .get(pc + 1)
                .ok_or(DecodeError::IncompleteLddw { pc })?;
            if hi.opc != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0 {
                return Err(DecodeError::IncompleteLddw { pc });
            }
            zero(pc, i, &["off"])?;
            let dst = reg(pc, i.dst)?;
            let kind = match i.src {
                pseudo::LDDW_IMM => {
                    LddwKind::Imm((i.imm as u32 as u64) | ((hi.imm as u32 as u64) << 32))
                }
                pseudo::MAP_FD => {
                    zero(pc + 1, hi, &["imm"])?;
                    LddwKind::Map { map: i.imm as u32 }
                }
                pseudo::MAP_VALUE => LddwKind::MapValue {
                    map: i.imm as u32,
                    offset: hi.imm as u32,
                },
                pseudo::FUNC => {
                    zero(pc + 1, hi, &["imm"])?;
                    LddwKind::Func { offset: i.imm }
                }
                s => {
                    return Err(DecodeError::BadField {
                        pc,
                        opc: i.opc,
                        field: "src",
                        value: s as i64,
                    })
                }
            };
            Ok(Inst::Lddw { dst, kind })
        }
        op::ABS | op::IND if size != Size::DW => {
            zero(pc, i, &["dst", "off"])?;
            let index = if i.opc & 0xe0 == op::IND {
                Some(reg(pc, i.src)?)
            } else {
                zero(pc, i, &["src"])?;
                None
            };
            Ok(Inst::LoadPacket {
                size,
                index,
                imm: i.imm,
            })
        }
        _ => Err(DecodeError::UnknownOpcode { pc, opc: i.opc }),
    }
}

fn decode_alu(pc: usize, i: Insn) -> Result<Inst, DecodeError> {
    let is64 = i.class() == op::ALU64;
    let dst = reg(pc, i.dst)?;
    let code = i.opc & 0xf0;
    let is_x = i.opc & op::X != 0;
    if code == op::END {
        zero(pc, i, &["src", "off"])?;
        let eop = match (is64, is_x) {
            (false, false) => EndianOp::Le,
            (false, true) => EndianOp::Be,
            (true, false) => EndianOp::Swap,
            (true, true) => return Err(DecodeError::UnknownOpcode { pc, opc: i.opc }),
        };
        if !matches!(i.imm, 16 | 32 | 64) {
            return Err(DecodeError::BadField {
                pc,
                opc: i.opc,
                field: "imm",
                value: i.imm as i64,
            });
        }
        return Ok(Inst::Endian {
            op: eop,
            dst,
            bits: i.imm as u8,
        });
    }
    let src = if is_x {
        zero(pc, i, &["imm"])?;
        Operand::Reg(reg(pc, i.src)?)
    } else {
        zero(pc, i, &["src"])?;
        Operand::Imm(i.imm)
    };
    let bad_off = || DecodeError::BadField {
        pc,
        opc: i.opc,
        field: "off",
        value: i.off as i64,
    };
    let aop = match code {
        op::ADD => AluOp::Add,
        op::SUB => AluOp::Sub,
        op::MUL => AluOp::Mul,
        op::OR => AluOp::Or,
        op::AND => AluOp::And,
        op::LSH => AluOp::Lsh,
        op::RSH => AluOp::Rsh,
        op::XOR => AluOp::Xor,
        op::ARSH => AluOp::Arsh,
        op::NEG => {
            zero(pc, i, &["src", "imm", "off"])?;
            if is_x {
                return Err(DecodeError::UnknownOpcode { pc, opc: i.opc });
            }
            return Ok(Inst::Alu {
                is64,
                op: AluOp::Neg,
                dst,
                src: Operand::Imm(0),
            });
        }
        op::DIV | op::MOD => {
            let signed = match i.off {
                0 => false,
                1 => true,
                _ => return Err(bad_off()),
            };
            let aop = match (code == op::DIV, signed) {
                (true, false) => AluOp::Div,
                (true, true) => AluOp::Sdiv,
                (false, false) => AluOp::Mod,
                (false, true) => AluOp::Smod,
            };
            return Ok(Inst::Alu {
                is64,
                op: aop,
                dst,
                src,
            });
        }
        op::MOV => {
            let aop = match (i.off, is_x, is64) {
                (0, _, _) => AluOp::Mov,
                (8, true, _) => AluOp::Movsx8,
                (16, true, _) => AluOp::Movsx16,
                (32, true, true) => AluOp::Movsx32,
                _ => return Err(bad_off()),
            };
            return Ok(Inst::Alu {
                is64,
                op: aop,
                dst,
                src,
            });
        }
        _ => return Err(DecodeError::UnknownOpcode { pc, opc: i.opc }),
    };
    zero(pc, i, &["off"])?;
    Ok(Inst::Alu {
        is64,
        op: aop,
        dst,
        src,
    })
}

fn decode_jmp(pc: usize, i: Insn) -> Result<Inst, DecodeError> {
    let is32 = i.class() == op::JMP32;
    let code = i.opc & 0xf0;
    let is_x = i.opc & op::X != 0;
    let cond = match code {
        op::JA => {
            if is_x {
                return Err(DecodeError::UnknownOpcode { pc, opc: i.opc });
            }
            return if is32 {
                zero(pc, i, &["dst", "src", "off"])?;
                Ok(Inst::Ja {
                    off: i.imm,
                    long: true,
                })
            } else {
                zero(pc, i, &["dst", "src", "imm"])?;
                Ok(Inst::Ja {
                    off: i.off as i32,
                    long: false,
                })
            };
        }
        op::CALL if !is32 => {
            if is_x {
                zero(pc, i, &["src", "off", "imm"])?;
                return Ok(Inst::Callx {
                    reg: reg(pc, i.dst)?,
                });
            }
            zero(pc, i, &["dst", "off"])?;
            let t = match i.src {
                pseudo::CALL_HELPER => CallTarget::Helper(i.imm),
                pseudo::CALL_LOCAL => CallTarget::Local(i.imm),
                pseudo::CALL_KFUNC => CallTarget::Kfunc(i.imm as u32),
                s => {
                    return Err(DecodeError::BadField {
                        pc,
                        opc: i.opc,
                        field: "src",
                        value: s as i64,
                    })
                }
            };
            return Ok(Inst::Call(t));
        }
        op::EXIT if !is32 && !is_x => {
            zero(pc, i, &["dst", "src", "off", "imm"])?;
            return Ok(Inst::Exit);
        }
        op::JEQ => Cond::Eq,
        op::JGT => Cond::Gt,
        op::JGE => Cond::Ge,
        op::JSET => Cond::Set,
        op::JNE => Cond::Ne,
        op::JSGT => Cond::Sgt,
        op::JSGE => Cond::Sge,
        op::JLT => Cond::Lt,
        op::JLE => Cond::Le,
        op::JSLT => Cond::Slt,
        op::JSLE => Cond::Sle,
        _ => return Err(DecodeError::UnknownOpcode { pc, opc: i.opc }),
    };
    let src = if is_x {
        zero(pc, i, &["imm"])?;
        Operand::Reg(reg(pc, i.src)?)
    } else {
        zero(pc, i, &["src"])?;
        Operand::Imm(i.imm)
    };
    Ok(Inst::Jump {
        is32,
        cond,
        dst: reg(pc, i.dst)?,
        src,
        off: i.off,
    })
}

/// Decodes a whole instruction stream, one entry per slot (second `lddw`
/// slots become [`Inst::LddwHigh`]).
pub fn decode_program(insns: &[Insn]) -> Result<Vec<Inst>, DecodeError> {
    let mut out = Vec::with_capacity(insns.len());
    let mut pc = 0;
    while pc < insns.len() {
        let inst = decode_at(insns, pc)?;
        out.push(inst);
        if inst.slots() == 2 {
            out.push(Inst::LddwHigh);
        }
        pc += inst.slots();
    }
    Ok(out)
}

fn src_bits(src: Operand) -> (u8, u8, i32) {
    match src {
        Operand::Reg(r) => (op::X, r.num(), 0),
        Operand::Imm(v) => (op::K, 0, v),
    }
}

/// Encodes one instruction into its raw slot(s). `LddwHigh` encodes to
/// nothing (it is produced together with its `Lddw`).
pub fn encode(inst: &Inst) -> Vec<Insn> {
    match *inst {
        Inst::Alu {
            is64,
            op: aop,
            dst,
            src,
        } => {
            let class = if is64 { op::ALU64 } else { op::ALU };
            let (x, s, imm) = src_bits(src);
            let (code, off) = match aop {
                AluOp::Add => (op::ADD, 0),
                AluOp::Sub => (op::SUB, 0),
                AluOp::Mul => (op::MUL, 0),
                AluOp::Div => (op::DIV, 0),
                AluOp::Sdiv => (op::DIV, 1),
                AluOp::Or => (op::OR, 0),
                AluOp::And => (op::AND, 0),
                AluOp::Lsh => (op::LSH, 0),
                AluOp::Rsh => (op::RSH, 0),
                AluOp::Neg => return vec![Insn::new(class | op::NEG, dst.num(), 0, 0, 0)],
                AluOp::Mod => (op::MOD, 0),
                AluOp::Smod => (op::MOD, 1),
                AluOp::Xor => (op::XOR, 0),
                AluOp::Mov => (op::MOV, 0),
                AluOp::Movsx8 => (op::MOV, 8),
                AluOp::Movsx16 => (op::MOV, 16),
                AluOp::Movsx32 => (op::MOV, 32),
                AluOp::Arsh => (op::ARSH, 0),
            };
            vec![Insn::new(class | code | x, dst.num(), s, off, imm)]
        }
        Inst::Endian { op: eop, dst, bits } => {
            let opc = match eop {
                EndianOp::Le => op::ALU | op::END | op::TO_LE,
                EndianOp::Be => op::ALU | op::END | op::TO_BE,
                EndianOp::Swap => op::ALU64 | op::END | op::TO_LE,
            };
            vec![Insn::new(opc, dst.num(), 0, 0, bits as i32)]
        }
        Inst::Lddw { dst, kind } => {
            let opc = op::LD | op::IMM | op::DW;
            let (src, lo, hi) = match kind {
                LddwKind::Imm(v) => (pseudo::LDDW_IMM, v as u32 as i32, (v >> 32) as u32 as i32),
                LddwKind::Map { map } => (pseudo::MAP_FD, map as i32, 0),
                LddwKind::MapValue { map, offset } => {
                    (pseudo::MAP_VALUE, map as i32, offset as i32)
                }
                LddwKind::Func { offset } => (pseudo::FUNC, offset, 0),
            };
            vec![
                Insn::new(opc, dst.num(), src, 0, lo),
                Insn::new(0, 0, 0, 0, hi),
            ]
        }
        Inst::LddwHigh => vec![],
        Inst::LoadPacket { size, index, imm } => {
            let (mode, s) = match index {
                Some(r) => (op::IND, r.num()),
                None => (op::ABS, 0),
            };
            vec![Insn::new(op::LD | mode | size.bits(), 0, s, 0, imm)]
        }
        Inst::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => {
            let mode = if signed { op::MEMSX } else { op::MEM };
            vec![Insn::new(
                op::LDX | mode | size.bits(),
                dst.num(),
                src.num(),
                off,
                0,
            )]
        }
        Inst::Store {
            size,
            dst,
            off,
            src,
        } => match src {
            Operand::Reg(r) => vec![Insn::new(
                op::STX | op::MEM | size.bits(),
                dst.num(),
                r.num(),
                off,
                0,
            )],
            Operand::Imm(v) => vec![Insn::new(
                op::ST | op::MEM | size.bits(),
                dst.num(),
                0,
                off,
                v,
            )],
        },
        Inst::Atomic {
            size,
            op: aop,
            fetch,
            dst,
            src,
            off,
        } => {
            let base = match aop {
                AtomicOp::Add => op::ATOMIC_ADD,
                AtomicOp::Or => op::ATOMIC_OR,
                AtomicOp::And => op::ATOMIC_AND,
                AtomicOp::Xor => op::ATOMIC_XOR,
                AtomicOp::Xchg => op::ATOMIC_XCHG,
                AtomicOp::Cmpxchg => op::ATOMIC_CMPXCHG,
            };
            let imm = if fetch { base | op::FETCH } else { base };
            vec![Insn::new(
                op::STX | op::ATOMIC | size.bits(),
                dst.num(),
                src.num(),
                off,
                imm,
            )]
        }
        Inst::Ja { off, long } => {
            if long {
                vec![Insn::new(op::JMP32 | op::JA, 0, 0, 0, off)]
            } else {
                vec![Insn::new(op::JMP | op::JA, 0, 0, off as i16, 0)]
            }
        }
        Inst::Jump {
            is32,
            cond,
            dst,
            src,
            off,
        } => {
            let class = if is32 { op::JMP32 } else { op::JMP };
            let code = match cond {
                Cond::Eq => op::JEQ,
                Cond::Gt => op::JGT,
                Cond::Ge => op::JGE,
                Cond::Set => op::JSET,
                Cond::Ne => op::JNE,
                Cond::Sgt => op::JSGT,
                Cond::Sge => op::JSGE,
                Cond::Lt => op::JLT,
                Cond::Le => op::JLE,
                Cond::Slt => op::JSLT,
                Cond::Sle => op::JSLE,
            };
            let (x, s, imm) = src_bits(src);
            vec![Insn::new(class | code | x, dst.num(), s, off, imm)]
        }
        Inst::Call(t) => {
            let (src, imm) = match t {
                CallTarget::Helper(n) => (pseudo::CALL_HELPER, n),
                CallTarget::Local(o) => (pseudo::CALL_LOCAL, o),
                CallTarget::Kfunc(k) => (pseudo::CALL_KFUNC, k as i32),
            };
            vec![Insn::new(op::JMP | op::CALL, 0, src, 0, imm)]
        }
        Inst::Callx { reg } => vec![Insn::new(op::JMP | op::CALL | op::X, reg.num(), 0, 0, 0)],
        Inst::Exit => vec![Insn::new(op::JMP | op::EXIT, 0, 0, 0, 0)],
    }
}

/// Encodes a decoded program (as produced by [`decode_program`]).
pub fn encode_program(insts: &[Inst]) -> Vec<Insn> {
    insts.iter().flat_map(encode).collect()
}
