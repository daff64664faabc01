//! Which registers an instruction reads and writes: the one table both the
//! initialisation dataflow and the per-function register masks use.

use crate::inst::{AluOp, AtomicOp, CallTarget, Inst, Operand, Reg};

/// Helper number of `bpf_tail_call`.
pub const TAIL_CALL_HELPER: i32 = 12;

/// r1..r5: the argument registers, clobbered by every call.
pub const ARG_REGS: u16 = 0b11_1110;

/// Bit for one register.
pub const fn bit(r: Reg) -> u16 {
    1 << r.num()
}

/// Bits r1..r{n} (n clamped to 5).
pub const fn arg_bits(n: u8) -> u16 {
    let n = if n > 5 { 5 } else { n };
    ((1u16 << n) - 1) << 1
}

/// Register effects of one instruction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Registers that must hold a written value before the instruction runs.
    pub reads: u16,
    /// Registers the instruction may pass on without requiring them
    /// initialised (argument registers of helpers, whose arity is unknown);
    /// reported in `regs_read` so the JIT treats them as used.
    pub may_read: u16,
    /// Registers the instruction writes.
    pub writes: u16,
    /// Registers whose value is destroyed (unreadable afterwards): r1..r5 on calls.
    pub clobbers: u16,
}

/// True for instructions that transfer control to code outside this function.
pub fn is_call(inst: &Inst) -> bool {
    matches!(inst, Inst::Call(_) | Inst::Callx { .. })
}

/// Effects of `inst`. For a call, `call_args` is how many argument
/// registers the callee is known to read: a bpf2bpf callee's count, or a
/// kfunc's from its BTF prototype (`None` for helpers and prototype-less
/// kfuncs, whose arity is unknown; ignored for other instructions).
pub fn effects(inst: &Inst, call_args: Option<u8>) -> Effects {
    let mut e = Effects::default();
    let src_reg = |o: Operand| match o {
        Operand::Reg(r) => bit(r),
        Operand::Imm(_) => 0,
    };
    match *inst {
        Inst::Alu { op, dst, src, .. } => {
            let reads_dst = !matches!(
                op,
                AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32
            );
            e.reads = src_reg(src) | if reads_dst { bit(dst) } else { 0 };
            e.writes = bit(dst);
        }
        Inst::Endian { dst, .. } => {
            e.reads = bit(dst);
            e.writes = bit(dst);
        }
        Inst::Lddw { dst, .. } => e.writes = bit(dst),
        Inst::LddwHigh => {}
        Inst::LoadPacket { index, .. } => {
            e.reads = index.map_or(0, bit);
            e.writes = bit(Reg::R0);
        }
        Inst::Load { dst, src, .. } => {
            e.reads = bit(src);
            e.writes = bit(dst);
        }
        Inst::Store { dst, src, .. } => e.reads = bit(dst) | src_reg(src),
        Inst::Atomic {
            op,
            fetch,
            dst,
            src,
            ..
        } => {
            e.reads = bit(dst) | bit(src);
            if op == AtomicOp::Cmpxchg {
                e.reads |= bit(Reg::R0);
                e.writes = bit(Reg::R0);
            } else if fetch {
                e.writes = bit(src);
            }
        }
        Inst::Ja { .. } => {}
        Inst::Jump { dst, src, .. } => e.reads = bit(dst) | src_reg(src),
        Inst::Call(CallTarget::Helper(TAIL_CALL_HELPER)) => {
            // bpf_tail_call returns nothing (Linux: RET_VOID). When it fails
            // and execution continues, what r0 holds is up to the engine, so
            // it must be written again before it is read.
            e.reads = bit(Reg::R1) | bit(Reg::R2) | bit(Reg::R3);
            e.clobbers = ARG_REGS | bit(Reg::R0);
        }
        Inst::Call(target) => {
            match (target, call_args) {
                (CallTarget::Local(_) | CallTarget::Kfunc(_), Some(n)) => e.reads = arg_bits(n),
                _ => e.may_read = ARG_REGS,
            }
            e.writes = bit(Reg::R0);
            e.clobbers = ARG_REGS;
        }
        Inst::Callx { reg } => {
            e.reads = bit(reg);
            e.may_read = ARG_REGS;
            e.writes = bit(Reg::R0);
            e.clobbers = ARG_REGS;
        }
        Inst::Exit => e.reads = bit(Reg::R0),
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inst::Size;

    #[test]
    fn arg_bits_cover_r1_to_rn() {
        assert_eq!(arg_bits(0), 0);
        assert_eq!(arg_bits(1), 0b10);
        assert_eq!(arg_bits(5), 0b11_1110);
        assert_eq!(arg_bits(9), 0b11_1110);
    }

    #[test]
    fn moves_do_not_read_their_destination() {
        let mov = Inst::Alu {
            is64: true,
            op: AluOp::Mov,
            dst: Reg::R3,
            src: Operand::Reg(Reg::R4),
        };
        assert_eq!(effects(&mov, None).reads, 1 << 4);
        let add = Inst::Alu {
            is64: false,
            op: AluOp::Add,
            dst: Reg::R3,
            src: Operand::Imm(1),
        };
        assert_eq!(effects(&add, None).reads, 1 << 3);
    }

    #[test]
    fn cmpxchg_uses_r0_and_fetch_writes_src() {
        let cx = Inst::Atomic {
            size: Size::DW,
            op: AtomicOp::Cmpxchg,
            fetch: true,
            dst: Reg::R1,
            src: Reg::R2,
            off: 0,
        };
        let e = effects(&cx, None);
        assert_eq!(e.reads, 0b111);
        assert_eq!(e.writes, 0b1);
        let fadd = Inst::Atomic {
            size: Size::W,
            op: AtomicOp::Add,
            fetch: true,
            dst: Reg::R1,
            src: Reg::R2,
            off: 0,
        };
        assert_eq!(effects(&fadd, None).writes, 0b100);
    }
}
