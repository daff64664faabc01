//! Calls: helpers and kfuncs (through the literal pool), bpf2bpf calls
//! (pc-relative inside the image) and the tail call (helper 12).

use super::Cx;
use crate::frame::{load64, store64};
use crate::image::RelocKind;
use crate::items::{Item, Label};
use crate::regmap::bpf_reg;
use crate::regmap::{HELPER_TAIL_CALL, T0, T1, T2, TCC, TCC_SAVED};
use crate::{JitError, TccScheme, TAIL_CALL_ENTRY_OFFSET};
use rvbpf_ebpf::inst::{CallTarget, Reg as BpfReg};
use rvbpf_ebpf::object::ArgWidening;
use rvbpf_rv64::{AluImmOp, AluOp, BranchOp, Imm12, Inst, LoadOp, Reg, Shamt, ShiftOp, UnaryOp};

type Scheme = TccScheme;

pub fn lower_call(cx: &mut Cx, target: CallTarget) -> Result<(), JitError> {
    match target {
        CallTarget::Helper(HELPER_TAIL_CALL) => tail_call(cx),
        CallTarget::Helper(n) => {
            host_call(cx, RelocKind::Helper(n));
            Ok(())
        }
        CallTarget::Kfunc(i) => {
            widen_kfunc_args(cx, i);
            host_call(cx, RelocKind::Kfunc(i));
            Ok(())
        }
        CallTarget::Local(off) => {
            let pc = cx.pc as i64 + 1 + off as i64;
            let callee = usize::try_from(pc)
                .ok()
                .and_then(|pc| cx.facts().function_starting_at(pc))
                .ok_or_else(|| cx.invalid(format!("call target {pc} is not a function")))?;
            bpf2bpf(cx, callee);
            Ok(())
        }
    }
}

/// Widens kfunc `kfunc`'s argument registers in place as its BTF prototype
/// and the RISC-V psABI require (`ArgWidening`): a C callee may rely on a
/// 32-bit argument being sign-extended, which BPF code does not guarantee.
/// R1..R5 are clobbered by the call anyway, so rewriting them is invisible
/// to the program.
fn widen_kfunc_args(cx: &mut Cx, kfunc: u32) {
    let args = cx.facts().kfunc_args.get(kfunc as usize).copied();
    for (i, &widening) in args.unwrap_or_default().iter().take(5).enumerate() {
        let r = bpf_reg(BpfReg::new(1 + i as u8).expect("r1..r5"));
        for inst in widening_insts(r, widening, cx.zbb()) {
            cx.push(inst);
        }
    }
}

/// The instructions (none, one or two) that widen register `r` in place as
/// `widening` says; both compiler tiers emit these.
pub(crate) fn widening_insts(r: Reg, widening: ArgWidening, zbb: bool) -> Vec<Inst> {
    let shifts = |bits: u32, back: ShiftOp| {
        let shamt = Shamt::new(64 - bits).expect("48 or 56");
        vec![
            Inst::Shift {
                op: ShiftOp::Slli,
                rd: r,
                rs1: r,
                shamt,
            },
            Inst::Shift {
                op: back,
                rd: r,
                rs1: r,
                shamt,
            },
        ]
    };
    let unary = |op| vec![Inst::Unary { op, rd: r, rs1: r }];
    match widening {
        ArgWidening::Unchanged => vec![],
        ArgWidening::Sign32 => vec![Inst::AluImm {
            op: AluImmOp::Addiw,
            rd: r,
            rs1: r,
            imm: Imm12::ZERO,
        }],
        ArgWidening::Zero8 => vec![Inst::AluImm {
            op: AluImmOp::Andi,
            rd: r,
            rs1: r,
            imm: Imm12::new(0xff).expect("fits"),
        }],
        ArgWidening::Sign8 if zbb => unary(UnaryOp::SextB),
        ArgWidening::Sign16 if zbb => unary(UnaryOp::SextH),
        ArgWidening::Zero16 if zbb => unary(UnaryOp::ZextH),
        ArgWidening::Sign8 => shifts(8, ShiftOp::Srai),
        ArgWidening::Sign16 => shifts(16, ShiftOp::Srai),
        ArgWidening::Zero16 => shifts(16, ShiftOp::Srli),
    }
}

/// Does this function keep the `reg`-scheme count alive across a call that
/// may clobber a6?
fn park_count(cx: &Cx) -> bool {
    cx.scheme() == Scheme::Reg && cx.frame.tcc.needed && !cx.frame.tcc.resident
}

/// `callx reg`: the helper number goes to the dispatcher as the sixth C
/// argument (a5, free because BPF R0 is clobbered by any call anyway).
pub fn lower_callx(cx: &mut Cx, reg: BpfReg) {
    let number = bpf_reg(reg);
    host_call_with(cx, RelocKind::HelperDispatch, Some(number));
}

/// `auipc t1; ld t1, slot; jalr ra, 0(t1); mv a5, a0`.
fn host_call(cx: &mut Cx, kind: RelocKind) {
    host_call_with(cx, kind, None)
}

