//! Decoding of the raw `.BTF` blob: header, string section, type section.
//!
//! ```text
//! header (24 bytes, little endian):
//!   u16 magic = 0xeb9f | u8 version = 1 | u8 flags | u32 hdr_len
//!   u32 type_off | u32 type_len | u32 str_off | u32 str_len   (offsets from end of header)
//! each type:
//!   u32 name_off | u32 info (vlen 0..15, kind 24..28, kind_flag 31) | u32 size_or_type
//!   followed by kind-specific data (see `decode_kind`)
//! ```

use super::types::{BtfKind, BtfType, Enumerator, Linkage, Member, Param, VarSecInfo};
use super::BtfError;

pub(super) const BTF_MAGIC: u16 = 0xeb9f;
const HEADER_MIN_LEN: usize = 24;

/// The validated section layout from the header.
pub(super) struct Layout<'a> {
    pub types: &'a [u8],
    pub strings: &'a [u8],
}

/// Reads and checks the header; returns the type and string sections.
pub(super) fn parse_header(bytes: &[u8]) -> Result<Layout<'_>, BtfError> {
    if bytes.len() < HEADER_MIN_LEN {
        return Err(BtfError::Truncated {
            what: "header",
            offset: 0,
        });
    }
    let magic = u16::from_le_bytes([bytes[0], bytes[1]]);
    if magic != BTF_MAGIC {
        return Err(BtfError::BadMagic(magic));
    }
    if bytes[2] != 1 {
        return Err(BtfError::UnsupportedVersion(bytes[2]));
    }
    let hdr_len = read_u32(bytes, 4)? as usize;
    if hdr_len < HEADER_MIN_LEN || hdr_len > bytes.len() {
        return Err(BtfError::BadHeaderLength(hdr_len as u32));
    }
    let body = &bytes[hdr_len..];
    let section = |off_at: usize, what: &'static str| -> Result<&[u8], BtfError> {
        let off = read_u32(bytes, off_at)? as usize;
        let len = read_u32(bytes, off_at + 4)? as usize;
        off.checked_add(len)
            .and_then(|end| body.get(off..end))
            .ok_or(BtfError::SectionOutOfBounds {
                what,
                offset: off as u32,
                len: len as u32,
            })
    };
    Ok(Layout {
        types: section(8, "type section")?,
        strings: section(16, "string section")?,
    })
}

/// Resolves a name offset in the string section to a string.
pub(super) fn string_at(strings: &[u8], offset: u32) -> Result<String, BtfError> {
    let start = offset as usize;
    let tail = strings
        .get(start..)
        .ok_or(BtfError::BadStringOffset(offset))?;
    let len = tail
        .iter()
        .position(|&b| b == 0)
        .ok_or(BtfError::BadStringOffset(offset))?;
    std::str::from_utf8(&tail[..len])
        .map(str::to_owned)
        .map_err(|_| BtfError::BadStringOffset(offset))
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, BtfError> {
    at.checked_add(4)
        .and_then(|end| bytes.get(at..end))
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(BtfError::Truncated {
            what: "u32",
            offset: at as u32,
        })
}

/// A cursor over the type section that reports offsets in errors.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn u32(&mut self) -> Result<u32, BtfError> {
        let v = read_u32(self.bytes, self.pos).map_err(|_| BtfError::Truncated {
            what: "type record",
            offset: self.pos as u32,
        })?;
        self.pos += 4;
        Ok(v)
    }
}

/// Decodes every type of the type section; index 0 of the result is type id 1.
pub(super) fn parse_types(types: &[u8], strings: &[u8]) -> Result<Vec<BtfType>, BtfError> {
    let mut cur = Cursor {
        bytes: types,
        pos: 0,
    };
    let mut out = Vec::new();
    while cur.pos < types.len() {
        let id = out.len() as u32 + 1;
        let name_off = cur.u32()?;
        let info = cur.u32()?;
        let size_or_type = cur.u32()?;
        let name = string_at(strings, name_off).map_err(|e| BtfError::InType {
            id,
            source: Box::new(e),
        })?;
        let kind =
            decode_kind(&mut cur, info, size_or_type, strings).map_err(|e| BtfError::InType {
                id,
                source: Box::new(e),
            })?;
        out.push(BtfType { name, kind });
    }
    Ok(out)
}

