//! Integer registers `x0..x31` with their ABI names.

use std::fmt;

/// An integer register `x0..=x31`. Only valid indices can be constructed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

/// ABI names in register-index order, exactly as `llvm-objdump` prints them.
const ABI_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

impl Reg {
    /// `x0`, hard-wired zero.
    pub const ZERO: Reg = Reg(0);
    /// `x1`, return address.
    pub const RA: Reg = Reg(1);
    /// `x2`, stack pointer.
    pub const SP: Reg = Reg(2);
    /// `x3`, global pointer.
    pub const GP: Reg = Reg(3);
    /// `x4`, thread pointer.
    pub const TP: Reg = Reg(4);
    /// `x5`, temporary.
    pub const T0: Reg = Reg(5);
    /// `x6`, temporary.
    pub const T1: Reg = Reg(6);
    /// `x7`, temporary.
    pub const T2: Reg = Reg(7);
    /// `x8`, callee-saved / frame pointer.
    pub const S0: Reg = Reg(8);
    /// `x8` under its frame-pointer name.
    pub const FP: Reg = Reg(8);
    /// `x9`, callee-saved.
    pub const S1: Reg = Reg(9);
    /// `x10`, argument / return value.
    pub const A0: Reg = Reg(10);
    /// `x11`, argument / return value.
    pub const A1: Reg = Reg(11);
    /// `x12`, argument.
    pub const A2: Reg = Reg(12);
    /// `x13`, argument.
    pub const A3: Reg = Reg(13);
    /// `x14`, argument.
    pub const A4: Reg = Reg(14);
    /// `x15`, argument.
    pub const A5: Reg = Reg(15);
    /// `x16`, argument.
    pub const A6: Reg = Reg(16);
    /// `x17`, argument.
    pub const A7: Reg = Reg(17);
    /// `x18`, callee-saved.
    pub const S2: Reg = Reg(18);
    /// `x19`, callee-saved.
    pub const S3: Reg = Reg(19);
    /// `x20`, callee-saved.
    pub const S4: Reg = Reg(20);
    /// `x21`, callee-saved.
    pub const S5: Reg = Reg(21);
    /// `x22`, callee-saved.
    pub const S6: Reg = Reg(22);
    /// `x23`, callee-saved.
    pub const S7: Reg = Reg(23);
    /// `x24`, callee-saved.
    pub const S8: Reg = Reg(24);
    /// `x25`, callee-saved.
    pub const S9: Reg = Reg(25);
    /// `x26`, callee-saved.
    pub const S10: Reg = Reg(26);
    /// `x27`, callee-saved.
    pub const S11: Reg = Reg(27);
    /// `x28`, temporary.
    pub const T3: Reg = Reg(28);
    /// `x29`, temporary.
    pub const T4: Reg = Reg(29);
    /// `x30`, temporary.
    pub const T5: Reg = Reg(30);
    /// `x31`, temporary.
    pub const T6: Reg = Reg(31);

    /// Register `x{index}`, or `None` when `index > 31`.
    pub const fn new(index: u8) -> Option<Reg> {
        if index < 32 {
            Some(Reg(index))
        } else {
            None
        }
    }

    /// Register from the low five bits of `bits` (used by the decoder, which
    /// extracts 5-bit fields and so can never be out of range).
    pub(crate) const fn from_field(bits: u32) -> Reg {
        Reg((bits & 0x1f) as u8)
    }

    /// Register from a 3-bit compressed-register field (`x8..=x15`).
    pub(crate) const fn from_compressed_field(bits: u32) -> Reg {
        Reg(8 + (bits & 0x7) as u8)
    }

    /// The register number `0..=31`.
    pub const fn index(self) -> u8 {
        self.0
    }

    /// The register number as an encoding field.
    pub(crate) const fn field(self) -> u32 {
        self.0 as u32
    }

    /// Is this `x0`?
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The 3-bit field of the RVC "popular register" set `x8..=x15`
    /// (`s0, s1, a0..a5`), or `None` for any other register.
    pub const fn compressed_field(self) -> Option<u32> {
        if self.0 >= 8 && self.0 <= 15 {
            Some((self.0 - 8) as u32)
        } else {
            None
        }
    }

    /// The ABI name (`zero`, `ra`, `sp`, `a0` ...), as printed by `llvm-objdump`.
    pub const fn abi_name(self) -> &'static str {
        ABI_NAMES[self.0 as usize]
    }

    /// All 32 registers in index order.
    pub fn all() -> impl Iterator<Item = Reg> {
        (0..32).map(Reg)
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.abi_name())
    }
}

impl fmt::Debug for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.abi_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_rejects_out_of_range() {
        assert_eq!(Reg::new(31), Some(Reg::T6));
        assert_eq!(Reg::new(32), None);
        assert_eq!(Reg::new(255), None);
    }

    #[test]
    fn abi_names_follow_the_psabi_table() {
        // RISC-V psABI: x8 = s0/fp, x10 = a0, x18 = s2, x28 = t3.
        assert_eq!(Reg::new(8).unwrap().abi_name(), "s0");
        assert_eq!(Reg::new(10).unwrap().abi_name(), "a0");
        assert_eq!(Reg::new(18).unwrap().abi_name(), "s2");
        assert_eq!(Reg::new(28).unwrap().abi_name(), "t3");
    }

    #[test]
    fn compressed_set_is_x8_to_x15() {
        assert_eq!(Reg::S0.compressed_field(), Some(0));
        assert_eq!(Reg::A5.compressed_field(), Some(7));
        assert_eq!(Reg::T2.compressed_field(), None);
        assert_eq!(Reg::A6.compressed_field(), None);
    }
}
