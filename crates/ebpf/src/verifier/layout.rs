//! Structural checks that need no dataflow: decoding, references to helpers,
//! kfuncs and maps, the function boundaries and where jumps may go.

use super::effects::{bit, effects};
use super::error::VerifyErrorKind;
use super::{Reject, VerifyEnv};
use crate::insn::Insn;
use crate::inst::{decode_program, CallTarget, Inst, LddwKind, Reg};
use crate::object::Object;

/// Most instruction slots a program may have (the Linux limit for privileged loads).
pub const MAX_INSNS: usize = 1_000_000;

/// Decodes the program strictly, one `Inst` per slot.
pub fn decode(insns: &[Insn]) -> Result<Vec<Inst>, Reject> {
    if insns.is_empty() {
        return Err(Reject::program(VerifyErrorKind::EmptyProgram));
    }
    if insns.len() > MAX_INSNS {
        return Err(Reject::program(VerifyErrorKind::TooManyInstructions {
            count: insns.len(),
            max: MAX_INSNS,
        }));
    }
    decode_program(insns).map_err(|e| {
        let pc = VerifyErrorKind::decode_pc(&e);
        Reject::at(pc, VerifyErrorKind::Decode(e))
    })
}

/// `pc + 1 + off`, the target of a relative jump, call or function reference.
pub fn rel_target(pc: usize, off: i64) -> i64 {
    pc as i64 + 1 + off
}

/// Checks every instruction on its own (helpers, kfuncs, maps, r10 writes)
/// and returns the sorted function starts: pc 0, every local call target and
/// every subprogram whose address a `lddw` takes.
pub fn check_insts(insts: &[Inst], obj: &Object, env: &VerifyEnv) -> Result<Vec<usize>, Reject> {
    let mut starts = vec![0];
    for (pc, inst) in insts.iter().enumerate() {
        if effects(inst, None).writes & bit(Reg::R10) != 0 {
            return Err(Reject::at(pc, VerifyErrorKind::WriteToFramePointer));
        }
        match *inst {
            Inst::Call(CallTarget::Helper(n)) if !(env.helper_known)(n) => {
                return Err(Reject::at(pc, VerifyErrorKind::UnknownHelper { helper: n }));
            }
            Inst::Call(CallTarget::Kfunc(index)) => {
                let name = obj.kfuncs.get(index as usize).ok_or(Reject::at(
                    pc,
                    VerifyErrorKind::KfuncIndexOutOfRange {
                        index,
                        count: obj.kfuncs.len(),
                    },
                ))?;
                if !(env.kfunc_known)(name) {
                    return Err(Reject::at(
                        pc,
                        VerifyErrorKind::UnknownKfunc { name: name.clone() },
                    ));
                }
            }
            Inst::Call(CallTarget::Local(off)) => {
                let target = rel_target(pc, off.into());
                starts.push(function_target(insts, pc, target, true)?);
            }
            Inst::Lddw { kind, .. } => match kind {
                LddwKind::Imm(_) => {}
                LddwKind::Map { map } => {
                    map_index(obj, pc, map)?;
                }
                LddwKind::MapValue { map, offset } => {
                    let def = &obj.maps[map_index(obj, pc, map)?];
                    if offset >= def.value_size {
                        return Err(Reject::at(
                            pc,
                            VerifyErrorKind::MapValueOffsetOutOfRange {
                                map: def.name.clone(),
                                offset,
                                value_size: def.value_size,
                            },
                        ));
                    }
                }
                LddwKind::Func { offset } => {
                    let target = rel_target(pc, offset.into());
                    starts.push(function_target(insts, pc, target, false)?);
                }
            },
            _ => {}
        }
    }
    starts.sort_unstable();
    starts.dedup();
    Ok(starts)
}

fn map_index(obj: &Object, pc: usize, map: u32) -> Result<usize, Reject> {
    if (map as usize) < obj.maps.len() {
        Ok(map as usize)
    } else {
        Err(Reject::at(
            pc,
            VerifyErrorKind::MapIndexOutOfRange {
                index: map,
                count: obj.maps.len(),
            },
        ))
    }
}

/// Validates the target of a local call (`is_call`) or of a `lddw` function reference.
fn function_target(insts: &[Inst], pc: usize, target: i64, is_call: bool) -> Result<usize, Reject> {
    let len = insts.len();
    if target < 0 || target >= len as i64 {
        let kind = if is_call {
            VerifyErrorKind::CallOutOfProgram { target, len }
        } else {
            VerifyErrorKind::FuncRefOutOfProgram { target, len }
        };
        return Err(Reject::at(pc, kind));
    }
    let target = target as usize;
    if insts[target] == Inst::LddwHigh {
        let kind = if is_call {
            VerifyErrorKind::CallIntoLddw { target }
        } else {
            VerifyErrorKind::FuncRefIntoLddw { target }
        };
        return Err(Reject::at(pc, kind));
    }
    Ok(target)
}

/// Where control may go after `pc` inside its function: the fall-through
/// slot (if any) and the jump target (if any). Calls return to the next slot.
pub fn successors(insts: &[Inst], pc: usize) -> (Option<usize>, Option<i64>) {
    match insts[pc] {
        Inst::Exit => (None, None),
        Inst::Ja { off, .. } => (None, Some(rel_target(pc, off.into()))),
        Inst::Jump { off, .. } => (Some(pc + 1), Some(rel_target(pc, off.into()))),
        Inst::Lddw { .. } => (Some(pc + 2), None),
        _ => (Some(pc + 1), None),
    }
}

/// Checks that every jump of the function `[start, end)` stays inside it and
/// lands on an instruction (not the second half of a `lddw`).
pub fn check_jumps(insts: &[Inst], name: &str, start: usize, end: usize) -> Result<(), Reject> {
    for pc in start..end {
        let Some(target) = successors(insts, pc).1 else {
            continue;
        };
        if target < start as i64 || target >= end as i64 {
            return Err(Reject::at(
                pc,
                VerifyErrorKind::JumpOutOfFunction {
                    target,
                    function: name.to_string(),
                    start,
                    end,
                },
            ));
        }
        if insts[target as usize] == Inst::LddwHigh {
            return Err(Reject::at(
                pc,
                VerifyErrorKind::JumpIntoLddw {
                    target: target as usize,
                },
            ));
        }
    }
    Ok(())
}
