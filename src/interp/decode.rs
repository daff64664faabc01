//! Pre-decoding: a linked program's raw slots become a compact [`Op`] array
//! once, at load time. Jump targets are resolved to absolute pcs, map
//! references to VM addresses, helper/kfunc calls to registry ids, so the
//! execution loop never looks at raw encodings. Op index == BPF pc (the
//! second slot of a `lddw` becomes an unreachable [`Code::LddwHigh`]).
//!
//! The decoder also rejects, with a typed [`DecodeFailure`], anything the
//! loop could not execute safely: jumps outside the program or into the
//! middle of a `lddw`, calls to non-function starts, writes to r10, control
//! falling off the end, unknown helpers/kfuncs/maps.

use crate::helpers::{Registry, HELPER_TAIL_CALL};
use crate::maps::{MapId, Maps};
use crate::memory::MAPS_BASE;
use rvbpf_ebpf::insn::Insn;
use rvbpf_ebpf::inst::{
    self, AluOp, AtomicOp, CallTarget, Cond, EndianOp, Inst, LddwKind, Operand, Reg, Size,
};
use rvbpf_ebpf::object::{ArgWidening, KfuncProto};

/// Binary ALU operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Sdiv,
    Or,
    And,
    Lsh,
    Rsh,
    Mod,
    Smod,
    Xor,
    Mov,
    Arsh,
}

/// Atomic read-modify-write operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rmw {
    Add,
    Or,
    And,
    Xor,
    Xchg,
    Cmpxchg,
}

/// Operation codes of the pre-decoded form. Sizes are in bytes.
///
/// The hot operations are flattened (one variant per operation, access
/// size and operand kind) so the execution loop dispatches once per
/// instruction; rarer ones keep a payload that the loop matches on again.
/// `repr(u8)` gives an explicit tag byte, so dispatch is one table jump on
/// it (a niche-encoded tag would cost a subtract and a conditional move).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    // ---- 64-bit ALU with an immediate (K) or a register (X) operand ----
    Add64K,
    Add64X,
    Sub64K,
    Sub64X,
    Mul64K,
    Mul64X,
    Or64K,
    Or64X,
    And64K,
    And64X,
    Lsh64K,
    Lsh64X,
    Rsh64K,
    Rsh64X,
    Xor64K,
    Xor64X,
    Mov64K,
    Mov64X,
    Arsh64K,
    Arsh64X,
    /// Other 64-bit operations (division, modulo).
    Alu64K(Bin),
    Alu64X(Bin),
    /// A 64-bit operation and the `ja` after it (`aux` = the ja's target):
    /// one dispatch for two instructions, both charged to the budget.
    Alu64KJa(Bin),
    Alu64XJa(Bin),
    Alu32K(Bin),
    Alu32X(Bin),
    Neg64,
    Neg32,
    /// `dst = sign_extend(src, bits)` (64-bit result).
    Movsx64(u8),
    /// `dst = (u32) sign_extend(src, bits)`.
    Movsx32(u8),
    /// To little endian: truncate to `bits`.
    Le(u8),
    /// To big endian / unconditional swap of the low `bits`.
    Swap(u8),
    /// `dst = imm` (all 64 bits; resolved lddw).
    LoadImm64,
    // ---- memory: `dst = *(src + off)`, `*(dst + off) = src / imm` ----
    LdxB,
    LdxH,
    LdxW,
    LdxDw,
    /// Sign-extending load.
    LdxSx(u8),
    StxB,
    StxH,
    StxW,
    StxDw,
    StB,
    StH,
    StW,
    StDw,
    /// The same accesses with r10 as the base register: the stack region is
    /// tried first (same semantics, no region search).
    StackLdxB,
    StackLdxH,
    StackLdxW,
    StackLdxDw,
    StackStxB,
    StackStxH,
    StackStxW,
    StackStxDw,
    StackStB,
    StackStH,
    StackStW,
    StackStDw,
    Atomic {
        size: u8,
        op: Rmw,
        fetch: bool,
    },
    /// Legacy packet load (`ldabs`/`ldind`): `r0 = ntoh(packet[(src?) + imm])`.
    /// Out of the packet, the current program returns 0: `r0 = 0` and a jump
    /// to `aux`, a synthetic `exit` appended after the program's code.
    LdPacket {
        size: u8,
        indexed: bool,
    },
    // ---- jumps: to `aux` when `dst cond imm/src` holds ----
    Ja,
    JeqK,
    JeqX,
    JgtK,
    JgtX,
    JgeK,
    JgeX,
    JsetK,
    JsetX,
    JneK,
    JneX,
    JsgtK,
    JsgtX,
    JsgeK,
    JsgeX,
    JltK,
    JltX,
    JleK,
    JleX,
    JsltK,
    JsltX,
    JsleK,
    JsleX,
    Jmp32K(Cond),
    Jmp32X(Cond),
    /// Helper `imm`.
    CallHelper,
    TailCall,
    /// bpf2bpf call: `aux` = callee pc, `imm` = callee function index.
    CallLocal,
    /// kfunc: `aux` = registry kfunc id.
    CallKfunc,
    /// Helper whose number is in register `dst`.
    Callx,
    Exit,
    /// Second slot of a `lddw`; never reached (the decoder rejects jumps to it).
    LddwHigh,
}

