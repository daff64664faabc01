//! Global variables: named slices of the global-data maps (`.data`, `.bss`,
//! `.rodata`, `.data.*`), read and written from the host.

use super::{Error, ObjectId, Vm};
use crate::maps::MapId;

/// A global's value: an integer for sizes 1, 2, 4 and 8 (little-endian,
/// zero-extended), raw bytes otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GlobalValue {
    Int(u64),
    Bytes(Vec<u8>),
}

impl GlobalValue {
    /// The integer value (`None` for byte arrays).
    pub fn as_int(&self) -> Option<u64> {
        match self {
            GlobalValue::Int(v) => Some(*v),
            GlobalValue::Bytes(_) => None,
        }
    }
}

impl From<u64> for GlobalValue {
    fn from(v: u64) -> Self {
        GlobalValue::Int(v)
    }
}
impl From<Vec<u8>> for GlobalValue {
    fn from(v: Vec<u8>) -> Self {
        GlobalValue::Bytes(v)
    }
}

/// One variable, as listed by [`Vm::globals`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalEntry {
    /// Section (map) holding it.
    pub section: String,
    pub name: String,
    pub value: GlobalValue,
}

/// Where a variable lives: map, byte offset, size.
struct Location {
    map: MapId,
    offset: usize,
    size: usize,
}

impl Vm {
    fn locate_global(&self, obj: ObjectId, var: &str) -> Result<Location, Error> {
        let o = self.obj(obj)?;
        for (def, &map) in o.object.maps.iter().zip(&o.maps) {
            let Some(g) = &def.global else { continue };
            if let Some(v) = g.vars.iter().find(|v| v.name == var) {
                return Ok(Location {
                    map,
                    offset: v.offset as usize,
                    size: v.size as usize,
                });
            }
        }
        Err(Error::NoSuchGlobal {
            object: o.object.name.clone(),
            name: var.to_string(),
        })
    }

    fn global_bytes(&self, loc: &Location) -> Result<&[u8], Error> {
        let region = self.machine.maps.get(loc.map)?.region;
        let data = &self.machine.mem.region(region).data;
        data.get(loc.offset..loc.offset + loc.size)
            .ok_or(Error::Map(crate::maps::MapError::NoSuchMap(loc.map.0)))
    }

    /// The current value of global `var` of object `obj`.
    pub fn global(&self, obj: ObjectId, var: &str) -> Result<GlobalValue, Error> {
        let loc = self.locate_global(obj, var)?;
        let b = self.global_bytes(&loc)?;
        Ok(match b.len() {
            1 | 2 | 4 | 8 => {
                let mut w = [0u8; 8];
                w[..b.len()].copy_from_slice(b);
                GlobalValue::Int(u64::from_le_bytes(w))
            }
            _ => GlobalValue::Bytes(b.to_vec()),
        })
    }

    /// Sets global `var`. Integers are truncated to the variable's size (it
    /// must be 1, 2, 4 or 8); byte values must match the size exactly.
    /// Works on `.rodata` too (the host may write what programs cannot).
    pub fn set_global(
        &mut self,
        obj: ObjectId,
        var: &str,
        value: impl Into<GlobalValue>,
    ) -> Result<(), Error> {
        let loc = self.locate_global(obj, var)?;
        let bytes = match value.into() {
            GlobalValue::Int(v) if matches!(loc.size, 1 | 2 | 4 | 8) => {
                v.to_le_bytes()[..loc.size].to_vec()
            }
            GlobalValue::Int(_) => {
                return Err(Error::GlobalSize {
                    object: self.obj(obj)?.object.name.clone(),
                    name: var.into(),
                    size: loc.size as u32,
                    got: 8,
                })
            }
            GlobalValue::Bytes(b) => b,
        };
        if bytes.len() != loc.size {
            return Err(Error::GlobalSize {
                object: self.obj(obj)?.object.name.clone(),
                name: var.into(),
                size: loc.size as u32,
                got: bytes.len(),
            });
        }
        let region = self.machine.maps.get(loc.map)?.region;
        self.machine.mem.region_mut(region).data[loc.offset..loc.offset + loc.size]
            .copy_from_slice(&bytes);
        Ok(())
    }

    /// Every global variable of an object, in section then declaration order.
    pub fn globals(&self, obj: ObjectId) -> Result<Vec<GlobalEntry>, Error> {
        let o = self.obj(obj)?;
        let mut out = Vec::new();
        for def in &o.object.maps {
            let Some(g) = &def.global else { continue };
            for v in &g.vars {
                out.push(GlobalEntry {
                    section: def.name.clone(),
                    name: v.name.clone(),
                    value: self.global(obj, &v.name)?,
                });
            }
        }
        Ok(out)
    }
}
