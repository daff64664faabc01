//! Pure arithmetic of the M and Zbb operations whose RISC-V semantics differ
//! from Rust's operators (division corner cases, high multiplies, byte-wise
//! operations). Kept separate so each rule is unit-tested against the spec.

/// Sign-extends the low 32 bits of `v`.
#[inline(always)]
pub(crate) fn sext32(v: u64) -> u64 {
    v as i32 as i64 as u64
}

/// `div`: signed division; x/0 = -1, MIN/-1 = MIN (M spec, table 7.1).
#[inline(always)]
pub(crate) fn div(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        u64::MAX
    } else {
        a.wrapping_div(b) as u64
    }
}

/// `divu`: x/0 = 2^64-1.
#[inline(always)]
pub(crate) fn divu(a: u64, b: u64) -> u64 {
    a.checked_div(b).unwrap_or(u64::MAX)
}

/// `rem`: x%0 = x, MIN%-1 = 0.
#[inline(always)]
pub(crate) fn rem(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        a as u64
    } else {
        a.wrapping_rem(b) as u64
    }
}

/// `remu`: x%0 = x.
#[inline(always)]
pub(crate) fn remu(a: u64, b: u64) -> u64 {
    a.checked_rem(b).unwrap_or(a)
}

/// `divw`: 32-bit signed division of the low words, sign-extended.
#[inline(always)]
pub(crate) fn divw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    let q = if b == 0 { -1 } else { a.wrapping_div(b) };
    q as i64 as u64
}

/// `divuw`: 32-bit unsigned division, sign-extended result.
#[inline(always)]
pub(crate) fn divuw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    sext32(u64::from(a.checked_div(b).unwrap_or(u32::MAX)))
}

/// `remw`: 32-bit signed remainder, sign-extended.
#[inline(always)]
pub(crate) fn remw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    let r = if b == 0 { a } else { a.wrapping_rem(b) };
    r as i64 as u64
}

/// `remuw`: 32-bit unsigned remainder, sign-extended.
#[inline(always)]
pub(crate) fn remuw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    sext32(u64::from(a.checked_rem(b).unwrap_or(a)))
}

/// `mulh`: high 64 bits of signed × signed.
#[inline(always)]
pub(crate) fn mulh(a: u64, b: u64) -> u64 {
    ((i128::from(a as i64) * i128::from(b as i64)) >> 64) as u64
}

/// `mulhsu`: high 64 bits of signed `a` × unsigned `b`.
#[inline(always)]
pub(crate) fn mulhsu(a: u64, b: u64) -> u64 {
    ((i128::from(a as i64) * i128::from(b)) >> 64) as u64
}

/// `mulhu`: high 64 bits of unsigned × unsigned.
#[inline(always)]
pub(crate) fn mulhu(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) >> 64) as u64
}

/// `orc.b`: every non-zero byte becomes 0xff, zero bytes stay 0.
#[inline(always)]
pub(crate) fn orc_b(v: u64) -> u64 {
    let mut out = 0;
    for i in 0..8 {
        if (v >> (i * 8)) & 0xff != 0 {
            out |= 0xff << (i * 8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = i64::MIN as u64;
    const NEG1: u64 = u64::MAX;

    #[test]
    fn division_by_zero_follows_the_m_spec_table() {
        // RISC-V unprivileged spec, M extension, "Semantics for division by
        // zero and division overflow": quotient all ones (divu: 2^64-1,
        // div: -1), remainder = dividend.
        assert_eq!(div(7, 0), NEG1);
        assert_eq!(divu(7, 0), u64::MAX);
        assert_eq!(rem(7, 0), 7);
        assert_eq!(remu(7, 0), 7);
        assert_eq!(divw(7, 0), NEG1);
        assert_eq!(divuw(7, 0), NEG1); // 2^32-1 sign-extended
        assert_eq!(remw(0xffff_ffff_8000_0005, 0), 0xffff_ffff_8000_0005);
        assert_eq!(remuw(0x1_8000_0005, 0), 0xffff_ffff_8000_0005);
    }

    #[test]
    fn signed_overflow_follows_the_m_spec_table() {
        assert_eq!(div(MIN, NEG1), MIN);
        assert_eq!(rem(MIN, NEG1), 0);
        assert_eq!(divw(0x8000_0000, NEG1), 0xffff_ffff_8000_0000);
        assert_eq!(remw(0x8000_0000, NEG1), 0);
    }

    #[test]
    fn signed_division_truncates_toward_zero() {
        assert_eq!(div((-7i64) as u64, 2), (-3i64) as u64);
        assert_eq!(rem((-7i64) as u64, 2), (-1i64) as u64);
    }

    #[test]
    fn high_multiplies() {
        // (-1) * (-1) = 1 → high word 0; (-1) signed * (2^64-1) unsigned =
        // -(2^64-1) → high word -1; (2^64-1)^2 = 2^128 - 2^65 + 1 → high 2^64-2.
        assert_eq!(mulh(NEG1, NEG1), 0);
        assert_eq!(mulhsu(NEG1, u64::MAX), NEG1);
        assert_eq!(mulhu(u64::MAX, u64::MAX), u64::MAX - 1);
        assert_eq!(mulh(MIN, 2), NEG1);
    }

    #[test]
    fn orc_b_marks_non_zero_bytes() {
        assert_eq!(orc_b(0x0001_0000_8000_0200), 0x00ff_0000_ff00_ff00);
        assert_eq!(orc_b(0), 0);
    }
}