fn host_call_with(cx: &mut Cx, kind: RelocKind, sixth_arg: Option<Reg>) {
    let park = park_count(cx);
    if park {
        cx.mv(TCC_SAVED, TCC);
    }
    if let Some(r) = sixth_arg {
        cx.mv(Reg::A5, r);
    }
    let slot = cx.pool_slot(kind);
    cx.item(Item::PoolLoad { rd: T1, slot });
    cx.push(Inst::Jalr {
        rd: Reg::RA,
        rs1: T1,
        offset: Imm12::ZERO,
    });
    cx.mv(Reg::A5, Reg::A0);
    if park {
        cx.mv(TCC, TCC_SAVED);
    }
}

/// A call to another function of the image, entered past its header so the
/// count/pointer in a6 carries over. R1..R5 are already in a0..a4; R0 comes
/// back in a5.
fn bpf2bpf(cx: &mut Cx, callee: usize) {
    let reachable = cx.facts().functions[callee].tail_call_reachable;
    let tcc = cx.frame.tcc;
    let (mut before, mut after) = (Vec::new(), Vec::new());
    if tcc.needed {
        match tcc.scheme {
            // A callee that cannot tail call may still clobber a6 (by a
            // helper call, its own or a callee's); a leaf never touches it.
            Scheme::Reg if !reachable && !tcc.resident && cx.facts().calls_out(callee) => {
                before.push(Inst::mv(TCC_SAVED, TCC));
                after.push(Inst::mv(TCC, TCC_SAVED));
            }
            Scheme::Stack if reachable => {
                let slot = tcc
                    .slot
                    .expect("stack scheme frames of reachable functions have a slot");
                before.push(load64(TCC, Reg::SP, slot));
                after.push(store64(TCC, Reg::SP, slot));
            }
            Scheme::Ptr if reachable => before.push(Inst::mv(TCC, TCC_SAVED)),
            _ => {}
        }
    }
    for i in before {
        cx.push(i);
    }
    cx.item(Item::Call {
        target: Label::FuncTcEntry(callee),
    });
    for i in after {
        cx.push(i);
    }
}

/// `bpf_tail_call(ctx = R1, prog_array = R2, index = R3)`; see the crate
/// docs for the sequence and the prog-array view it reads.
fn tail_call(cx: &mut Cx) -> Result<(), JitError> {
    let tcc = cx.frame.tcc;
    if !tcc.needed {
        return Err(JitError::Internal(format!(
            "pc {}: tail call in a function not marked tail-call reachable",
            cx.pc
        )));
    }
    let (array, index) = (Reg::A1, Reg::A2);
    let out = cx.new_label();
    let branch = |cx: &mut Cx, op, rs1, rs2| {
        cx.item(Item::Branch {
            op,
            rs1,
            rs2,
            target: out,
        })
    };
    // 0. Sandbox::Masked: only the program's own prog arrays.
    super::mem::confine_prog_array(cx, array, out);
    // 1. index < max_entries (u32 compare).
    cx.zext32(T1, index);
    cx.push(Inst::Load {
        op: LoadOp::Lwu,
        rd: T2,
        rs1: array,
        offset: Imm12::ZERO,
    });
    branch(cx, BranchOp::Bgeu, T1, T2);
    // 2. budget left (count != 0); `count` holds it (a6 itself for `reg`).
    let ptr = if tcc.uses_saved_reg { TCC_SAVED } else { TCC };
    let count = match tcc.scheme {
        Scheme::Reg => TCC,
        Scheme::Stack => {
            cx.push(load64(T0, Reg::SP, tcc.slot.expect("reachable")));
            T0
        }
        Scheme::Ptr => {
            // A callback entered at offset 0 by a helper (lddw func) has no
            // counter (a6 = 0): its tail calls fail instead of faulting.
            branch(cx, BranchOp::Beq, ptr, Reg::ZERO);
            cx.push(load64(T0, ptr, 0));
            T0
        }
    };
    branch(cx, BranchOp::Beq, count, Reg::ZERO);
    // 3. entry = array->entry[index]; empty slot falls through.
    if cx.zba() {
        cx.push(Inst::alu(AluOp::Sh3add, T1, T1, array));
    } else {
        cx.shift(ShiftOp::Slli, T1, T1, 3);
        cx.push(Inst::alu(AluOp::Add, T1, T1, array));
    }
    cx.push(load64(T1, T1, 8));
    branch(cx, BranchOp::Beq, T1, Reg::ZERO);
    // 4. commit: one unit of budget, handed to the callee in a6.
    let minus1 = Imm12::new(-1).expect("fits");
    match tcc.scheme {
        Scheme::Reg | Scheme::Stack => cx.push(Inst::addi(TCC, count, minus1)),
        Scheme::Ptr => {
            cx.push(Inst::addi(T0, T0, minus1));
            cx.push(store64(T0, ptr, 0));
            cx.mv(TCC, ptr);
        }
    }
    // 5. leave this frame and enter the callee past its header.
    for item in cx.frame.restore() {
        cx.item(item);
    }
    cx.push(Inst::Jalr {
        rd: Reg::ZERO,
        rs1: T1,
        offset: Imm12::new(TAIL_CALL_ENTRY_OFFSET as i64).expect("fits"),
    });
    cx.item(Item::Bind(out));
    Ok(())
}
