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
use rvbpf_ebpf::inst::AluOp;
#[cfg(test)]
use rvbpf_ebpf::inst::{Inst, LddwKind, Operand};
use rvbpf_rv64::li::LoadImm;
use rvbpf_rv64::{Imm12, Reg};

/// Registers available for constants, in allocation order.
pub const CONSTANT_REGS: [Reg; 5] = [Reg::S7, Reg::S8, Reg::S9, Reg::S10, Reg::S11];

/// Weight of a use inside a loop relative to one outside.
const LOOP_WEIGHT: u32 = 16;

/// Below this weighted saving a constant is not worth a register (the
/// prologue pays a load plus a save and a restore).
const MIN_SAVING: u32 = 8;

/// Whether lowering will need a value in a register for `inst`, and the
/// value (meaningless when not): what [`Cfg::new`] records (the scan's
/// one match decodes it, see [`super::effects::Flow::operand`]).
#[cfg(test)]
pub fn operand_constant(inst: &Inst) -> (bool, i64) {
    super::effects::Effects::of(inst).1.operand
}

/// [`operand_constant`] of `lddw` of `v`: a constant that needs more
/// than one instruction.
pub fn lddw_operand_constant(v: u64) -> (bool, i64) {
    (LoadImm::new(Reg::T1, v as i64).len() > 1, v as i64)
}

/// The operations in `ops` as a mask of their discriminants.
const fn op_mask(ops: &[AluOp]) -> u32 {
    let mut mask = 0;
    let mut i = 0;
    while i < ops.len() {
        mask |= 1 << ops[i] as u32;
        i += 1;
    }
    mask
}