impl Code {
    /// The operation and operand kind (`true`: immediate) of a 64-bit binary ALU code.
    fn as_alu64(self) -> Option<(Bin, bool)> {
        use Code::*;
        Some(match self {
            Add64K => (Bin::Add, true),
            Add64X => (Bin::Add, false),
            Sub64K => (Bin::Sub, true),
            Sub64X => (Bin::Sub, false),
            Mul64K => (Bin::Mul, true),
            Mul64X => (Bin::Mul, false),
            Or64K => (Bin::Or, true),
            Or64X => (Bin::Or, false),
            And64K => (Bin::And, true),
            And64X => (Bin::And, false),
            Lsh64K => (Bin::Lsh, true),
            Lsh64X => (Bin::Lsh, false),
            Rsh64K => (Bin::Rsh, true),
            Rsh64X => (Bin::Rsh, false),
            Xor64K => (Bin::Xor, true),
            Xor64X => (Bin::Xor, false),
            Mov64K => (Bin::Mov, true),
            Mov64X => (Bin::Mov, false),
            Arsh64K => (Bin::Arsh, true),
            Arsh64X => (Bin::Arsh, false),
            Alu64K(b) => (b, true),
            Alu64X(b) => (b, false),
            _ => return None,
        })
    }

    /// The flattened code of 64-bit `b` with an immediate (`imm`) or register operand.
    fn alu64(b: Bin, imm: bool) -> Code {
        use Code::*;
        let (k, x) = match b {
            Bin::Add => (Add64K, Add64X),
            Bin::Sub => (Sub64K, Sub64X),
            Bin::Mul => (Mul64K, Mul64X),
            Bin::Or => (Or64K, Or64X),
            Bin::And => (And64K, And64X),
            Bin::Lsh => (Lsh64K, Lsh64X),
            Bin::Rsh => (Rsh64K, Rsh64X),
            Bin::Xor => (Xor64K, Xor64X),
            Bin::Mov => (Mov64K, Mov64X),
            Bin::Arsh => (Arsh64K, Arsh64X),
            Bin::Div | Bin::Sdiv | Bin::Mod | Bin::Smod => (Alu64K(b), Alu64X(b)),
        };
        if imm {
            k
        } else {
            x
        }
    }

