//! `bpf_trace_printk` formatting: a C-printf subset like the kernel's.
//!
//! Conversions: `%d %i %u %x %X %o %c %s %p %%`, with the length modifiers
//! `h hh l ll z`, the flags `- 0 + space #` and a decimal width. Without a
//! length modifier integers are 32-bit (`%d` of 0xffff_ffff prints -1);
//! `l`/`ll`/`z` make them 64-bit (BPF targets are LP64). `%p` prints
//! `0x` + hex. `%s` reads a NUL-terminated string from VM memory.

use super::HelperError;

/// Why a format could not be applied.
#[derive(Debug)]
pub enum FormatError {
    /// A `%s` argument is not a valid VM address.
    Memory(HelperError),
    /// Unknown conversion or more conversions than arguments.
    BadFormat,
}

#[derive(Default)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alt: bool,
    width: usize,
}

fn pad(out: &mut String, spec: &Spec, body: &str, numeric: bool) {
    let fill = spec.width.saturating_sub(body.chars().count());
    if spec.left {
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero && numeric {
        // Zeros go after a sign or 0x prefix.
        let split = if body.starts_with("0x") || body.starts_with("0X") {
            2
        } else if body.starts_with(['-', '+', ' ']) {
            1
        } else {
            0
        };
        out.push_str(&body[..split]);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(&body[split..]);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(body);
    }
}

/// Formats `fmt` with `args`; `read_str` fetches `%s` strings from VM memory.
pub fn format(
    fmt: &[u8],
    args: &[u64],
    read_str: &mut dyn FnMut(u64) -> Result<Vec<u8>, HelperError>,
) -> Result<String, FormatError> {
    let mut out = String::new();
    let mut next = args.iter().copied();
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c as char);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = fmt.get(i) {
            match f {
                b'-' => spec.left = true,
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.alt = true,
                _ => break,
            }
            i += 1;
        }
        while let Some(d) = fmt.get(i).filter(|d| d.is_ascii_digit()) {
            spec.width = spec.width * 10 + (d - b'0') as usize;
            i += 1;
        }
        // Length: bits of the integer argument.
        let mut bits = 32;
        loop {
            match fmt.get(i) {
                Some(b'l') | Some(b'z') => bits = 64,
                Some(b'h') => bits = if bits == 16 { 8 } else { 16 }, // h → 16, hh → 8
                _ => break,
            }
            i += 1;
        }
        let conv = *fmt.get(i).ok_or(FormatError::BadFormat)?;
        i += 1;
        if conv == b'%' {
            out.push('%');
            continue;
        }
        let arg = next.next().ok_or(FormatError::BadFormat)?;
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let unsigned = arg & mask;
        let signed = if bits == 64 {
            arg as i64
        } else {
            ((arg << (64 - bits)) as i64) >> (64 - bits)
        };
        let body = match conv {
            b'd' | b'i' => {
                let sign = if signed < 0 {
                    ""
                } else if spec.plus {
                    "+"
                } else if spec.space {
                    " "
                } else {
                    ""
                };
                format!("{sign}{signed}")
            }
            b'u' => unsigned.to_string(),
            b'x' => format!("{}{unsigned:x}", if spec.alt { "0x" } else { "" }),
            b'X' => format!("{}{unsigned:X}", if spec.alt { "0X" } else { "" }),
            b'o' => format!("{}{unsigned:o}", if spec.alt { "0" } else { "" }),
            b'p' => format!("0x{arg:x}"),
            b'c' => ((arg & 0xff) as u8 as char).to_string(),
            b's' => {
                let s = read_str(arg).map_err(FormatError::Memory)?;
                let body = String::from_utf8_lossy(&s).into_owned();
                pad(&mut out, &spec, &body, false);
                continue;
            }
            _ => return Err(FormatError::BadFormat),
        };
        pad(&mut out, &spec, &body, conv != b'c');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: &str, args: &[u64]) -> String {
        format(f.as_bytes(), args, &mut |_| Ok(b"str".to_vec())).unwrap()
    }

    #[test]
    fn integer_widths_follow_length_modifiers() {
        // 0xffff_ffff as a 32-bit int is -1; as %u it is 4294967295.
        assert_eq!(fmt("%d %u", &[0xffff_ffff, 0xffff_ffff]), "-1 4294967295");
        // Upper bits are ignored without `l`.
        assert_eq!(fmt("%x", &[0x1_0000_00ab]), "ab");
        assert_eq!(
            fmt("%ld %lu", &[u64::MAX, u64::MAX]),
            "-1 18446744073709551615"
        );
        assert_eq!(fmt("%llx", &[0xdead_beef_cafe]), "deadbeefcafe");
        assert_eq!(fmt("%hd", &[0xffff]), "-1");
        assert_eq!(fmt("%hhu", &[0x1ff]), "255");
    }

    #[test]
    fn flags_width_strings_and_percent() {
        assert_eq!(fmt("[%5d|%-4u|%04x]", &[42, 7, 0xb]), "[   42|7   |000b]");
        assert_eq!(fmt("%05d", &[-42i64 as u64]), "-0042");
        assert_eq!(fmt("%s=%c%%", &[0x1000, b'z' as u64]), "str=z%");
        assert_eq!(fmt("%#x %p", &[255, 0x10]), "0xff 0x10");
    }

    #[test]
    fn bad_formats_are_rejected() {
        assert!(matches!(
            format(b"%d %d", &[1], &mut |_| Ok(vec![])),
            Err(FormatError::BadFormat)
        ));
        assert!(matches!(
            format(b"%q", &[1], &mut |_| Ok(vec![])),
            Err(FormatError::BadFormat)
        ));
    }
}
