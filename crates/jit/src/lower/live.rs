//! Which BPF registers are live (some path reads them before overwriting
//! them) after each instruction: a backward dataflow analysis over the
//! function's control-flow graph, done before lowering. Unlike
//! [`super::zext`], which tracks only upper halves, any read counts.

use rvbpf_ebpf::inst::{AluOp, AtomicOp, CallTarget, Inst, Operand, Reg};

fn bit(r: Reg) -> u16 {
    1 << r.index()
}

/// (read, written) register sets of one instruction (bit n = rn).
fn reads_writes(inst: &Inst) -> (u16, u16) {
    let src_bit = |s: Operand| match s {
        Operand::Reg(r) => bit(r),
        Operand::Imm(_) => 0,
    };
    match *inst {
        Inst::Alu { op, dst, src, .. } => {
            let mov = matches!(
                op,
                AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32
            );
            let reads = if mov { 0 } else { bit(dst) };
            (reads | src_bit(src), bit(dst))
        }
        Inst::Endian { dst, .. } => (bit(dst), bit(dst)),
        Inst::Lddw { dst, .. } => (0, bit(dst)),
        Inst::LddwHigh | Inst::Ja { .. } => (0, 0),
        Inst::Load { dst, src, .. } => (bit(src), bit(dst)),
        Inst::Store { dst, src, .. } => (bit(dst) | src_bit(src), 0),
        Inst::Atomic { op, dst, src, .. } => {
            // Fetching ops write src; cmpxchg reads and writes r0. Counting
            // every one as reading and writing them all is safe here.
            let r0 = if op == AtomicOp::Cmpxchg {
                bit(Reg::R0)
            } else {
                0
            };
            (bit(dst) | bit(src) | r0, 0)
        }
        Inst::Jump { dst, src, .. } => (bit(dst) | src_bit(src), 0),
        Inst::Call(CallTarget::Helper(_) | CallTarget::Kfunc(_) | CallTarget::Local(_)) => {
            (0b11_1110, 0b11_1111)
        }
        Inst::Callx { reg } => (0b11_1110 | bit(reg), 0b11_1111),
        Inst::Exit => (bit(Reg::R0), 0),
        // A runtime call (lower/packet.rs); be conservative.
        Inst::LoadPacket { .. } => (0x7ff, 0),
    }
}

/// `live_out[pc - start]`: registers some path reads after `pc` before
/// overwriting them.
pub fn live_out(insts: &[Inst], start: usize, end: usize) -> Vec<u16> {
    let rw: Vec<(u16, u16)> = insts[start..end].iter().map(reads_writes).collect();
    let mut live_in = vec![0u16; end - start];
    let out = |live_in: &[u16], pc: usize| {
        super::cfg::successors(insts, pc, end).fold(0u16, |acc, s| acc | live_in[s - start])
    };
    let loops = super::cfg::has_backward_jump(insts, start, end);
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (start..end).rev() {
            let (reads, writes) = rw[pc - start];
            let new = reads | (out(&live_in, pc) & !writes);
            if new != live_in[pc - start] {
                live_in[pc - start] = new;
                changed = true;
            }
        }
        // Only a loop can carry a change to an already visited pc.
        changed &= loops;
    }
    (start..end).map(|pc| out(&live_in, pc)).collect()
}

/// Registers `insts[pc]` reads (bit n = rn).
pub fn reads(inst: &Inst) -> u16 {
    reads_writes(inst).0
}

/// Registers live before `pc`.
pub fn live_in(insts: &[Inst], live_out: &[u16], start: usize, pc: usize) -> u16 {
    let (reads, writes) = reads_writes(&insts[pc]);
    reads | (live_out[pc - start] & !writes)
}

/// Is `r` live after `pc`?
pub fn is_live(live_out: &[u16], start: usize, pc: usize, r: Reg) -> bool {
    live_out[pc - start] & bit(r) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_ebpf::asm::assemble;

    #[test]
    fn overwritten_registers_are_dead_and_loop_reads_keep_them_live() {
        let insts = assemble(
            "mov %r1, 1
             loop:
             mov %r2, %r1
             add %r1, 1
             jlt %r1, 10, loop
             mov %r2, 0
             mov %r0, %r2
             exit",
        )
        .unwrap();
        let live = live_out(&insts, 0, insts.len());
        let r = |n| Reg::new(n).unwrap();
        // r2 written at pc 1 is overwritten at pc 4 before any read.
        assert!(!is_live(&live, 0, 1, r(2)));
        // r1 is read around the loop.
        assert!(is_live(&live, 0, 3, r(1)));
        // r0 is read by exit.
        assert!(is_live(&live, 0, 5, r(0)));
        assert!(!is_live(&live, 0, 5, r(1)));
    }
}
