//! Helper functions (by Linux helper number) and kfuncs (by name).
//!
//! Every engine calls the same Rust implementations through [`HelperFn`]:
//! a helper receives a [`HelperEnv`] (bounds-checked access to VM memory,
//! the maps, the trace log and the deterministic clock/PRNG) and the five
//! argument registers r1..r5 as raw `u64`s; it returns r0.
//!
//! Argument convention: helper arguments arrive exactly as the BPF program
//! left them — no sign- or zero-extension is applied (helpers are rvbpf's
//! own Rust code). Kfunc arguments are widened first when the object's BTF
//! declares the kfunc's prototype: every engine applies the RISC-V psABI
//! rule a C callee relies on (`ArgWidening`: an `int` or `unsigned int`
//! arrives sign-extended from bit 31). Without a prototype (assembler text)
//! kfunc arguments arrive raw too, and a kfunc declared `int f(int x)` must
//! read `args[0] as i32`.
//!
//! Built-in helpers (see [`builtin`]): map_lookup_elem (1),
//! map_update_elem (2), map_delete_elem (3), ktime_get_ns (5),
//! trace_printk (6), get_prandom_u32 (7), get_smp_processor_id (8),
//! trace_vprintk (177), and for `test_bpf`-style programs get_numa_node_id
//! (42, returns 0), jiffies64 (118), ktime_get_boot_ns (125) and
//! ktime_get_coarse_ns (160), which all read the same fake clock.
//! tail_call (12) is handled by each engine itself.

pub mod builtin;
pub mod printk;

use crate::maps::{MapId, Maps};
use crate::memory::{MemFault, Memory};
use std::collections::HashMap;
use std::sync::Arc;

/// Helper number of `bpf_tail_call` (implemented by the engines).
pub const HELPER_TAIL_CALL: i32 = 12;

/// A helper or kfunc implementation.
pub type HelperFn =
    Arc<dyn Fn(&mut HelperEnv<'_>, [u64; 5]) -> Result<u64, HelperError> + Send + Sync>;

/// Why a helper failed (the engine adds the pc).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HelperError {
    #[error(transparent)]
    Memory(#[from] MemFault),
    #[error("{0:#x} is not a map handle")]
    BadMapHandle(u64),
    /// A user-registered helper gave up; the message says why.
    #[error("{0}")]
    Failed(String),
}

/// Host-side state helpers may use; reset at the start of every top-level run
/// (except the trace log, which accumulates until cleared) so runs are
/// reproducible and every engine sees the same values.
#[derive(Clone, Debug)]
pub struct HostState {
    pub trace_log: String,
    /// PRNG seed applied at the start of every run.
    pub seed: u64,
    rng: u64,
    /// Fake clock in ns: starts at [`CLOCK_START_NS`] every run and advances by
    /// [`CLOCK_STEP_NS`] per `ktime_get_ns` call.
    clock_ns: u64,
}

/// Value of the fake clock at the start of a run.
pub const CLOCK_START_NS: u64 = 1_000_000_000;
/// Nanoseconds the fake clock advances per `ktime_get_ns` call.
pub const CLOCK_STEP_NS: u64 = 1_000;
/// Default PRNG seed.
pub const DEFAULT_SEED: u64 = 0x5eed_1234_abcd_0001;

impl Default for HostState {
    fn default() -> Self {
        HostState {
            trace_log: String::new(),
            seed: DEFAULT_SEED,
            rng: DEFAULT_SEED,
            clock_ns: CLOCK_START_NS,
        }
    }
}

impl HostState {
    /// Resets clock and PRNG for a new top-level run.
    pub fn begin_run(&mut self) {
        self.rng = self.seed | 1;
        self.clock_ns = CLOCK_START_NS;
    }
}

/// What a helper can reach while it runs.
pub struct HelperEnv<'a> {
    pub(crate) mem: &'a mut Memory,
    pub(crate) maps: &'a mut Maps,
    pub(crate) host: &'a mut HostState,
}

impl<'a> HelperEnv<'a> {
    pub(crate) fn new(mem: &'a mut Memory, maps: &'a mut Maps, host: &'a mut HostState) -> Self {
        HelperEnv { mem, maps, host }
    }

