//! Hash-map bookkeeping: a host-side key → slot index over `max_entries`
//! preallocated value slots in VM memory. A slot's address never changes
//! while its key is present; deleted slots go onto a free list and are reused.

use super::{MapError, BPF_EXIST, BPF_NOEXIST};
use std::collections::HashMap;

#[derive(Clone, Debug)]
pub(crate) struct HashIndex {
    slots: HashMap<Box<[u8]>, u32>,
    free: Vec<u32>,
    /// Next never-used slot.
    next: u32,
    max_entries: u32,
}

/// Why an insertion failed (named by the caller, which knows the map's name).
#[derive(Debug)]
pub(crate) enum InsertError {
    Exists,
    Missing,
    Full,
}

impl InsertError {
    pub(crate) fn into_map_error(self, map: &str, max_entries: u32) -> MapError {
        let map = map.to_string();
        match self {
            InsertError::Exists => MapError::Exists { map },
            InsertError::Missing => MapError::NotFound { map },
            InsertError::Full => MapError::Full { map, max_entries },
        }
    }
}

impl HashIndex {
    pub(crate) fn new(max_entries: u32) -> HashIndex {
        HashIndex {
            slots: HashMap::new(),
            free: Vec::new(),
            next: 0,
            max_entries,
        }
    }

    /// Every present key, sorted (deterministic order for dumps).
    pub(crate) fn keys(&self) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = self.slots.keys().map(|k| k.to_vec()).collect();
        keys.sort();
        keys
    }

    pub(crate) fn slot(&self, key: &[u8]) -> Option<u32> {
        self.slots.get(key).copied()
    }

    /// The slot `key` should be written to, allocating one for a new key.
    pub(crate) fn insert(&mut self, key: &[u8], flags: u64) -> Result<u32, InsertError> {
        if let Some(&s) = self.slots.get(key) {
            return if flags == BPF_NOEXIST {
                Err(InsertError::Exists)
            } else {
                Ok(s)
            };
        }
        if flags == BPF_EXIST {
            return Err(InsertError::Missing);
        }
        let s = if let Some(s) = self.free.pop() {
            s
        } else if self.next < self.max_entries {
            self.next += 1;
            self.next - 1
        } else {
            return Err(InsertError::Full);
        };
        self.slots.insert(key.into(), s);
        Ok(s)
    }

    /// Removes `key`; false if it was absent.
    pub(crate) fn remove(&mut self, key: &[u8]) -> bool {
        match self.slots.remove(key) {
            Some(s) => {
                self.free.push(s);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_stable_and_reused() {
        let mut h = HashIndex::new(2);
        let a = h.insert(b"aaaa", 0).unwrap();
        let b = h.insert(b"bbbb", 0).unwrap();
        assert_ne!(a, b);
        assert_eq!(h.insert(b"aaaa", 0).unwrap(), a);
        assert!(matches!(h.insert(b"cccc", 0), Err(InsertError::Full)));
        assert!(h.remove(b"aaaa"));
        assert!(!h.remove(b"aaaa"));
        assert_eq!(h.insert(b"cccc", 0).unwrap(), a);
        assert!(matches!(
            h.insert(b"cccc", BPF_NOEXIST),
            Err(InsertError::Exists)
        ));
        assert!(matches!(
            h.insert(b"dddd", BPF_EXIST),
            Err(InsertError::Missing)
        ));
    }
}
