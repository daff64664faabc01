//! Line-level lexing for the assembler: comments, labels, operand splitting,
//! registers, numbers with their range rules, and `[%rN+off]` memory operands.
//!
//! Range rules follow the bpf_conformance assembler (the reference for this
//! syntax): a 32-bit immediate written in hex may be any value up to
//! `0xffffffff` (reinterpreted as `i32`), in decimal it must fit `i32`; a
//! 16-bit offset likewise up to `0xffff` in hex, `i16` in decimal. Out-of-range
//! values are errors, never silently truncated.

use super::AsmErrorKind;
use crate::inst::Reg;

/// One source line split into its parts (comments removed).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// `name` of a leading `name:`.
    pub label: Option<&'a str>,
    /// First word of the instruction, if any.
    pub mnemonic: Option<&'a str>,
    /// Comma-separated operands, trimmed (may contain inner spaces, e.g. `local f`).
    pub operands: Vec<&'a str>,
}

/// Removes a `#` or `//` comment.
pub(crate) fn strip_comment(line: &str) -> &str {
    let cut = [line.find('#'), line.find("//")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(line.len());
    &line[..cut]
}

/// True for names usable as labels: `[A-Za-z_.][A-Za-z0-9_.]*`.
pub(crate) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Splits one line. A label may stand alone or precede an instruction.
pub(crate) fn split_line(raw: &str) -> Result<Line<'_>, AsmErrorKind> {
    let mut rest = strip_comment(raw).trim();
    let mut label = None;
    if let Some(first) = rest.split_whitespace().next() {
        if let Some(name) = first.strip_suffix(':') {
            if !is_label_name(name) {
                return Err(AsmErrorKind::BadLabel(name.to_string()));
            }
            label = Some(name);
            rest = rest[first.len()..].trim_start();
        }
    }
    if rest.is_empty() {
        return Ok(Line {
            label,
            mnemonic: None,
            operands: vec![],
        });
    }
    let (mnemonic, tail) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let operands = if tail.is_empty() {
        vec![]
    } else {
        let ops: Vec<&str> = tail.split(',').map(str::trim).collect();
        if ops.iter().any(|o| o.is_empty()) {
            return Err(AsmErrorKind::EmptyOperand);
        }
        ops
    };
    Ok(Line {
        label,
        mnemonic: Some(mnemonic),
        operands,
    })
}

/// Parses `%rN` (or `rN`), N in 0..=10.
pub(crate) fn parse_reg(s: &str) -> Result<Reg, AsmErrorKind> {
    let bad = || AsmErrorKind::BadRegister(s.to_string());
    let digits = s
        .strip_prefix('%')
        .unwrap_or(s)
        .strip_prefix('r')
        .ok_or_else(bad)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 2 {
        return Err(bad());
    }
    digits.parse::<u8>().ok().and_then(Reg::new).ok_or_else(bad)
}

/// True if the operand looks like a register (starts with `%`).
pub(crate) fn is_reg(s: &str) -> bool {
    s.starts_with('%')
        || (s.starts_with('r') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit()))
}

/// A parsed integer literal: its value and whether it was written in hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Literal {
    pub value: i128,
    pub hex: bool,
}

/// Parses `[+-]?(0x[0-9a-f]+|[0-9]+)`.
pub(crate) fn parse_literal(s: &str) -> Result<Literal, AsmErrorKind> {
    let bad = || AsmErrorKind::BadNumber(s.to_string());
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (digits, radix, hex) = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) => (h, 16, true),
        None => (body, 10, false),
    };
    // `from_str_radix` would accept a second sign; only plain digits are valid here.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) || digits.len() > 30 {
        return Err(bad());
    }
    let magnitude = i128::from_str_radix(digits, radix).map_err(|_| bad())?;
    Ok(Literal {
        value: if neg { -magnitude } else { magnitude },
        hex,
    })
}

fn out_of_range(s: &str, bits: u8) -> AsmErrorKind {
    AsmErrorKind::OutOfRange {
        text: s.to_string(),
        bits,
    }
}

/// A 32-bit immediate: hex up to `0xffffffff` (bit pattern), decimal in `i32`.
pub(crate) fn parse_imm32(s: &str) -> Result<i32, AsmErrorKind> {
    let lit = parse_literal(s)?;
    if lit.hex && (0..=u32::MAX as i128).contains(&lit.value) {
        return Ok(lit.value as u32 as i32);
    }
    i32::try_from(lit.value).map_err(|_| out_of_range(s, 32))
}