/// [`operand_constant`] of an ALU operation with immediate `i`: the
/// I-forms (`addi`, `andi`, `ori`, `xori`; `sub` as `addi` of `-i`) take a
/// 12-bit immediate, `mul` has none, and division by a non-zero constant
/// needs its divisor in a register (by zero it needs none).
pub fn alu_operand_constant(op: AluOp, i: i32) -> (bool, i64) {
    const I_FORM: u32 = op_mask(&[AluOp::Add, AluOp::And, AluOp::Or, AluOp::Xor]);
    const SUB: u32 = op_mask(&[AluOp::Sub]);
    const MUL: u32 = op_mask(&[AluOp::Mul]);
    const DIV_MOD: u32 = op_mask(&[AluOp::Div, AluOp::Sdiv, AluOp::Mod, AluOp::Smod]);
    let v = i as i64;
    let fits = |v: i64| Imm12::new(v).is_some();
    let op = 1u32 << op as u32;
    let needs = ((op & I_FORM != 0) & !fits(v))
        | ((op & SUB != 0) & !fits(-v))
        | (op & MUL != 0)
        | ((op & DIV_MOD != 0) & (i != 0));
    (needs, v)
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

/// Can `weighted_uses` of one value pay for a register? (Its build cost
/// is at most MAX_INLINE_CONSTANT instructions per use.)
fn may_pay(weighted_uses: u32) -> bool {
    weighted_uses * MAX_INLINE_CONSTANT as u32 >= MIN_SAVING
}

/// Cells of [`UseSketch`] (one byte each: small enough to stay in cache).
const SKETCH_CELLS: usize = 1 << 14;

/// Below this many constant operands the exact count alone is cheaper.
const SKETCH_MIN_OPERANDS: usize = 1024;

/// Weighted uses per hashed value, summed over colliding values and
/// saturating: never below any one value's own count. Most constants of a
/// large program are used once; screening them out with this leaves the
/// exact count (a hash map whose random accesses miss the cache) only the
/// few that may pay.
struct UseSketch(Vec<u8>);

impl UseSketch {
    fn cell(v: i64) -> usize {
        // Fibonacci hashing: the top bits are well mixed.
        ((v as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SKETCH_CELLS.trailing_zeros()))
            as usize
    }

    fn new(cfg: &Cfg) -> UseSketch {
        let mut cells = vec![0u8; SKETCH_CELLS];
        let mut in_loop = LoopDepth::new(cfg);
        for &(pc, v) in &cfg.constant_operands {
            let c = &mut cells[Self::cell(v)];
            *c = c.saturating_add(weight(&mut in_loop, pc) as u8);
        }
        UseSketch(cells)
    }

    /// Can `v` reach [`may_pay`]? (False only when it cannot.)
    fn may_pay(&self, v: i64) -> bool {
        may_pay(self.0[Self::cell(v)] as u32)
    }
}

/// Weight of a use at `pc` (asked in increasing pc order).
fn weight(in_loop: &mut LoopDepth, pc: u32) -> u32 {
    if in_loop.at(pc as usize) {
        LOOP_WEIGHT
    } else {
        1
    }
}

/// The constants of the function `cfg` describes worth a register, best
/// first (at most `CONSTANT_REGS.len()`).
pub fn hoisted_constants(cfg: &Cfg) -> Vec<i64> {
    let operands = &cfg.constant_operands;
    let sketch = (operands.len() >= SKETCH_MIN_OPERANDS).then(|| UseSketch::new(cfg));
    // Weighted uses per distinct value that may pay; the build cost is per
    // value, so it multiplies once at the end.
    let mut uses: IntMap<i64, u32> = IntMap::default();
    let mut in_loop = LoopDepth::new(cfg);
    for &(pc, v) in operands {
        let w = weight(&mut in_loop, pc);
        if sketch.as_ref().is_none_or(|s| s.may_pay(v)) {
            *uses.entry(v).or_default() += w;
        }
    }
    // Values used too rarely to reach MIN_SAVING are dropped before
    // building them.
    let mut savings: Vec<(i64, u32)> = uses
        .into_iter()
        .filter(|&(_, n)| may_pay(n))
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

/// The value lowering will need in a register for `inst`, if any, case
/// by case: the specification [`operand_constant`] computes (the ALU
/// cases without branches).
#[cfg(test)]
fn operand_constant_by_case(inst: &Inst) -> Option<i64> {
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
    fn many_single_use_constants_leave_the_repeated_ones() {
        // Enough operands for the sketch: 2000 multipliers used once, then
        // 123457 four times (lui+addiw: 4 x 2 = 8 saved, MIN_SAVING) and
        // 7654321 three times (6 saved: not worth a register).
        let mut src = String::new();
        for i in 0..2000 {
            src += &format!("mul %r0, {}\n", 100_000 + i);
        }
        src += &"mul %r0, 123457\n".repeat(4);
        src += &"mul %r0, 7654321\n".repeat(3);
        src += "exit";
        let insts = assemble(&src).unwrap();
        let cfg = Cfg::new(&insts, 0, insts.len());
        assert!(cfg.constant_operands.len() >= SKETCH_MIN_OPERANDS);
        assert_eq!(hoisted_constants(&cfg), [123457]);
    }

    #[test]
    fn immediates_the_instruction_can_take_need_no_register() {
        let insts = assemble("add %r0, 5\nand %r0, 0xff\nlsh %r0, 3\nexit").unwrap();
        assert!(insts.iter().all(|i| !operand_constant(i).0));
    }

    #[test]
    fn operand_constants_agree_with_the_case_by_case_rules() {
        use rvbpf_ebpf::inst::{Cond, Reg as BpfReg, Size};
        let r = |n| BpfReg::new(n).unwrap();
        let ops = [
            AluOp::Add,
            AluOp::Sub,
            AluOp::Mul,
            AluOp::Div,
            AluOp::Sdiv,
            AluOp::Or,
            AluOp::And,
            AluOp::Lsh,
            AluOp::Rsh,
            AluOp::Neg,
            AluOp::Mod,
            AluOp::Smod,
            AluOp::Xor,
            AluOp::Mov,
            AluOp::Movsx8,
            AluOp::Movsx16,
            AluOp::Movsx32,
            AluOp::Arsh,
        ];
        // Around the 12-bit I-form range on both sides, and its negation.
        let imms = [
            0,
            1,
            -1,
            2047,
            2048,
            -2048,
            -2049,
            4095,
            0x7fff_ffff,
            i32::MIN,
            i32::MIN + 1,
        ];
        let mut insts = Vec::new();
        for &i in &imms {
            for op in ops {
                for is64 in [false, true] {
                    let src = Operand::Imm(i);
                    insts.push(Inst::Alu {
                        is64,
                        op,
                        dst: r(1),
                        src,
                    });
                }
            }
            insts.push(Inst::Alu {
                is64: true,
                op: AluOp::Mul,
                dst: r(1),
                src: Operand::Reg(r(2)),
            });
            insts.push(Inst::Jump {
                is32: false,
                cond: Cond::Eq,
                dst: r(1),
                src: Operand::Imm(i),
                off: 1,
            });
            insts.push(Inst::Store {
                size: Size::W,
                dst: r(10),
                off: -8,
                src: Operand::Imm(i),
            });
        }
        for v in [0, 1, 2047, 2048, 0x1234_5678, -1, 1 << 40, i64::MIN] {
            let kind = LddwKind::Imm(v as u64);
            insts.push(Inst::Lddw { dst: r(1), kind });
        }
        for inst in &insts {
            let (has, v) = operand_constant(inst);
            assert_eq!(has.then_some(v), operand_constant_by_case(inst), "{inst:?}");
        }
    }
}