    /// Copies `len` bytes at VM address `addr`.
    pub fn read(&mut self, addr: u64, len: usize) -> Result<Vec<u8>, HelperError> {
        Ok(self.mem.slice(addr, len)?.to_vec())
    }
    /// Writes `bytes` at VM address `addr` (fails on read-only regions).
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), HelperError> {
        self.mem
            .slice_mut(addr, bytes.len())?
            .copy_from_slice(bytes);
        Ok(())
    }
    /// Loads a little-endian integer of 1, 2, 4 or 8 bytes.
    pub fn load(&mut self, addr: u64, size: usize) -> Result<u64, HelperError> {
        Ok(self.mem.load(addr, size)?)
    }
    /// Stores the low `size` bytes of `value`.
    pub fn store(&mut self, addr: u64, size: usize, value: u64) -> Result<(), HelperError> {
        Ok(self.mem.store(addr, size, value)?)
    }
    /// A NUL-terminated string of at most `max` bytes.
    pub fn c_string(&mut self, addr: u64, max: usize) -> Result<Vec<u8>, HelperError> {
        Ok(self.mem.c_string(addr, max)?)
    }
    /// Appends text to the trace log.
    pub fn trace(&mut self, text: &str) {
        self.host.trace_log.push_str(text);
    }
    /// Next value of the run's deterministic PRNG (xorshift64*).
    pub fn prandom_u32(&mut self) -> u32 {
        let mut x = self.host.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.host.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
    /// The fake clock (see [`CLOCK_START_NS`]): each call advances it.
    pub fn ktime_ns(&mut self) -> u64 {
        let now = self.host.clock_ns;
        self.host.clock_ns += CLOCK_STEP_NS;
        now
    }
    /// The map a handle (as loaded by `lddw rX, map`) designates.
    pub fn map_from_handle(&self, handle: u64) -> Result<MapId, HelperError> {
        self.maps
            .from_handle(handle)
            .ok_or(HelperError::BadMapHandle(handle))
    }
}

/// Helpers by number and kfuncs by name.
#[derive(Clone, Default)]
pub struct Registry {
    helpers: Vec<Option<HelperFn>>,
    kfunc_ids: HashMap<String, u32>,
    kfunc_names: Vec<String>,
    kfuncs: Vec<Option<HelperFn>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field(
                "helpers",
                &self
                    .helpers
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.is_some())
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>(),
            )
            .field("kfuncs", &self.kfunc_names)
            .finish()
    }
}

/// Largest helper number accepted by [`Registry::register_helper`].
pub const MAX_HELPER_ID: i32 = 0xffff;

impl Registry {
    /// A registry holding the built-in helpers.
    pub fn with_builtins() -> Registry {
        let mut r = Registry::default();
        builtin::register_all(&mut r);
        r
    }

    /// Registers (or replaces) helper `id`. Ids outside `0..=MAX_HELPER_ID` are ignored
    /// and reported as `false`.
    pub fn register_helper(&mut self, id: i32, f: HelperFn) -> bool {
        if !(0..=MAX_HELPER_ID).contains(&id) || id == HELPER_TAIL_CALL {
            return false;
        }
        let i = id as usize;
        if self.helpers.len() <= i {
            self.helpers.resize(i + 1, None);
        }
        self.helpers[i] = Some(f);
        true
    }

    /// Whether a program may call helper `id`.
    pub fn helper_known(&self, id: i32) -> bool {
        id == HELPER_TAIL_CALL || self.helper(id).is_some()
    }

    #[inline]
    pub fn helper(&self, id: i32) -> Option<&HelperFn> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.helpers.get(i))
            .and_then(|h| h.as_ref())
    }

    /// Registers (or replaces) kfunc `name`.
    pub fn register_kfunc(&mut self, name: &str, f: HelperFn) {
        let id = self.kfunc_id(name);
        self.kfuncs[id as usize] = Some(f);
    }

    /// Interned id of a kfunc name (allocated on first use, even if unregistered).
    pub fn kfunc_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.kfunc_ids.get(name) {
            return id;
        }
        let id = self.kfunc_names.len() as u32;
        self.kfunc_ids.insert(name.to_string(), id);
        self.kfunc_names.push(name.to_string());
        self.kfuncs.push(None);
        id
    }

    pub fn kfunc_known(&self, name: &str) -> bool {
        self.kfunc_ids
            .get(name)
            .is_some_and(|&id| self.kfuncs[id as usize].is_some())
    }

    #[inline]
    pub fn kfunc(&self, id: u32) -> Option<&HelperFn> {
        self.kfuncs.get(id as usize).and_then(|k| k.as_ref())
    }

    pub fn kfunc_name(&self, id: u32) -> &str {
        self.kfunc_names
            .get(id as usize)
            .map_or("?", |s| s.as_str())
    }
}
