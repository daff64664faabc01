//! Pure BPF arithmetic, comparison and byte-order semantics (RFC 9669), shared
//! by the interpreter and by tests that check other engines.
//!
//! * 32-bit operations work on the low halves and zero-extend the result.
//! * Division by zero gives 0; modulo by zero leaves the dividend (for
//!   32-bit forms: its low 32 bits, zero-extended).
//! * Signed division overflow (`MIN / -1`) gives `MIN`, `MIN % -1` gives 0.
//! * Shift amounts are masked to 63 (64-bit) or 31 (32-bit).

use super::decode::Bin;
use rvbpf_ebpf::inst::Cond;

/// `a op b` on 64 bits.
#[inline(always)]
pub fn alu64(op: Bin, a: u64, b: u64) -> u64 {
    match op {
        Bin::Add => a.wrapping_add(b),
        Bin::Sub => a.wrapping_sub(b),
        Bin::Mul => a.wrapping_mul(b),
        Bin::Div => a.checked_div(b).unwrap_or(0),
        Bin::Sdiv => {
            if b == 0 {
                0
            } else {
                (a as i64).wrapping_div(b as i64) as u64
            }
        }
        Bin::Or => a | b,
        Bin::And => a & b,
        Bin::Lsh => a << (b & 63),
        Bin::Rsh => a >> (b & 63),
        Bin::Mod => a.checked_rem(b).unwrap_or(a),
        Bin::Smod => {
            if b == 0 {
                a
            } else {
                (a as i64).wrapping_rem(b as i64) as u64
            }
        }
        Bin::Xor => a ^ b,
        Bin::Mov => b,
        Bin::Arsh => ((a as i64) >> (b & 63)) as u64,
    }
}

/// `a op b` on 32 bits, zero-extended to 64.
#[inline(always)]
pub fn alu32(op: Bin, a: u32, b: u32) -> u64 {
    let r: u32 = match op {
        Bin::Add => a.wrapping_add(b),
        Bin::Sub => a.wrapping_sub(b),
        Bin::Mul => a.wrapping_mul(b),
        Bin::Div => a.checked_div(b).unwrap_or(0),
        Bin::Sdiv => {
            if b == 0 {
                0
            } else {
                (a as i32).wrapping_div(b as i32) as u32
            }
        }
        Bin::Or => a | b,
        Bin::And => a & b,
        Bin::Lsh => a << (b & 31),
        Bin::Rsh => a >> (b & 31),
        Bin::Mod => a.checked_rem(b).unwrap_or(a),
        Bin::Smod => {
            if b == 0 {
                a
            } else {
                (a as i32).wrapping_rem(b as i32) as u32
            }
        }
        Bin::Xor => a ^ b,
        Bin::Mov => b,
        Bin::Arsh => ((a as i32) >> (b & 31)) as u32,
    };
    r as u64
}

/// Sign-extends the low `bits` of `v` to 64 bits.
#[inline(always)]
pub fn sign_extend(v: u64, bits: u8) -> u64 {
    let s = 64 - bits as u32;
    (((v << s) as i64) >> s) as u64
}

/// Whether `a cond b` holds on 64 bits.
#[inline(always)]
pub fn cond64(c: Cond, a: u64, b: u64) -> bool {
    match c {
        Cond::Eq => a == b,
        Cond::Gt => a > b,
        Cond::Ge => a >= b,
        Cond::Set => a & b != 0,
        Cond::Ne => a != b,
        Cond::Sgt => (a as i64) > (b as i64),
        Cond::Sge => (a as i64) >= (b as i64),
        Cond::Lt => a < b,
        Cond::Le => a <= b,
        Cond::Slt => (a as i64) < (b as i64),
        Cond::Sle => (a as i64) <= (b as i64),
    }
}

/// Whether `a cond b` holds on the low 32 bits.
#[inline(always)]
pub fn cond32(c: Cond, a: u64, b: u64) -> bool {
    let (a, b) = (a as u32, b as u32);
    match c {
        Cond::Eq => a == b,
        Cond::Gt => a > b,
        Cond::Ge => a >= b,
        Cond::Set => a & b != 0,
        Cond::Ne => a != b,
        Cond::Sgt => (a as i32) > (b as i32),
        Cond::Sge => (a as i32) >= (b as i32),
        Cond::Lt => a < b,
        Cond::Le => a <= b,
        Cond::Slt => (a as i32) < (b as i32),
        Cond::Sle => (a as i32) <= (b as i32),
    }
}

/// Truncation to `bits` (to-little-endian on a little-endian VM).
#[inline(always)]
pub fn to_le(v: u64, bits: u8) -> u64 {
    match bits {
        16 => v as u16 as u64,
        32 => v as u32 as u64,
        _ => v,
    }
}

/// Byte swap of the low `bits` (to-big-endian, and v4 `bswap`).
#[inline(always)]
pub fn swap(v: u64, bits: u8) -> u64 {
    match bits {
        16 => (v as u16).swap_bytes() as u64,
        32 => (v as u32).swap_bytes() as u64,
        _ => v.swap_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_edge_cases() {
        assert_eq!(alu64(Bin::Div, 7, 0), 0);
        assert_eq!(alu64(Bin::Mod, 7, 0), 7);
        // 32-bit mod by zero keeps only the low half of the dividend.
        assert_eq!(alu32(Bin::Mod, 0x1234_5678, 0), 0x1234_5678);
        assert_eq!(
            alu64(Bin::Sdiv, i64::MIN as u64, -1i64 as u64),
            i64::MIN as u64
        );
        assert_eq!(alu64(Bin::Smod, i64::MIN as u64, -1i64 as u64), 0);
        assert_eq!(alu32(Bin::Sdiv, i32::MIN as u32, -1i32 as u32), 0x8000_0000);
        // -7 / 2 = -3 (truncating), -7 % 2 = -1 (sign of the dividend).
        assert_eq!(alu64(Bin::Sdiv, -7i64 as u64, 2), -3i64 as u64);
        assert_eq!(alu64(Bin::Smod, -7i64 as u64, 2), -1i64 as u64);
    }

    #[test]
    fn shifts_are_masked() {
        assert_eq!(alu64(Bin::Lsh, 1, 65), 2);
        assert_eq!(alu32(Bin::Lsh, 1, 33), 2);
        assert_eq!(alu32(Bin::Arsh, 0x8000_0000, 4), 0xf800_0000);
        assert_eq!(alu64(Bin::Arsh, 1 << 63, 63), u64::MAX);
    }

    #[test]
    fn byte_order() {
        assert_eq!(swap(0x1122_3344_5566_7788, 16), 0x8877);
        assert_eq!(swap(0x1122_3344_5566_7788, 32), 0x8877_6655);
        assert_eq!(to_le(0x1122_3344_5566_7788, 16), 0x7788);
        assert_eq!(sign_extend(0x80, 8), 0xffff_ffff_ffff_ff80);
    }
}
