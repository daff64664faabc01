//! Which constants a function keeps in callee-saved registers (s7..s11):
//! an explicit analysis over its BPF instructions, done before lowering.
//!
//! An immediate that no RV64 I-form can take (`mul`, `div`, wide `and`,
//! compare operands, store values ...) or a `lddw` constant otherwise costs
//! one to three instructions at every execution. Native compilers hoist
//! such constants out of loops; BPF has no spare registers, but the JIT
//! does. Constants used inside a loop (a range closed by a backward jump)
//! are weighted heavily; the prologue loads the chosen ones once.
//!
//! Correctness does not depend on this analysis: lowering asks
//! [`super::Cx::constant`] for a value and falls back to building it.

use super::cfg::Cfg;
use super::hash::IntMap;
use super::MAX_INLINE_CONSTANT;
use rvbpf_ebpf::inst::{AluOp, Inst, LddwKind, Operand};
use rvbpf_rv64::li::LoadImm;
use rvbpf_rv64::{Imm12, Reg};

/// Registers available for constants, in allocation order.
pub const CONSTANT_REGS: [Reg; 5] = [Reg::S7, Reg::S8, Reg::S9, Reg::S10, Reg::S11];

/// Weight of a use inside a loop relative to one outside.
const LOOP_WEIGHT: u32 = 16;

/// Below this weighted saving a constant is not worth a register (the
/// prologue pays a load plus a save and a restore).
const MIN_SAVING: u32 = 8;

/// The value lowering will need in a register for `inst`, if any.
pub fn operand_constant(inst: &Inst) -> Option<i64> {
    match *inst {
        Inst::Alu {
            op,
            src: Operand::Imm(i),
            ..
        } => {
            let fits = |v: i64| Imm12::new(v).is_some();
            match op {
                AluOp::Add if fits(i as i64) => None,
                AluOp::Sub if fits(-(i as i64)) => None,
                AluOp::And | AluOp::Or | AluOp::Xor if fits(i as i64) => None,
                AluOp::Add | AluOp::Sub | AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Mul => {
                    Some(i as i64)
                }
                AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod if i != 0 => Some(i as i64),
                _ => None,
            }
        }
        Inst::Jump {
            src: Operand::Imm(i),
            ..
        } if i != 0 => Some(i as i64),
        Inst::Store {
            src: Operand::Imm(i),
            ..
        } if i != 0 => Some(i as i64),
        Inst::Lddw {
            kind: LddwKind::Imm(v),
            ..
        } if LoadImm::new(Reg::T1, v as i64).len() > 1 => Some(v as i64),
        _ => None,
    }
}

/// Whether a pc lies inside a loop (a range `[target, pc]` closed by a
/// backward jump), asked in increasing pc order.
struct LoopDepth {
    /// +1 at each loop's first pc, -1 after its last (empty: no loops).
    delta: Vec<i32>,
    start: usize,
    /// Loops open at `next - 1`.
    open: i32,
    next: usize,
}

impl LoopDepth {
    fn new(cfg: &Cfg) -> LoopDepth {
        let start = cfg.start;
        let mut delta = Vec::new();
        if !cfg.back_edges.is_empty() {
            delta = vec![0; cfg.end - start + 1];
            for &(target, pc) in &cfg.back_edges {
                delta[target as usize - start] += 1;
                delta[pc as usize + 1 - start] -= 1;
            }
        }
        LoopDepth {
            delta,
            start,
            open: 0,
            next: start,
        }
    }

    /// Is `pc` (not below the last pc asked about) inside a loop?
    fn at(&mut self, pc: usize) -> bool {
        if self.delta.is_empty() {
            return false;
        }
        while self.next <= pc {
            self.open += self.delta[self.next - self.start];
            self.next += 1;
        }
        self.open > 0
    }
}

/// Instructions it takes to build `v` (inline or from the pool).
fn cost(v: i64) -> u32 {
    LoadImm::new(Reg::T1, v).len().min(MAX_INLINE_CONSTANT) as u32
}

/// The constants of the function `cfg` describes worth a register, best
/// first (at most `CONSTANT_REGS.len()`).
pub fn hoisted_constants(cfg: &Cfg) -> Vec<i64> {
    // Weighted uses per distinct value; the build cost is per value, so it
    // multiplies once at the end.
    let mut uses: IntMap<i64, u32> =
        IntMap::with_capacity_and_hasher(cfg.constant_operands.len(), Default::default());
    let mut in_loop = LoopDepth::new(cfg);
    for &(pc, v) in &cfg.constant_operands {
        let weight = if in_loop.at(pc as usize) {
            LOOP_WEIGHT
        } else {
            1
        };
        *uses.entry(v).or_default() += weight;
    }
    // A cost is at most MAX_INLINE_CONSTANT, so values used too rarely to
    // reach MIN_SAVING are dropped before building them (most constants of
    // a large program are used once).
    let mut savings: Vec<(i64, u32)> = uses
        .into_iter()
        .filter(|&(_, n)| n * MAX_INLINE_CONSTANT as u32 >= MIN_SAVING)
        .map(|(v, n)| (v, cost(v) * n))
        .collect();
    // Best saving first; ties by value so the choice is deterministic.
    savings.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    savings
        .into_iter()
        .filter(|&(_, w)| w >= MIN_SAVING)
        .take(CONSTANT_REGS.len())
        .map(|(v, _)| v)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_ebpf::asm::assemble;

    #[test]
    fn loop_constants_are_hoisted_and_straight_line_ones_are_not() {
        let src = "
            mul %r0, 100000
            loop:
            mul %r0, 7777777
            and %r0, 0x7fffffff
            jgt %r0, 500000, loop
            exit";
        let insts = assemble(src).unwrap();
        let h = hoisted_constants(&Cfg::new(&insts, 0, insts.len()));
        // In the loop: 7777777 (lui+addiw), 0x7fffffff (2), 500000 (2).
        // 100000 outside the loop saves only 2 instructions once.
        let mut sorted = h.clone();
        sorted.sort();
        assert_eq!(sorted, [500000, 7777777, 0x7fffffff]);
    }

    #[test]
    fn immediates_the_instruction_can_take_need_no_register() {
        let insts = assemble("add %r0, 5\nand %r0, 0xff\nlsh %r0, 3\nexit").unwrap();
        assert!(insts.iter().all(|i| operand_constant(i).is_none()));
    }
}