fn decode_kind(
    cur: &mut Cursor<'_>,
    info: u32,
    size_or_type: u32,
    strings: &[u8],
) -> Result<BtfKind, BtfError> {
    let vlen = info & 0xffff;
    let kind = (info >> 24) & 0x1f;
    let kind_flag = info >> 31 == 1;
    let name = |off: u32| string_at(strings, off);
    Ok(match kind {
        1 => {
            let enc = cur.u32()?;
            BtfKind::Int {
                size: size_or_type,
                encoding: ((enc >> 24) & 0x0f) as u8,
                offset: ((enc >> 16) & 0xff) as u8,
                bits: (enc & 0xff) as u8,
            }
        }
        2 => BtfKind::Ptr {
            target: size_or_type,
        },
        3 => BtfKind::Array {
            elem: cur.u32()?,
            index: cur.u32()?,
            nelems: cur.u32()?,
        },
        4 | 5 => {
            let mut members = Vec::new();
            for _ in 0..vlen {
                let (name_off, ty, raw_off) = (cur.u32()?, cur.u32()?, cur.u32()?);
                // With kind_flag the offset packs (bitfield size << 24 | bit offset).
                let (bit_offset, bitfield_size) = if kind_flag {
                    (raw_off & 0x00ff_ffff, (raw_off >> 24) as u8)
                } else {
                    (raw_off, 0)
                };
                members.push(Member {
                    name: name(name_off)?,
                    ty,
                    bit_offset,
                    bitfield_size,
                });
            }
            if kind == 4 {
                BtfKind::Struct {
                    size: size_or_type,
                    members,
                }
            } else {
                BtfKind::Union {
                    size: size_or_type,
                    members,
                }
            }
        }
        6 => {
            let mut values = Vec::new();
            for _ in 0..vlen {
                let (name_off, val) = (cur.u32()?, cur.u32()?);
                let value = if kind_flag {
                    i64::from(val as i32)
                } else {
                    i64::from(val)
                };
                values.push(Enumerator {
                    name: name(name_off)?,
                    value,
                });
            }
            BtfKind::Enum {
                size: size_or_type,
                signed: kind_flag,
                values,
            }
        }
        7 => BtfKind::Fwd {
            is_union: kind_flag,
        },
        8 => BtfKind::Typedef {
            target: size_or_type,
        },
        9 => BtfKind::Volatile {
            target: size_or_type,
        },
        10 => BtfKind::Const {
            target: size_or_type,
        },
        11 => BtfKind::Restrict {
            target: size_or_type,
        },
        12 => BtfKind::Func {
            proto: size_or_type,
            linkage: Linkage::from_raw(vlen),
        },
        13 => {
            let mut params = Vec::new();
            for _ in 0..vlen {
                let (name_off, ty) = (cur.u32()?, cur.u32()?);
                params.push(Param {
                    name: name(name_off)?,
                    ty,
                });
            }
            BtfKind::FuncProto {
                ret: size_or_type,
                params,
            }
        }
        14 => BtfKind::Var {
            ty: size_or_type,
            linkage: Linkage::from_raw(cur.u32()?),
        },
        15 => {
            let mut vars = Vec::new();
            for _ in 0..vlen {
                vars.push(VarSecInfo {
                    ty: cur.u32()?,
                    offset: cur.u32()?,
                    size: cur.u32()?,
                });
            }
            BtfKind::DataSec {
                size: size_or_type,
                vars,
            }
        }
        16 => BtfKind::Float { size: size_or_type },
        17 => BtfKind::DeclTag {
            target: size_or_type,
            component_idx: cur.u32()? as i32,
        },
        18 => BtfKind::TypeTag {
            target: size_or_type,
        },
        19 => {
            let mut values = Vec::new();
            for _ in 0..vlen {
                let (name_off, lo, hi) = (cur.u32()?, cur.u32()?, cur.u32()?);
                let value = ((u64::from(hi) << 32) | u64::from(lo)) as i64;
                values.push(Enumerator {
                    name: name(name_off)?,
                    value,
                });
            }
            BtfKind::Enum64 {
                size: size_or_type,
                signed: kind_flag,
                values,
            }
        }
        other => return Err(BtfError::UnknownKind(other)),
    })
}