    /// The flattened code of a 64-bit conditional jump.
    fn jmp64(c: Cond, imm: bool) -> Code {
        use Code::*;
        let (k, x) = match c {
            Cond::Eq => (JeqK, JeqX),
            Cond::Gt => (JgtK, JgtX),
            Cond::Ge => (JgeK, JgeX),
            Cond::Set => (JsetK, JsetX),
            Cond::Ne => (JneK, JneX),
            Cond::Sgt => (JsgtK, JsgtX),
            Cond::Sge => (JsgeK, JsgeX),
            Cond::Lt => (JltK, JltX),
            Cond::Le => (JleK, JleX),
            Cond::Slt => (JsltK, JsltX),
            Cond::Sle => (JsleK, JsleX),
        };
        if imm {
            k
        } else {
            x
        }
    }

    /// The code of an unsigned load of `size` through base register `base`.
    fn ldx(size: Size, base: Reg) -> Code {
        use Code::*;
        let [b, h, w, dw] = if base == Reg::R10 {
            [StackLdxB, StackLdxH, StackLdxW, StackLdxDw]
        } else {
            [LdxB, LdxH, LdxW, LdxDw]
        };
        pick(size, [b, h, w, dw])
    }

    /// The code of a store of `size` through base register `base`, from a register or (`imm`) an immediate.
    fn store(size: Size, base: Reg, imm: bool) -> Code {
        use Code::*;
        let by_size = match (base == Reg::R10, imm) {
            (false, false) => [StxB, StxH, StxW, StxDw],
            (false, true) => [StB, StH, StW, StDw],
            (true, false) => [StackStxB, StackStxH, StackStxW, StackStxDw],
            (true, true) => [StackStB, StackStH, StackStW, StackStDw],
        };
        pick(size, by_size)
    }
}

/// The entry of `[b, h, w, dw]` for `size`.
fn pick(size: Size, [b, h, w, dw]: [Code; 4]) -> Code {
    match size {
        Size::B => b,
        Size::H => h,
        Size::W => w,
        Size::DW => dw,
    }
}

/// One pre-decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub code: Code,
    pub dst: u8,
    pub src: u8,
    /// Memory offset.
    pub off: i16,
    /// Jump/call target pc, or kfunc id.
    pub aux: u32,
    /// Immediate, sign-extended from 32 bits (or the full lddw value).
    pub imm: i64,
}

/// Why a program cannot be pre-decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeFailure {
    #[error(transparent)]
    Insn(#[from] inst::DecodeError),
    #[error("pc {pc}: jump target {target} is outside the program or inside a lddw")]
    BadJump { pc: usize, target: i64 },
    #[error("pc {pc}: call target {target} is not the start of a function")]
    BadCall { pc: usize, target: i64 },
    #[error("function start {start} is outside the program or inside a lddw")]
    BadFunctionStart { start: usize },
    #[error("pc {pc}: control falls off the end of the program")]
    FallsOffEnd { pc: usize },
    #[error("pc {pc}: r10 is read-only")]
    WritesFramePointer { pc: usize },
    #[error("pc {pc}: unknown helper {id}")]
    UnknownHelper { pc: usize, id: i32 },
    #[error("pc {pc}: unknown kfunc `{name}`")]
    UnknownKfunc { pc: usize, name: String },
    #[error("pc {pc}: map index {index} does not exist")]
    BadMap { pc: usize, index: u32 },
    #[error("pc {pc}: offset {offset} is outside the value of map `{map}`")]
    BadMapOffset { pc: usize, map: String, offset: u32 },
    #[error("pc {pc}: {what} is not supported")]
    Unsupported { pc: usize, what: &'static str },
    #[error("program is empty")]
    Empty,
}

/// What the decoder needs to resolve references.
pub struct DecodeEnv<'a> {
    /// VM map id of each object map index.
    pub map_ids: &'a [MapId],
    pub maps: &'a Maps,
    /// The object's kfunc names (indexed by `CALL_KFUNC` imm).
    pub kfunc_names: &'a [String],
    /// Their BTF prototypes, where known (same index; may be shorter).
    pub kfunc_protos: &'a [Option<KfuncProto>],
    pub registry: &'a mut Registry,
    /// Start pcs of the program's functions (sorted).
    pub func_starts: &'a [usize],
}