/// A 16-bit offset: hex up to `0xffff` (bit pattern), decimal in `i16`.
pub(crate) fn parse_off16(s: &str) -> Result<i16, AsmErrorKind> {
    let lit = parse_literal(s)?;
    if lit.hex && (0..=u16::MAX as i128).contains(&lit.value) {
        return Ok(lit.value as u16 as i16);
    }
    i16::try_from(lit.value).map_err(|_| out_of_range(s, 16))
}

/// A 64-bit immediate (`lddw`): anything in `i64::MIN..=u64::MAX`, as bits.
pub(crate) fn parse_imm64(s: &str) -> Result<u64, AsmErrorKind> {
    let lit = parse_literal(s)?;
    if (i64::MIN as i128..=u64::MAX as i128).contains(&lit.value) {
        Ok(lit.value as u64)
    } else {
        Err(out_of_range(s, 64))
    }
}

/// Parses `[%rN]`, `[%rN+off]` or `[%rN-off]` (spaces allowed inside).
pub(crate) fn parse_mem(s: &str) -> Result<(Reg, i16), AsmErrorKind> {
    let bad = || AsmErrorKind::BadMemoryOperand(s.to_string());
    let inner: String = s
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(bad)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match inner.find(['+', '-']) {
        None => Ok((parse_reg(&inner)?, 0)),
        Some(i) => {
            let off = &inner[i..];
            Ok((parse_reg(&inner[..i])?, parse_off16(off)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_into_label_mnemonic_operands() {
        let l = split_line("  lbl: jeq %r1, 0x5, +2 # why").unwrap();
        assert_eq!(l.label, Some("lbl"));
        assert_eq!(l.mnemonic, Some("jeq"));
        assert_eq!(l.operands, ["%r1", "0x5", "+2"]);
        let l = split_line("call local f // c-style").unwrap();
        assert_eq!(l.operands, ["local f"]);
        assert_eq!(split_line("# only a comment").unwrap().mnemonic, None);
        assert_eq!(split_line("mov %r0,, 1"), Err(AsmErrorKind::EmptyOperand));
        assert!(matches!(
            split_line("9x: exit"),
            Err(AsmErrorKind::BadLabel(_))
        ));
    }

    #[test]
    fn registers() {
        assert_eq!(parse_reg("%r10"), Ok(Reg::R10));
        assert_eq!(parse_reg("r3"), Ok(Reg::R3));
        for bad in ["%r11", "%r50", "%x1", "%r", "%r-1", "%r010"] {
            assert!(parse_reg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn immediate_ranges_follow_the_reference_assembler() {
        assert_eq!(parse_imm32("0xffffffff"), Ok(-1));
        assert_eq!(parse_imm32("-2147483648"), Ok(i32::MIN));
        assert_eq!(parse_imm32("2147483647"), Ok(i32::MAX));
        assert!(parse_imm32("2147483648").is_err());
        assert!(parse_imm32("0x100000000").is_err());
        assert!(parse_imm32("1x").is_err());
        assert!(parse_imm32("--1").is_err());
        assert_eq!(parse_off16("0xffff"), Ok(-1));
        assert_eq!(parse_off16("-32768"), Ok(i16::MIN));
        assert!(parse_off16("0x10000").is_err());
        assert!(parse_off16("32768").is_err());
        assert_eq!(parse_imm64("-1"), Ok(u64::MAX));
        assert_eq!(parse_imm64("0xffffffffffffffff"), Ok(u64::MAX));
        assert!(parse_imm64("0x10000000000000000").is_err());
    }

    #[test]
    fn memory_operands() {
        assert_eq!(parse_mem("[%r1]"), Ok((Reg::R1, 0)));
        assert_eq!(parse_mem("[%r10-8]"), Ok((Reg::R10, -8)));
        assert_eq!(parse_mem("[ %r2 + 0x7f ]"), Ok((Reg::R2, 0x7f)));
        assert!(parse_mem("[%r1+0x10000]").is_err());
        assert!(parse_mem("%r1").is_err());
        assert!(parse_mem("[%r1+]").is_err());
    }
}
