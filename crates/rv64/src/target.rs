//! The target-aware ("smart") encoding layer: which extensions a target has,
//! and the shortest legal encoding of an instruction on it.

use crate::encode::{compress, encode};
use crate::inst::Inst;
use crate::op::Extension;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// An RV64G (IMAFD-less: we use I, M, A) target with optional C, Zba, Zbb.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Target {
    /// Compressed instructions available.
    pub c: bool,
    /// Zba available.
    pub zba: bool,
    /// Zbb available.
    pub zbb: bool,
}

/// An encoded instruction: 2 bytes (RVC) or 4 bytes, little-endian.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Encoded {
    bytes: [u8; 4],
    len: u8,
}

impl Encoded {
    /// A 16-bit (compressed) encoding.
    #[inline]
    pub fn half(half: u16) -> Encoded {
        let [b0, b1] = half.to_le_bytes();
        Encoded {
            bytes: [b0, b1, 0, 0],
            len: 2,
        }
    }

    /// A 32-bit encoding.
    #[inline]
    pub fn word(word: u32) -> Encoded {
        Encoded {
            bytes: word.to_le_bytes(),
            len: 4,
        }
    }

    /// The little-endian bytes (2 or 4 of them).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// 2 or 4.
    #[allow(clippy::len_without_is_empty)] // never empty
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Is this the 16-bit form?
    #[inline]
    pub fn is_compressed(&self) -> bool {
        self.len == 2
    }

    /// The encoding as an integer (the halfword zero-extended for RVC).
    #[inline]
    pub fn value(&self) -> u32 {
        u32::from_le_bytes(self.bytes)
    }
}

/// Why an instruction cannot be encoded for a target.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[error("`{}` needs the {extension:?} extension, which target {target} lacks", inst.display_canonical())]
pub struct EncodeError {
    /// The instruction.
    pub inst: Inst,
    /// The missing extension.
    pub extension: Extension,
    /// The target asked for.
    pub target: Target,
}

/// A target name that is not one of the supported spellings.
#[derive(Clone, PartialEq, Eq, Debug, Error)]
#[error(
    "unknown target `{name}`: expected rv64g or rv64gc, optionally followed by _zba and/or _zbb"
)]
pub struct TargetParseError {
    /// The rejected name.
    pub name: String,
}

impl Target {
    /// `rv64g`: I, M, A only (F/D are not modelled).
    pub const RV64G: Target = Target {
        c: false,
        zba: false,
        zbb: false,
    };
    /// `rv64gc`.
    pub const RV64GC: Target = Target {
        c: true,
        zba: false,
        zbb: false,
    };
    /// `rv64gc_zba_zbb`: everything this crate models.
    pub const RV64GC_ZBA_ZBB: Target = Target {
        c: true,
        zba: true,
        zbb: true,
    };

    /// Parses `rv64g`, `rv64gc`, each optionally followed by `_zba`, `_zbb`
    /// or `_zba_zbb` (ISA-string order).
    pub fn parse(name: &str) -> Result<Target, TargetParseError> {
        let err = || TargetParseError {
            name: name.to_string(),
        };
        let rest = name.strip_prefix("rv64g").ok_or_else(err)?;
        let (c, rest) = match rest.strip_prefix('c') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (zba, rest) = match rest.strip_prefix("_zba") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (zbb, rest) = match rest.strip_prefix("_zbb") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if !rest.is_empty() {
            return Err(err());
        }
        Ok(Target { c, zba, zbb })
    }

    /// Does the target implement `ext`? (I, M and A always.)
    #[inline]
    pub const fn has(&self, ext: Extension) -> bool {
        match ext {
            Extension::I | Extension::M | Extension::A => true,
            Extension::C => self.c,
            Extension::Zba => self.zba,
            Extension::Zbb => self.zbb,
        }
    }

    /// The shortest encoding of `inst` on this target: compressed when the
    /// target has C and an RVC form exists for exactly these operands.
    #[inline]
    pub fn encode(&self, inst: &Inst) -> Result<Encoded, EncodeError> {
        let extension = inst.extension();
        if !self.has(extension) {
            return Err(EncodeError {
                inst: *inst,
                extension,
                target: *self,
            });
        }
        if self.c {
            if let Some(half) = compress(inst) {
                return Ok(Encoded::half(half));
            }
        }
        Ok(Encoded::word(encode(inst)))
    }

    /// Encodes a sequence, appending the bytes to `out`.
    pub fn encode_into(&self, insts: &[Inst], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for inst in insts {
            out.extend_from_slice(self.encode(inst)?.bytes());
        }
        Ok(())
    }

    /// Options for `llvm-mc`/`llvm-objdump` `--mattr` describing this target.
    pub fn llvm_mattr(&self) -> String {
        let mut s = String::from("+m,+a");
        for (on, name) in [(self.c, "+c"), (self.zba, "+zba"), (self.zbb, "+zbb")] {
            if on {
                s.push(',');
                s.push_str(name);
            }
        }
        s
    }
}

impl FromStr for Target {
    type Err = TargetParseError;
    fn from_str(s: &str) -> Result<Target, TargetParseError> {
        Target::parse(s)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.c { "rv64gc" } else { "rv64g" })?;
        if self.zba {
            f.write_str("_zba")?;
        }
        if self.zbb {
            f.write_str("_zbb")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imm::Imm12;
    use crate::op::AluOp;
    use crate::reg::Reg;

    #[test]
    fn parses_every_documented_name_and_prints_it_back() {
        for name in [
            "rv64g",
            "rv64gc",
            "rv64g_zba",
            "rv64g_zbb",
            "rv64g_zba_zbb",
            "rv64gc_zba",
            "rv64gc_zbb",
            "rv64gc_zba_zbb",
        ] {
            let t: Target = name.parse().unwrap();
            assert_eq!(t.to_string(), name);
        }
        assert_eq!(Target::parse("rv64gc_zba_zbb"), Ok(Target::RV64GC_ZBA_ZBB));
        for bad in [
            "",
            "rv32gc",
            "rv64gcc",
            "rv64g_zbb_zba",
            "rv64gc_zbc",
            "rv64gc_",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compresses_only_with_c() {
        // addi a0, a0, 1: c.addi is 0x0505, addi is 0x00150513 (llvm-mc).
        let inst = Inst::addi(Reg::A0, Reg::A0, Imm12::new(1).unwrap());
        assert_eq!(Target::RV64GC.encode(&inst).unwrap().bytes(), &[0x05, 0x05]);
        let full = Target::RV64G.encode(&inst).unwrap();
        assert_eq!(full.bytes(), &[0x13, 0x05, 0x15, 0x00]);
        assert_eq!(full.len(), 4);
    }

    #[test]
    fn rejects_missing_extensions() {
        let inst = Inst::alu(AluOp::Sh1add, Reg::A0, Reg::A1, Reg::A2);
        let err = Target::RV64GC.encode(&inst).unwrap_err();
        assert_eq!(err.extension, Extension::Zba);
        assert_eq!(
            err.to_string(),
            "`sh1add a0, a1, a2` needs the Zba extension, which target rv64gc lacks"
        );
        assert!(Target::parse("rv64g_zba").unwrap().encode(&inst).is_ok());
        let andn = Inst::alu(AluOp::Andn, Reg::A0, Reg::A1, Reg::A2);
        assert!(Target::parse("rv64gc_zba").unwrap().encode(&andn).is_err());
        assert!(Target::parse("rv64gc_zbb").unwrap().encode(&andn).is_ok());
    }
}