fn bin(op: AluOp) -> Bin {
    match op {
        AluOp::Add => Bin::Add,
        AluOp::Sub => Bin::Sub,
        AluOp::Mul => Bin::Mul,
        AluOp::Div => Bin::Div,
        AluOp::Sdiv => Bin::Sdiv,
        AluOp::Or => Bin::Or,
        AluOp::And => Bin::And,
        AluOp::Lsh => Bin::Lsh,
        AluOp::Rsh => Bin::Rsh,
        AluOp::Mod => Bin::Mod,
        AluOp::Smod => Bin::Smod,
        AluOp::Xor => Bin::Xor,
        AluOp::Arsh => Bin::Arsh,
        // Neg and Movsx* are handled before `bin` is called.
        AluOp::Mov | AluOp::Neg | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32 => Bin::Mov,
    }
}

fn op(code: Code) -> Op {
    Op {
        code,
        dst: 0,
        src: 0,
        off: 0,
        aux: 0,
        imm: 0,
    }
}

/// Decodes a linked program.
///
/// Guarantees, relied on by the execution loop (which indexes the ops
/// without bounds checks): every pc reachable from a function start is in
/// range — jump and call targets are checked, function starts are checked,
/// the last op is an `exit` or `ja` (so nothing falls off the end) and a
/// `lddw` is never last (so skipping its second slot stays in range).
pub fn decode(insns: &[Insn], env: &mut DecodeEnv<'_>) -> Result<Vec<Op>, DecodeFailure> {
    if insns.is_empty() {
        return Err(DecodeFailure::Empty);
    }
    let insts = inst::decode_program(insns)?;
    let n = insts.len();
    // Every pc the interpreter can reach must be in range (it indexes the
    // ops unchecked): function starts are entry points.
    if let Some(&start) = env
        .func_starts
        .iter()
        .find(|&&s| s >= n || insts[s] == Inst::LddwHigh)
    {
        return Err(DecodeFailure::BadFunctionStart { start });
    }
    let target = |pc: usize, off: i64| -> Result<u32, DecodeFailure> {
        let t = pc as i64 + 1 + off;
        if t < 0 || t >= n as i64 || insts[t as usize] == Inst::LddwHigh {
            return Err(DecodeFailure::BadJump { pc, target: t });
        }
        Ok(t as u32)
    };
    let mut ops = Vec::with_capacity(n);
    for (pc, inst) in insts.iter().enumerate() {
        let writes_r10 = |r: Reg| -> Result<u8, DecodeFailure> {
            if r == Reg::R10 {
                Err(DecodeFailure::WritesFramePointer { pc })
            } else {
                Ok(r.num())
            }
        };
        let o = match *inst {
            Inst::Alu {
                is64,
                op: aop,
                dst,
                src,
            } => {
                let dst = writes_r10(dst)?;
                let (code, s, imm) = match (aop, src) {
                    (AluOp::Neg, _) => (if is64 { Code::Neg64 } else { Code::Neg32 }, 0, 0),
                    (AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32, Operand::Reg(r)) => {
                        let bits = match aop {
                            AluOp::Movsx8 => 8,
                            AluOp::Movsx16 => 16,
                            _ => 32,
                        };
                        (
                            if is64 {
                                Code::Movsx64(bits)
                            } else {
                                Code::Movsx32(bits)
                            },
                            r.num(),
                            0,
                        )
                    }
                    (AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32, Operand::Imm(_)) => {
                        return Err(DecodeFailure::Unsupported {
                            pc,
                            what: "movsx with an immediate",
                        })
                    }
                    (_, Operand::Reg(r)) => (
                        if is64 {
                            Code::alu64(bin(aop), false)
                        } else {
                            Code::Alu32X(bin(aop))
                        },
                        r.num(),
                        0,
                    ),
                    (_, Operand::Imm(v)) => (
                        if is64 {
                            Code::alu64(bin(aop), true)
                        } else {
                            Code::Alu32K(bin(aop))
                        },
                        0,
                        v as i64,
                    ),
                };
                // A 64-bit binary op followed by `ja` becomes one op that
                // also does the jump (the `ja` stays, for jumps to it).
                let (code, aux) = match (code.as_alu64(), insts.get(pc + 1)) {
                    (Some((b, is_imm)), Some(&Inst::Ja { off, .. })) => {
                        let fused = if is_imm {
                            Code::Alu64KJa(b)
                        } else {
                            Code::Alu64XJa(b)
                        };
                        (fused, target(pc + 1, off as i64)?)
                    }
                    _ => (code, 0),
                };
                Op {
                    code,
                    dst,
                    src: s,
                    off: 0,
                    aux,
                    imm,
                }
            }
            Inst::Endian { op: eop, dst, bits } => {
                let code = match eop {
                    EndianOp::Le => Code::Le(bits),
                    EndianOp::Be | EndianOp::Swap => Code::Swap(bits),
                };
                Op {
                    dst: writes_r10(dst)?,
                    ..op(code)
                }
            }
            Inst::Lddw { dst, kind } => {
                let value = match kind {
                    LddwKind::Imm(v) => v,
                    LddwKind::Map { map } => Maps::handle(map_id(env, pc, map)?),
                    LddwKind::MapValue { map, offset } => {
                        let id = map_id(env, pc, map)?;
                        let m = env
                            .maps
                            .get(id)
                            .map_err(|_| DecodeFailure::BadMap { pc, index: map })?;
                        if offset as u64 >= m.value_size as u64 * m.max_entries as u64 {
                            return Err(DecodeFailure::BadMapOffset {
                                pc,
                                map: m.name.clone(),
                                offset,
                            });
                        }
                        MAPS_BASE + id.0 as u64 * crate::memory::MAP_STRIDE + offset as u64
                    }
                    LddwKind::Func { .. } => {
                        return Err(DecodeFailure::Unsupported {
                            pc,
                            what: "lddw of a function address (callbacks)",
                        })
                    }
                };
                Op {
                    dst: writes_r10(dst)?,
                    imm: value as i64,
                    ..op(Code::LoadImm64)
                }
            }
            Inst::LddwHigh => op(Code::LddwHigh),
            Inst::LoadPacket { size, index, imm } => Op {
                src: index.map_or(0, |r| r.num()),
                imm: imm as i64,
                aux: n as u32,
                ..op(Code::LdPacket {
                    size: size.bytes() as u8,
                    indexed: index.is_some(),
                })
            },
            Inst::Load {
                size,
                signed,
                dst,
                src,
                off,
            } => {
                let code = if signed {
                    Code::LdxSx(size.bytes() as u8)
                } else {
                    Code::ldx(size, src)
                };
                Op {
                    dst: writes_r10(dst)?,
                    src: src.num(),
                    off,
                    ..op(code)
                }
            }
            Inst::Store {
                size,
                dst,
                off,
                src,
            } => match src {
                Operand::Reg(r) => Op {
                    dst: dst.num(),
                    src: r.num(),
                    off,
                    ..op(Code::store(size, dst, false))
                },
                Operand::Imm(v) => Op {
                    dst: dst.num(),
                    off,
                    imm: v as i64,
                    ..op(Code::store(size, dst, true))
                },
            },
            Inst::Atomic {
                size,
                op: aop,
                fetch,
                dst,
                src,
                off,
            } => {
                let rmw = match aop {
                    AtomicOp::Add => Rmw::Add,
                    AtomicOp::Or => Rmw::Or,
                    AtomicOp::And => Rmw::And,
                    AtomicOp::Xor => Rmw::Xor,
                    AtomicOp::Xchg => Rmw::Xchg,
                    AtomicOp::Cmpxchg => Rmw::Cmpxchg,
                };
                if fetch && rmw != Rmw::Cmpxchg {
                    writes_r10(src)?;
                }
                let size = if size == Size::DW { 8 } else { 4 };
                Op {
                    dst: dst.num(),
                    src: src.num(),
                    off,
                    ..op(Code::Atomic {
                        size,
                        op: rmw,
                        fetch,
                    })
                }
            }
            Inst::Ja { off, .. } => Op {
                aux: target(pc, off as i64)?,
                ..op(Code::Ja)
            },
            Inst::Jump {
                is32,
                cond,
                dst,
                src,
                off,
            } => {
                let (code, s, imm) = match (is32, src) {
                    (false, Operand::Imm(v)) => (Code::jmp64(cond, true), 0, v as i64),
                    (false, Operand::Reg(r)) => (Code::jmp64(cond, false), r.num(), 0),
                    (true, Operand::Imm(v)) => (Code::Jmp32K(cond), 0, v as i64),
                    (true, Operand::Reg(r)) => (Code::Jmp32X(cond), r.num(), 0),
                };
                Op {
                    dst: dst.num(),
                    src: s,
                    aux: target(pc, off as i64)?,
                    imm,
                    ..op(code)
                }
            }
            Inst::Call(CallTarget::Helper(id)) if id == HELPER_TAIL_CALL => op(Code::TailCall),
            Inst::Call(CallTarget::Helper(id)) => {
                if !env.registry.helper_known(id) {
                    return Err(DecodeFailure::UnknownHelper { pc, id });
                }
                Op {
                    imm: id as i64,
                    ..op(Code::CallHelper)
                }
            }
            Inst::Call(CallTarget::Local(off)) => {
                let t = pc as i64 + 1 + off as i64;
                let func = usize::try_from(t)
                    .ok()
                    .and_then(|t| env.func_starts.iter().position(|&s| s == t))
                    .ok_or(DecodeFailure::BadCall { pc, target: t })?;
                Op {
                    aux: t as u32,
                    imm: func as i64,
                    ..op(Code::CallLocal)
                }
            }
            Inst::Call(CallTarget::Kfunc(k)) => {
                let name = env
                    .kfunc_names
                    .get(k as usize)
                    .ok_or(DecodeFailure::UnknownKfunc {
                        pc,
                        name: format!("#{k}"),
                    })?;
                if !env.registry.kfunc_known(name) {
                    return Err(DecodeFailure::UnknownKfunc {
                        pc,
                        name: name.clone(),
                    });
                }
                let proto = env.kfunc_protos.get(k as usize).and_then(Option::as_ref);
                Op {
                    aux: env.registry.kfunc_id(name),
                    imm: pack_widenings(proto),
                    ..op(Code::CallKfunc)
                }
            }
            Inst::Callx { reg } => Op {
                dst: reg.num(),
                ..op(Code::Callx)
            },
            Inst::Exit => op(Code::Exit),
        };
        ops.push(o);
    }
    // The last executable instruction must not fall through.
    let last = ops
        .iter()
        .rposition(|o| o.code != Code::LddwHigh)
        .unwrap_or(0);
    if !matches!(ops[last].code, Code::Exit | Code::Ja) || last + 1 != n {
        return Err(DecodeFailure::FallsOffEnd { pc: last });
    }
    // Where a failed legacy packet load goes (pc `n`, past every BPF pc):
    // the program returns 0 from its current frame, as JIT'd code does by
    // jumping to its epilogue (Linux's behaviour). After a tail call made
    // in a subprogram, that frame returns to the subprogram's caller.
    ops.push(op(Code::Exit));
    Ok(ops)
}

