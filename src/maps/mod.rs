//! BPF maps. Every map's values live in VM memory (one [`Region`] per map at
//! `MAPS_BASE + id * MAP_STRIDE`), so `bpf_map_lookup_elem` hands the program
//! a VM address it can dereference, and the addresses stay stable for the
//! map's lifetime:
//!
//! * array / global data: value `i` at `base + i * value_size`;
//! * hash: `max_entries` preallocated slots; a key → slot index lives on the
//!   host side, freed slots are reused (see [`hash`]);
//! * prog array: slots hold program ids, outside VM memory, in atomics
//!   (see [`prog_array`]) so another thread can update them while this one
//!   loads and runs programs.
//!
//! A map *handle* (what `lddw rX, map` yields) is the VM address of the map's
//! 32-byte descriptor in the read-only `MAP_DESC` region:
//! `{ max_entries u32, kind u32, key_size u32, value_size u32, values u64, 0 u64 }`
//! (`max_entries` first, like the header of the JIT's prog-array view).

pub mod hash;
pub mod prog_array;

use crate::memory::{
    Memory, Region, RegionId, RegionKind, MAPS_BASE, MAP_DESC_BASE, MAP_DESC_SIZE, MAP_STRIDE,
    MAX_MAPS, REGION_MAP_DESC,
};
use hash::HashIndex;
pub use prog_array::{ProgArrayHandle, ProgClass, ProgClasses};
use rvbpf_ebpf::object::{MapDef, MapKind};

/// A map of the VM (ids are global across objects).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MapId(pub u32);

/// `bpf_map_update_elem` flags.
pub const BPF_ANY: u64 = 0;
pub const BPF_NOEXIST: u64 = 1;
pub const BPF_EXIST: u64 = 2;

