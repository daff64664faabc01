//! Checked immediates. Each type can only hold a value its instruction field
//! can encode: constructors return `None` for anything else, so an
//! out-of-range immediate is never silently truncated.

use std::fmt;

macro_rules! signed_imm {
    ($(#[$doc:meta])* $name:ident, $repr:ty, $bits:expr, $align:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub struct $name($repr);

        impl $name {
            /// Number of bits of the (unscaled) value, sign bit included.
            pub const BITS: u32 = $bits;
            /// Smallest accepted value.
            pub const MIN: i64 = -(1i64 << ($bits - 1));
            /// Largest accepted value.
            pub const MAX: i64 = (1i64 << ($bits - 1)) - $align;
            /// Zero.
            pub const ZERO: $name = $name(0);

            /// `Some` when `value` is in `MIN..=MAX` and a multiple of the
            /// required alignment.
            pub const fn new(value: i64) -> Option<$name> {
                #[allow(clippy::modulo_one)] // Imm12 has alignment 1
                let aligned = value % $align == 0;
                if value >= Self::MIN && value <= Self::MAX && aligned {
                    Some($name(value as $repr))
                } else {
                    None
                }
            }

            /// The value, sign-extended.
            pub const fn value(self) -> i64 {
                self.0 as i64
            }

            /// The low `BITS` bits of the two's-complement value.
            pub(crate) const fn bits(self) -> u32 {
                (self.0 as u32) & ((1u32 << $bits) - 1)
            }

            /// Sign-extends the low `BITS` bits of `bits` (decoder use; the
            /// caller guarantees the alignment bit is clear).
            pub(crate) const fn from_bits(bits: u32) -> $name {
                let shift = 32 - $bits;
                $name((((bits << shift) as i32) >> shift) as $repr)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

signed_imm!(
    /// Signed 12-bit immediate of I- and S-type instructions: `-2048..=2047`.
    Imm12, i16, 12, 1
);

signed_imm!(
    /// Conditional-branch byte offset: even, `-4096..=4094` (13-bit signed).
    BranchOffset, i16, 13, 2
);

signed_imm!(
    /// `jal` byte offset: even, `-1 MiB..=1 MiB - 2` (21-bit signed).
    JumpOffset, i32, 21, 2
);

/// The 20-bit immediate of `lui`/`auipc`, i.e. bits `31:12` of the value the
/// instruction produces (which is then sign-extended to 64 bits on RV64).
///
/// Held as a signed value `-524288..=524287`; [`Imm20::from_bits`] accepts the
/// unsigned assembler spelling `0..=0xfffff` (`lui a0, 1048575`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Imm20(i32);

impl Imm20 {
    /// Smallest signed value.
    pub const MIN: i64 = -(1 << 19);
    /// Largest signed value.
    pub const MAX: i64 = (1 << 19) - 1;
    /// Zero.
    pub const ZERO: Imm20 = Imm20(0);

    /// `Some` when `value` is in `MIN..=MAX`.
    pub const fn new(value: i64) -> Option<Imm20> {
        if value >= Self::MIN && value <= Self::MAX {
            Some(Imm20(value as i32))
        } else {
            None
        }
    }

    /// From the unsigned 20-bit field value `0..=0xfffff` (assembler syntax).
    pub const fn from_bits(bits: u32) -> Option<Imm20> {
        if bits <= 0xf_ffff {
            Some(Imm20(((bits << 12) as i32) >> 12))
        } else {
            None
        }
    }

    /// Decoder use: the low 20 bits of `bits`.
    pub(crate) const fn from_field(bits: u32) -> Imm20 {
        Imm20(((bits << 12) as i32) >> 12)
    }

    /// The signed value (`-524288..=524287`).
    pub const fn value(self) -> i64 {
        self.0 as i64
    }

    /// The unsigned 20-bit field, as `llvm-objdump` prints it.
    pub const fn bits(self) -> u32 {
        (self.0 as u32) & 0xf_ffff
    }

    /// What `lui rd, self` writes into `rd`: `value << 12`, sign-extended.
    pub const fn upper_value(self) -> i64 {
        (self.0 as i64) << 12
    }
}

impl fmt::Display for Imm20 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bits())
    }
}

macro_rules! shamt {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub struct $name(u8);

        impl $name {
            /// Largest accepted shift amount.
            pub const MAX: u32 = $max;

            /// `Some` when `value <= MAX`.
            pub const fn new(value: u32) -> Option<$name> {
                if value <= $max {
                    Some($name(value as u8))
                } else {
                    None
                }
            }

            /// The shift amount.
            pub const fn value(self) -> u32 {
                self.0 as u32
            }

            /// Decoder use: masks to the field width.
            pub(crate) const fn from_field(bits: u32) -> $name {
                $name((bits & $max) as u8)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

shamt!(
    /// 6-bit shift amount of the 64-bit immediate shifts (`slli`, `rori` ...): `0..=63`.
    Shamt, 63
);

shamt!(
    /// 5-bit shift amount of the 32-bit (`*w`) immediate shifts: `0..=31`.
    ShamtW, 31
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imm12_bounds() {
        assert_eq!(Imm12::new(-2048).map(Imm12::value), Some(-2048));
        assert_eq!(Imm12::new(2047).map(Imm12::value), Some(2047));
        assert_eq!(Imm12::new(2048), None);
        assert_eq!(Imm12::new(-2049), None);
        assert_eq!(Imm12::new(-1).unwrap().bits(), 0xfff);
        assert_eq!(Imm12::from_bits(0x800).value(), -2048);
    }

    #[test]
    fn branch_offsets_must_be_even_and_in_range() {
        assert!(BranchOffset::new(-4096).is_some());
        assert!(BranchOffset::new(4094).is_some());
        assert!(BranchOffset::new(4096).is_none());
        assert!(BranchOffset::new(-4098).is_none());
        assert!(BranchOffset::new(3).is_none());
        assert!(JumpOffset::new((1 << 20) - 2).is_some());
        assert!(JumpOffset::new(1 << 20).is_none());
        assert!(JumpOffset::new(-(1 << 20)).is_some());
        assert!(JumpOffset::new(-(1 << 20) - 2).is_none());
        assert!(JumpOffset::new(1).is_none());
    }

    #[test]
    fn imm20_signed_and_unsigned_views() {
        let all_ones = Imm20::from_bits(0xfffff).unwrap();
        assert_eq!(all_ones.value(), -1);
        assert_eq!(all_ones.upper_value(), -4096);
        assert_eq!(Imm20::from_bits(0x100000), None);
        assert_eq!(Imm20::new(524287).unwrap().upper_value(), 0x7fff_f000);
        assert_eq!(Imm20::new(524288), None);
        assert_eq!(Imm20::new(-524288).unwrap().bits(), 0x80000);
    }

    #[test]
    fn shift_amounts() {
        assert!(Shamt::new(63).is_some());
        assert!(Shamt::new(64).is_none());
        assert!(ShamtW::new(31).is_some());
        assert!(ShamtW::new(32).is_none());
    }
}