fn map_id(env: &DecodeEnv<'_>, pc: usize, index: u32) -> Result<MapId, DecodeFailure> {
    env.map_ids
        .get(index as usize)
        .copied()
        .ok_or(DecodeFailure::BadMap { pc, index })
}

/// The widenings [`pack_widenings`] can store, by their 4-bit code.
const WIDENINGS: [ArgWidening; 6] = [
    ArgWidening::Unchanged,
    ArgWidening::Sign32,
    ArgWidening::Sign8,
    ArgWidening::Zero8,
    ArgWidening::Sign16,
    ArgWidening::Zero16,
];

/// How a `CallKfunc` op's five argument registers are widened (psABI, see
/// [`ArgWidening`]), packed 4 bits per argument into the op's `imm`:
/// all zero (unchanged) without a prototype.
fn pack_widenings(proto: Option<&KfuncProto>) -> i64 {
    let Some(proto) = proto else { return 0 };
    proto
        .args
        .iter()
        .take(5)
        .enumerate()
        .fold(0, |packed, (i, w)| {
            let code = WIDENINGS.iter().position(|x| x == w).unwrap_or(0) as i64;
            packed | code << (4 * i)
        })
}

/// Argument registers `args` as the kfunc of a `CallKfunc` op with
/// immediate `packed` receives them.
pub fn widen_kfunc_args(packed: i64, args: [u64; 5]) -> [u64; 5] {
    let mut out = args;
    for (i, v) in out.iter_mut().enumerate() {
        let code = ((packed >> (4 * i)) & 0xf) as usize;
        *v = WIDENINGS.get(code).map_or(*v, |w| w.apply(*v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Opcodes from RFC 9669: 0xb7 = mov64 imm, 0x07 = add64 imm,
    // 0x05 = ja, 0x95 = exit, 0x18 = lddw (two slots).
    fn mov(imm: i32) -> Insn {
        Insn::new(0xb7, 0, 0, 0, imm)
    }
    fn exit() -> Insn {
        Insn::new(0x95, 0, 0, 0, 0)
    }

    fn decode_with_starts(insns: &[Insn], starts: &[usize]) -> Result<Vec<Op>, DecodeFailure> {
        let maps = Maps::default();
        let mut registry = Registry::with_builtins();
        let mut env = DecodeEnv {
            map_ids: &[],
            maps: &maps,
            kfunc_names: &[],
            kfunc_protos: &[],
            registry: &mut registry,
            func_starts: starts,
        };
        decode(insns, &mut env)
    }

    #[test]
    fn function_starts_must_be_in_range() {
        let prog = [mov(0), exit()];
        assert!(decode_with_starts(&prog, &[0]).is_ok());
        assert_eq!(
            decode_with_starts(&prog, &[0, 2]),
            Err(DecodeFailure::BadFunctionStart { start: 2 })
        );
        let lddw = [
            Insn::new(0x18, 0, 0, 0, 1),
            Insn::new(0, 0, 0, 0, 0),
            exit(),
        ];
        assert_eq!(
            decode_with_starts(&lddw, &[0, 1]),
            Err(DecodeFailure::BadFunctionStart { start: 1 })
        );
    }

    #[test]
    fn alu_then_ja_is_fused_and_the_ja_kept() {
        // 0: mov r0, 0; 1: add r0, 1; 2: ja -2 (to 1) — never exits, but
        // decodes: the last op is a ja.
        let prog = [
            mov(0),
            Insn::new(0x07, 0, 0, 0, 1),
            Insn::new(0x05, 0, 0, -2, 0),
        ];
        let ops = decode_with_starts(&prog, &[0]).unwrap();
        assert_eq!(ops[1].code, Code::Alu64KJa(Bin::Add));
        assert_eq!((ops[1].aux, ops[1].imm), (1, 1));
        assert_eq!((ops[2].code, ops[2].aux), (Code::Ja, 1));
    }
}