/// Why a map operation failed. [`MapError::errno`] gives the Linux error a
/// helper returns to BPF code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("map `{map}`: key not found")]
    NotFound { map: String },
    #[error("map `{map}`: key already exists")]
    Exists { map: String },
    #[error("map `{map}` is full ({max_entries} entries)")]
    Full { map: String, max_entries: u32 },
    #[error("map `{map}`: index {index} is out of range (max_entries {max_entries})")]
    IndexOutOfRange {
        map: String,
        index: u32,
        max_entries: u32,
    },
    #[error("map `{map}`: {what} size {got}, expected {expected}")]
    BadSize {
        map: String,
        what: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("map `{map}`: {op} is not supported on this map kind")]
    Unsupported { map: String, op: &'static str },
    #[error("map `{map}`: invalid flags {flags:#x}")]
    BadFlags { map: String, flags: u64 },
    #[error("map `{map}`: {bytes} bytes of values exceed the {limit}-byte limit")]
    TooLarge { map: String, bytes: u64, limit: u64 },
    #[error("map `{map}`: program {prog} cannot go into a prog array")]
    BadProgram { map: String, prog: u32 },
    #[error("map `{map}`: program {prog} is {class:?}, but the map holds {owner:?} programs")]
    Incompatible {
        map: String,
        prog: u32,
        owner: ProgClass,
        class: ProgClass,
    },
    #[error("map `{map}`: invalid definition: {why}")]
    BadDefinition { map: String, why: &'static str },
    #[error("no map with id {0}")]
    NoSuchMap(u32),
    /// Map ids index fixed value regions (`MAPS_BASE + id * MAP_STRIDE`),
    /// which must stay below the sandbox limit of masked JIT code.
    #[error("map `{map}`: a VM holds at most {limit} maps (globals included)")]
    TooManyMaps { map: String, limit: u32 },
}

impl MapError {
    /// The negative Linux errno a helper returns for this failure.
    pub fn errno(&self) -> i64 {
        match self {
            MapError::NotFound { .. } => -2,        // ENOENT
            MapError::Exists { .. } => -17,         // EEXIST
            MapError::Full { .. } => -7,            // E2BIG
            MapError::IndexOutOfRange { .. } => -7, // E2BIG
            MapError::Unsupported { .. } => -95,    // EOPNOTSUPP
            _ => -22,                               // EINVAL
        }
    }
}

/// Kind-specific state of a map.
#[derive(Clone, Debug)]
enum Storage {
    /// Array and global data: values indexed by a u32 key.
    Array,
    Hash(HashIndex),
    ProgArray(ProgArrayHandle),
}

/// One map: its definition plus where its values live.
#[derive(Clone, Debug)]
pub struct Map {
    pub name: String,
    pub kind: MapKind,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    /// Region holding the values (prog arrays have an empty one).
    pub region: RegionId,
    storage: Storage,
}

impl Map {
    /// VM address of the first value.
    pub fn values_base(&self, id: MapId) -> u64 {
        MAPS_BASE + id.0 as u64 * MAP_STRIDE
    }
}

/// All maps of a VM. A clone shares prog-array slots (handles) with the
/// original; everything else is copied (see `Vm::snapshot`).
#[derive(Clone, Debug, Default)]
pub struct Maps {
    maps: Vec<Map>,
    /// Class of every loaded program (shared with prog-array handles).
    pub(crate) prog_classes: ProgClasses,
}

fn check_size(map: &str, what: &'static str, got: usize, expected: u32) -> Result<(), MapError> {
    if got == expected as usize {
        Ok(())
    } else {
        Err(MapError::BadSize {
            map: map.to_string(),
            what,
            got,
            expected: expected as usize,
        })
    }
}

fn array_index(map: &str, key: &[u8]) -> Result<u32, MapError> {
    check_size(map, "key", key.len(), 4)?;
    Ok(u32::from_le_bytes([key[0], key[1], key[2], key[3]]))
}

impl Maps {
    pub fn get(&self, id: MapId) -> Result<&Map, MapError> {
        self.maps
            .get(id.0 as usize)
            .ok_or(MapError::NoSuchMap(id.0))
    }
    pub fn len(&self) -> usize {
        self.maps.len()
    }
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// The handle (descriptor address) of a map, as `lddw rX, map` loads it.
    pub fn handle(id: MapId) -> u64 {
        MAP_DESC_BASE + id.0 as u64 * MAP_DESC_SIZE
    }
    /// The map a handle designates, if it is one.
    pub fn from_handle(&self, handle: u64) -> Option<MapId> {
        let off = handle.checked_sub(MAP_DESC_BASE)?;
        if off & (MAP_DESC_SIZE - 1) != 0 || off / MAP_DESC_SIZE >= self.maps.len() as u64 {
            return None;
        }
        Some(MapId((off / MAP_DESC_SIZE) as u32))
    }

    /// Creates a map from its definition: allocates its value region (filled
    /// from `def.global` for global data) and its descriptor.
    pub fn create(&mut self, mem: &mut Memory, def: &MapDef) -> Result<MapId, MapError> {
        if self.maps.len() >= MAX_MAPS as usize {
            return Err(MapError::TooManyMaps {
                map: def.name.clone(),
                limit: MAX_MAPS,
            });
        }
        let id = MapId(self.maps.len() as u32);
        let mut value_size = def.value_size;
        let mut max_entries = def.max_entries;
        let mut writable = true;
        if let Some(g) = &def.global {
            value_size = value_size.max(g.initial.len() as u32);
            max_entries = 1;
            writable = !g.read_only;
        }
        let bad = |why| {
            Err(MapError::BadDefinition {
                map: def.name.clone(),
                why,
            })
        };
        if def.global.is_none() {
            if max_entries == 0 {
                return bad("max_entries is 0");
            }
            if def.key_size == 0 || value_size == 0 {
                return bad("key and value sizes must be non-zero");
            }
            if matches!(def.kind, MapKind::Array | MapKind::ProgArray) && def.key_size != 4 {
                return bad("array keys are 4 bytes");
            }
            if def.kind == MapKind::ProgArray && value_size != 4 {
                return bad("prog-array values are 4 bytes");
            }
        }
        // Prog-array slots live on the host (4 bytes each); bound them the same way.
        let bytes = value_size as u64 * max_entries as u64;
        if bytes > MAP_STRIDE {
            return Err(MapError::TooLarge {
                map: def.name.clone(),
                bytes,
                limit: MAP_STRIDE,
            });
        }
        let mut data = if def.kind == MapKind::ProgArray {
            Vec::new()
        } else {
            vec![0u8; bytes as usize]
        };
        if let Some(g) = &def.global {
            data[..g.initial.len()].copy_from_slice(&g.initial);
        }
        let region = mem.add_region(Region {
            kind: RegionKind::MapValues(id.0),
            base: MAPS_BASE + id.0 as u64 * MAP_STRIDE,
            floor: 0,
            writable,
            data,
        });
        let storage = match def.kind {
            MapKind::Array => Storage::Array,
            MapKind::Hash => Storage::Hash(HashIndex::new(max_entries)),
            MapKind::ProgArray => Storage::ProgArray(ProgArrayHandle::new(
                id,
                &def.name,
                max_entries,
                self.prog_classes.clone(),
            )),
        };
        // Descriptor (see the module doc): max_entries, kind, key_size, value_size, values base.
        let kind_num: u32 = match def.kind {
            MapKind::Hash => 1,
            MapKind::Array => 2,
            MapKind::ProgArray => 3,
        };
        let desc = &mut mem.region_mut(REGION_MAP_DESC).data;
        for w in [max_entries, kind_num, def.key_size, value_size] {
            desc.extend_from_slice(&w.to_le_bytes());
        }
        desc.extend_from_slice(&(MAPS_BASE + id.0 as u64 * MAP_STRIDE).to_le_bytes());
        desc.extend_from_slice(&0u64.to_le_bytes());
        self.maps.push(Map {
            name: def.name.clone(),
            kind: def.kind,
            key_size: def.key_size,
            value_size,
            max_entries,
            region,
            storage,
        });
        Ok(id)
    }

    /// VM address of the value stored under `key`, `None` if absent.
    /// Prog arrays have no addressable values (`Unsupported`).
    pub fn lookup_addr(&self, id: MapId, key: &[u8]) -> Result<Option<u64>, MapError> {
        let map = self.get(id)?;
        let base = map.values_base(id);
        match &map.storage {
            Storage::Array => {
                let i = array_index(&map.name, key)?;
                Ok((i < map.max_entries).then(|| base + i as u64 * map.value_size as u64))
            }
            Storage::Hash(h) => {
                check_size(&map.name, "key", key.len(), map.key_size)?;
                Ok(h.slot(key).map(|s| base + s as u64 * map.value_size as u64))
            }
            Storage::ProgArray(_) => Err(MapError::Unsupported {
                map: map.name.clone(),
                op: "lookup",
            }),
        }
    }

    /// Inserts or overwrites a value (`flags`: [`BPF_ANY`], [`BPF_NOEXIST`], [`BPF_EXIST`]).
    /// For a prog array the value is a program id (u32, little-endian).
    pub fn update(
        &mut self,
        mem: &mut Memory,
        id: MapId,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), MapError> {
        let map = self
            .maps
            .get_mut(id.0 as usize)
            .ok_or(MapError::NoSuchMap(id.0))?;
        if flags > BPF_EXIST {
            return Err(MapError::BadFlags {
                map: map.name.clone(),
                flags,
            });
        }
        let slot = match &mut map.storage {
            Storage::Array => {
                let i = array_index(&map.name, key)?;
                if i >= map.max_entries {
                    return Err(MapError::IndexOutOfRange {
                        map: map.name.clone(),
                        index: i,
                        max_entries: map.max_entries,
                    });
                }
                if flags == BPF_NOEXIST {
                    return Err(MapError::Exists {
                        map: map.name.clone(),
                    });
                }
                i
            }
            Storage::Hash(h) => {
                if key.len() != map.key_size as usize {
                    return Err(MapError::BadSize {
                        map: map.name.clone(),
                        what: "key",
                        got: key.len(),
                        expected: map.key_size as usize,
                    });
                }
                h.insert(key, flags)
                    .map_err(|e| e.into_map_error(&map.name, map.max_entries))?
            }
            Storage::ProgArray(slots) => {
                let i = array_index(&map.name, key)?;
                check_size(&map.name, "value", value.len(), 4)?;
                let prog = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
                return slots.set(i, prog).map_err(|e| e.with_name(&map.name));
            }
        };
        check_size(&map.name, "value", value.len(), map.value_size)?;
        let off = slot as usize * map.value_size as usize;
        // Host-side write: bypasses the read-only flag on purpose (like
        // libbpf setting .rodata before load).
        mem.region_mut(map.region).data[off..off + value.len()].copy_from_slice(value);
        Ok(())
    }

    /// Removes `key`. Arrays cannot delete (`Unsupported`, EINVAL in Linux);
    /// deleting a missing hash key or an empty prog-array slot is `NotFound`.
    pub fn delete(&mut self, id: MapId, key: &[u8]) -> Result<(), MapError> {
        let map = self
            .maps
            .get_mut(id.0 as usize)
            .ok_or(MapError::NoSuchMap(id.0))?;
        match &mut map.storage {
            Storage::Array => Err(MapError::Unsupported {
                map: map.name.clone(),
                op: "delete",
            }),
            Storage::Hash(h) => {
                check_size(&map.name, "key", key.len(), map.key_size)?;
                h.remove(key)
                    .then_some(())
                    .ok_or_else(|| MapError::NotFound {
                        map: map.name.clone(),
                    })
            }
            Storage::ProgArray(slots) => {
                let i = array_index(&map.name, key)?;
                slots.clear(i).map_err(|e| e.with_name(&map.name))
            }
        }
    }

    /// The program id in slot `index` of a prog array (`None`: empty slot,
    /// index out of range, or not a prog array).
    #[inline]
    pub fn prog_in_slot(&self, id: MapId, index: u32) -> Option<u32> {
        match &self.maps.get(id.0 as usize)?.storage {
            Storage::ProgArray(slots) => slots.get(index),
            _ => None,
        }
    }

    /// A thread-safe handle on a prog array's slots.
    pub fn prog_array(&self, id: MapId) -> Result<ProgArrayHandle, MapError> {
        let map = self.get(id)?;
        match &map.storage {
            Storage::ProgArray(h) => Ok(h.clone()),
            _ => Err(MapError::Unsupported {
                map: map.name.clone(),
                op: "prog-array access",
            }),
        }
    }

    /// Every key present: all indices of an array, the occupied slots of a
    /// prog array, the keys of a hash map (sorted). Keys are little-endian
    /// u32 for arrays.
    pub fn keys(&self, id: MapId) -> Result<Vec<Vec<u8>>, MapError> {
        let map = self.get(id)?;
        let index_keys = |range: &mut dyn Iterator<Item = u32>| {
            range.map(|i| i.to_le_bytes().to_vec()).collect()
        };
        Ok(match &map.storage {
            Storage::Array => index_keys(&mut (0..map.max_entries)),
            Storage::ProgArray(h) => {
                index_keys(&mut (0..map.max_entries).filter(|&i| h.get(i).is_some()))
            }
            Storage::Hash(h) => h.keys(),
        })
    }

    /// Copies the value stored under `key` out of VM memory.
    pub fn lookup_bytes(
        &self,
        mem: &Memory,
        id: MapId,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, MapError> {
        let map = self.get(id)?;
        if let Storage::ProgArray(slots) = &map.storage {
            let i = array_index(&map.name, key)?;
            return Ok(slots.get(i).map(|p| p.to_le_bytes().to_vec()));
        }
        Ok(self.lookup_addr(id, key)?.map(|addr| {
            let r = mem.region(map.region);
            let off = (addr - r.base) as usize;
            r.data[off..off + map.value_size as usize].to_vec()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(kind: MapKind, max_entries: u32) -> MapDef {
        MapDef {
            name: "m".into(),
            kind,
            key_size: 4,
            value_size: 8,
            max_entries,
            global: None,
            prog_init: vec![],
        }
    }

    #[test]
    fn the_241st_map_is_refused_so_values_stay_below_64_gib() {
        // (2^36 - 2^32) / 2^28 = 256 - 16 = 240 value regions fit.
        assert_eq!(MAX_MAPS, 240);
        let (mut mem, mut maps) = (Memory::new(), Maps::default());
        for _ in 0..240 {
            maps.create(&mut mem, &def(MapKind::Array, 1)).unwrap();
        }
        let last = maps.get(MapId(239)).unwrap().values_base(MapId(239));
        assert!(last + MAP_STRIDE <= 1 << 36);
        assert_eq!(
            maps.create(&mut mem, &def(MapKind::Array, 1)),
            Err(MapError::TooManyMaps {
                map: "m".into(),
                limit: 240
            })
        );
    }

    #[test]
    fn handles_point_at_descriptors_and_values_at_their_region() {
        let (mut mem, mut maps) = (Memory::new(), Maps::default());
        let a = maps.create(&mut mem, &def(MapKind::Array, 3)).unwrap();
        let h = maps.create(&mut mem, &def(MapKind::Hash, 5)).unwrap();
        assert_eq!(maps.from_handle(Maps::handle(h)), Some(h));
        assert_eq!(maps.from_handle(Maps::handle(h) + 4), None);
        // Descriptor of the hash map: max_entries 5, kind 1 (Linux HASH), sizes, base.
        let d = Maps::handle(h);
        assert_eq!(mem.load(d, 4), Ok(5));
        assert_eq!(mem.load(d + 4, 4), Ok(1));
        assert_eq!(mem.load(d + 8, 4), Ok(4));
        assert_eq!(mem.load(d + 12, 4), Ok(8));
        assert_eq!(mem.load(d + 16, 8), Ok(MAPS_BASE + MAP_STRIDE));
        // Array value 2 of map 0 sits at MAPS_BASE + 2 * 8.
        assert_eq!(
            maps.lookup_addr(a, &2u32.to_le_bytes()),
            Ok(Some(MAPS_BASE + 16))
        );
        assert!(mem.store(d, 4, 0).is_err(), "descriptors are read-only");
    }
}
