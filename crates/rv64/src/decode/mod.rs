//! The one RV64 decoder, shared by the emulator, the disassembler and the
//! encoder's round-trip tests. Allocation-free; never panics on any input.
//!
//! Compressed encodings decode to the base [`Inst`] they expand to, so
//! consumers only ever handle base forms; the returned length (2 or 4) tells
//! them how far to advance the pc.

mod rv32;
mod rvc;

pub use rv32::decode32;
pub use rvc::decode16;

use crate::inst::Inst;
use thiserror::Error;

/// Why some bytes are not an instruction this crate models.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
pub enum DecodeError {
    /// Fewer bytes than the instruction length announced by its low bits.
    #[error("truncated instruction: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the encoding needs (2 or 4).
        needed: usize,
        /// Bytes that were available.
        available: usize,
    },
    /// A 32-bit word that is reserved, illegal, or from an unmodelled extension.
    #[error("illegal or unsupported instruction 0x{0:08x}")]
    Illegal32(u32),
    /// A 16-bit halfword that is reserved, illegal, or unmodelled (e.g. `c.fld`).
    #[error("illegal or unsupported compressed instruction 0x{0:04x}")]
    Illegal16(u16),
    /// A 48-bit or longer encoding (low bits `11111`), which RV64GC has none of.
    #[error("unsupported instruction length (first halfword 0x{0:04x})")]
    UnsupportedLength(u16),
}

/// Length in bytes (2 or 4) of the instruction whose first halfword is
/// `first`, or `None` for the (unsupported) 48-bit-and-longer encodings.
#[inline]
pub const fn insn_len(first: u16) -> Option<usize> {
    if first & 0b11 != 0b11 {
        Some(2)
    } else if first & 0b1_1100 != 0b1_1100 {
        Some(4)
    } else {
        None
    }
}

/// Decodes the instruction at the start of `bytes` (little-endian), returning
/// it with its length in bytes (2 for compressed, 4 otherwise).
#[inline]
pub fn decode(bytes: &[u8]) -> Result<(Inst, usize), DecodeError> {
    let (&b0, &b1) = match bytes {
        [b0, b1, ..] => (b0, b1),
        _ => {
            return Err(DecodeError::Truncated {
                needed: 2,
                available: bytes.len(),
            })
        }
    };
    let first = u16::from_le_bytes([b0, b1]);
    match insn_len(first) {
        Some(2) => decode16(first).map(|inst| (inst, 2)),
        Some(_) => match bytes {
            [b0, b1, b2, b3, ..] => {
                decode32(u32::from_le_bytes([*b0, *b1, *b2, *b3])).map(|inst| (inst, 4))
            }
            _ => Err(DecodeError::Truncated {
                needed: 4,
                available: bytes.len(),
            }),
        },
        None => Err(DecodeError::UnsupportedLength(first)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_the_low_bits() {
        assert_eq!(insn_len(0x0001), Some(2)); // c.nop
        assert_eq!(insn_len(0x0013), Some(4)); // addi (low half of nop)
        assert_eq!(insn_len(0x001f), None); // 48-bit prefix
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert_eq!(
            decode(&[]),
            Err(DecodeError::Truncated {
                needed: 2,
                available: 0
            })
        );
        assert_eq!(
            decode(&[0x13]),
            Err(DecodeError::Truncated {
                needed: 2,
                available: 1
            })
        );
        assert_eq!(
            decode(&[0x13, 0x00, 0x00]),
            Err(DecodeError::Truncated {
                needed: 4,
                available: 3
            })
        );
    }

    #[test]
    fn nop_both_sizes() {
        // 0x00000013 = addi x0, x0, 0; 0x0001 = c.nop (RISC-V spec tables).
        assert_eq!(decode(&[0x13, 0, 0, 0]), Ok((Inst::NOP, 4)));
        assert_eq!(decode(&[0x01, 0]), Ok((Inst::NOP, 2)));
    }

    #[test]
    fn all_zero_halfword_is_illegal() {
        // The spec reserves 0x0000 as a permanently illegal instruction.
        assert_eq!(decode(&[0, 0, 0, 0]), Err(DecodeError::Illegal16(0)));
    }
}
