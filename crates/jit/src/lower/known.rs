//! What is known about the upper half of each BPF register at each pc: a
//! forward dataflow analysis over the function's control-flow graph, done
//! before lowering. A fact says bits 63..32 are zero (`zext`) and/or copies
//! of bit 31 (`sext`). The transfer function states properties of the BPF
//! values that the lowering guarantees to produce (loads by width, ALU32
//! results zero-extended, constants, narrow byte swaps; see
//! [`super::effects`]); a register whose ALU32 zero-extension is dead
//! ([`super::live`]) is known nothing about.
//! Facts meet (both must hold) where paths join; calls forget r0..r5.
//!
//! Users: `jmp32` skips extending operands that already are sign-extended
//! (or, for unsigned and equality tests, both zero-extended), and `mov32` of
//! a zero-extended register is a plain copy.

use super::cfg::Cfg;
use super::effects::{Effects, NO_REG};

/// Facts about bits 63..32 of a register.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Bits 63..32 are zero.
    pub zext: bool,
    /// Bits 63..31 are all equal (the value is a sign-extended i32).
    pub sext: bool,
}

impl Known {
    /// Upper half zero, nothing said about bit 31.
    pub const ZEXT: Known = Known {
        zext: true,
        sext: false,
    };
    /// A sign-extended i32. (Only the tests name it: the effects compute
    /// their facts from bits, without choosing among these constants.)
    #[cfg(test)]
    pub const SEXT: Known = Known {
        zext: false,
        sext: true,
    };

    /// What is known of a register holding exactly `v`.
    pub fn of_value(v: i64) -> Known {
        Known {
            zext: v >> 32 == 0,
            sext: v == v as i32 as i64,
        }
    }

    /// Holds a value below 2^31 (zero- and sign-extended at once).
    pub const SMALL: Known = Known {
        zext: true,
        sext: true,
    };
}

/// Facts about all eleven registers, packed: bit n of each mask is rn.
/// Meeting is a bitwise AND; comparing is two integer compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownRegs {
    zext: u16,
    sext: u16,
}

impl KnownRegs {
    /// Every fact for every register, the start value of the fixpoint.
    const TOP: KnownRegs = KnownRegs {
        zext: 0x7ff,
        sext: 0x7ff,
    };
    /// Nothing known.
    pub const NONE: KnownRegs = KnownRegs { zext: 0, sext: 0 };

    /// What is known about register `r`.
    pub fn get(self, r: usize) -> Known {
        Known {
            zext: self.zext >> r & 1 != 0,
            sext: self.sext >> r & 1 != 0,
        }
    }

    fn meet(self, other: KnownRegs) -> KnownRegs {
        KnownRegs {
            zext: self.zext & other.zext,
            sext: self.sext & other.sext,
        }
    }
}

/// Facts after an instruction with effects `e`, given the facts before it
/// (the values themselves are described in [`super::effects`]).
///
/// Written without branches on the instruction's kind: this runs once per
/// instruction, and the kinds come in no predictable order.
fn transfer(e: &Effects, before: KnownRegs, zext_dead: bool) -> KnownRegs {
    // Register numbers are below 11, so bit 15 of a mask is always clear:
    // NO_REG (masked to 15) selects nothing.
    let bit = ((e.result != NO_REG) as u16) << (e.result & 15);
    let from = e.copy_facts_from & 15;
    // An ALU32 result whose zero-extension is dead: nothing is known.
    let keep = (!(e.alu32 & zext_dead)) as u16;
    let zext = ((e.result_facts.zext as u16) | (before.zext >> from & 1)) & keep;
    let sext = ((e.result_facts.sext as u16) | (before.sext >> from & 1)) & keep;
    KnownRegs {
        zext: (before.zext & !e.clobbers & !bit) | (bit * zext),
        sext: (before.sext & !e.clobbers & !bit) | (bit * sext),
    }
}

/// Facts before every pc of the function (indexed from its start).
/// `zext_dead` comes from [`super::live::analyze`].
///
/// Round-robin iteration in pc order: a pass propagates along every
/// forward edge at once, so only a change across a backward edge (a loop)
/// needs another pass. The transfer is monotone, so this reaches the same
/// greatest fixpoint as any worklist order.
pub fn analyze(cfg: &Cfg, zext_dead: &[bool]) -> Vec<KnownRegs> {
    let start = cfg.start;
    let mut input = vec![KnownRegs::TOP; cfg.end - start];
    // Nothing is known on entry.
    input[0] = KnownRegs::NONE;
    let mut again = true;
    while again {
        again = false;
        // The facts the previous pc hands over by falling through, met
        // here rather than stored there and read back (most pcs fall
        // through, and the round trip through memory cost a stall).
        let mut fall_in = KnownRegs::TOP;
        for pc in start..cfg.end {
            let i = pc - start;
            let before = input[i].meet(fall_in);
            input[i] = before;
            let out = transfer(cfg.effects(pc), before, zext_dead[i]);
            let (falls, taken) = cfg.edges(pc);
            fall_in = if falls { out } else { KnownRegs::TOP };
            if let Some(t) = taken {
                let slot = &mut input[t - start];
                let met = slot.meet(out);
                // A later pc is visited later in this pass. (Stored and
                // compared without a branch: whether facts change is
                // unpredictable.)
                again |= (met != *slot) & (t <= pc);
                *slot = met;
            }
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_ebpf::asm::assemble;

    fn facts(src: &str) -> Vec<KnownRegs> {
        let insts = assemble(src).unwrap();
        let dead = vec![false; insts.len()];
        analyze(&Cfg::new(&insts, 0, insts.len()), &dead)
    }

    #[test]
    fn facts_flow_around_loops_and_meet_at_joins() {
        let f = facts(
            "ldxw %r5, [%r1+0]
             mov %r6, 0
             loop:
             add %r6, 1
             jlt32 %r6, %r5, loop
             ldxsw %r7, [%r1+4]
             jeq %r6, 3, +1
             ldxdw %r7, [%r1+8]
             exit",
        );
        // r5 stays zero-extended in the loop (pc 3); r6 does not (add).
        assert_eq!(f[3].get(5), Known::ZEXT);
        assert_eq!(f[3].get(6), Known::default());
        // At the exit, r7 is sign-extended on one path only.
        assert_eq!(f[7].get(7), Known::default());
        assert_eq!(f[6].get(7), Known::SEXT);
    }

    #[test]
    fn calls_forget_r0_to_r5_and_dead_zero_extensions_know_nothing() {
        let f = facts("ldxw %r1, [%r1+0]\nldxw %r6, [%r1+0]\ncall 1\nexit");
        assert_eq!(f[3].get(1), Known::default());
        assert_eq!(f[3].get(6), Known::ZEXT);
        let insts = assemble("mov32 %r0, %r1\nadd32 %r0, 1\nexit").unwrap();
        let k = analyze(&Cfg::new(&insts, 0, 3), &[true, false, false]);
        assert_eq!(k[1].get(0), Known::default());
        assert_eq!(k[2].get(0), Known::ZEXT);
    }
}
