//! What is known about the upper half of each BPF register's RV64 copy on
//! the straight line being lowered: zero (`zext`) and/or copies of bit 31
//! (`sext`). Lowerings record it for the register they write (a load's
//! width, a zero-extended ALU32 result, a constant); anything written without
//! a record becomes unknown, and everything is forgotten at jump targets
//! and calls. Users: `jmp32` skips sign-extending operands that already are
//! (or, for unsigned and equality tests, two zero-extended operands), and
//! `mov32` of a zero-extended register is a plain copy.

use rvbpf_ebpf::inst::{CallTarget, Inst};

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
    /// A sign-extended i32.
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

/// Registers `inst` may write (bit n = rn), calls clobbering r0..r5.
pub fn writes(inst: &Inst) -> u16 {
    let bit = |r: rvbpf_ebpf::inst::Reg| 1u16 << r.index();
    match *inst {
        Inst::Alu { dst, .. } | Inst::Endian { dst, .. } | Inst::Lddw { dst, .. } => bit(dst),
        Inst::Load { dst, .. } => bit(dst),
        Inst::LoadPacket { .. } => 0x3f,
        Inst::Atomic { fetch, src, .. } => {
            // cmpxchg writes r0, fetch forms the source register.
            bit(rvbpf_ebpf::inst::Reg::R0) | if fetch { bit(src) } else { 0 }
        }
        Inst::Call(CallTarget::Helper(_) | CallTarget::Kfunc(_) | CallTarget::Local(_))
        | Inst::Callx { .. } => 0x3f,
        _ => 0,
    }
}
