//! The built-in helpers, numbered as in Linux (`enum bpf_func_id`).

use super::{printk, HelperEnv, HelperError, HelperFn, Registry};
use crate::maps::{MapError, MapId};
use rvbpf_ebpf::object::MapKind;
use std::sync::Arc;

pub const MAP_LOOKUP_ELEM: i32 = 1;
pub const MAP_UPDATE_ELEM: i32 = 2;
pub const MAP_DELETE_ELEM: i32 = 3;
pub const KTIME_GET_NS: i32 = 5;
pub const TRACE_PRINTK: i32 = 6;
pub const GET_PRANDOM_U32: i32 = 7;
pub const GET_SMP_PROCESSOR_ID: i32 = 8;
pub const GET_NUMA_NODE_ID: i32 = 42;
pub const JIFFIES64: i32 = 118;
pub const KTIME_GET_BOOT_NS: i32 = 125;
pub const KTIME_GET_COARSE_NS: i32 = 160;
pub const TRACE_VPRINTK: i32 = 177;

/// Nanoseconds per jiffy of the fake clock (HZ = 250).
pub const NS_PER_JIFFY: u64 = 4_000_000;

/// Longest format string / `%s` argument read from VM memory.
const MAX_STR: usize = 1024;

fn f(func: fn(&mut HelperEnv<'_>, [u64; 5]) -> Result<u64, HelperError>) -> HelperFn {
    Arc::new(func)
}

pub(crate) fn register_all(r: &mut Registry) {
    r.register_helper(MAP_LOOKUP_ELEM, f(map_lookup_elem));
    r.register_helper(MAP_UPDATE_ELEM, f(map_update_elem));
    r.register_helper(MAP_DELETE_ELEM, f(map_delete_elem));
    r.register_helper(KTIME_GET_NS, f(|env, _| Ok(env.ktime_ns())));
    r.register_helper(TRACE_PRINTK, f(trace_printk));
    r.register_helper(GET_PRANDOM_U32, f(|env, _| Ok(env.prandom_u32() as u64)));
    r.register_helper(GET_SMP_PROCESSOR_ID, f(|_, _| Ok(0)));
    r.register_helper(TRACE_VPRINTK, f(trace_vprintk));
    // The other clocks read the same fake clock (each call advances it).
    r.register_helper(KTIME_GET_BOOT_NS, f(|env, _| Ok(env.ktime_ns())));
    r.register_helper(KTIME_GET_COARSE_NS, f(|env, _| Ok(env.ktime_ns())));
    r.register_helper(JIFFIES64, f(|env, _| Ok(env.ktime_ns() / NS_PER_JIFFY)));
    r.register_helper(GET_NUMA_NODE_ID, f(|_, _| Ok(0)));
}

fn errno(e: MapError) -> u64 {
    e.errno() as u64
}

/// `void *bpf_map_lookup_elem(map, const void *key)`: VM address of the value or 0.
fn map_lookup_elem(env: &mut HelperEnv<'_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let id = env.map_from_handle(a[0])?;
    let key_size = env
        .maps
        .get(id)
        .map_err(|_| HelperError::BadMapHandle(a[0]))?
        .key_size as usize;
    let key = env.read(a[1], key_size)?;
    Ok(env.maps.lookup_addr(id, &key).ok().flatten().unwrap_or(0))
}

/// Linux only lets BPF code use a prog array through `bpf_tail_call`.
const EOPNOTSUPP: u64 = -95i64 as u64;

/// Key size, value size and kind of the map behind a handle.
fn map_shape(
    env: &HelperEnv<'_>,
    handle: u64,
) -> Result<(MapId, usize, usize, MapKind), HelperError> {
    let id = env.map_from_handle(handle)?;
    let m = env
        .maps
        .get(id)
        .map_err(|_| HelperError::BadMapHandle(handle))?;
    Ok((id, m.key_size as usize, m.value_size as usize, m.kind))
}

/// `long bpf_map_update_elem(map, const void *key, const void *value, u64 flags)`.
/// Prog arrays are not writable from BPF code (-EOPNOTSUPP).
fn map_update_elem(env: &mut HelperEnv<'_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (id, ks, vs, kind) = map_shape(env, a[0])?;
    if kind == MapKind::ProgArray {
        return Ok(EOPNOTSUPP);
    }
    let key = env.read(a[1], ks)?;
    let value = env.read(a[2], vs)?;
    Ok(match env.maps.update(env.mem, id, &key, &value, a[3]) {
        Ok(()) => 0,
        Err(e) => errno(e),
    })
}

/// `long bpf_map_delete_elem(map, const void *key)`; not on prog arrays (-EOPNOTSUPP).
fn map_delete_elem(env: &mut HelperEnv<'_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (id, ks, _, kind) = map_shape(env, a[0])?;
    if kind == MapKind::ProgArray {
        return Ok(EOPNOTSUPP);
    }
    let key = env.read(a[1], ks)?;
    Ok(match env.maps.delete(id, &key) {
        Ok(()) => 0,
        Err(e) => errno(e),
    })
}

/// Reads a format string of `size` bytes (it must contain a NUL, like Linux checks).
fn read_format(
    env: &mut HelperEnv<'_>,
    addr: u64,
    size: u64,
) -> Result<Option<Vec<u8>>, HelperError> {
    if size == 0 || size as usize > MAX_STR {
        return Ok(None);
    }
    let bytes = env.read(addr, size as usize)?;
    Ok(bytes
        .iter()
        .position(|&b| b == 0)
        .map(|end| bytes[..end].to_vec()))
}

fn emit(env: &mut HelperEnv<'_>, fmt: &[u8], args: &[u64]) -> Result<u64, HelperError> {
    match printk::format(fmt, args, &mut |addr| env.c_string(addr, MAX_STR)) {
        Ok(mut text) => {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            let n = text.len() as u64;
            env.trace(&text);
            Ok(n)
        }
        Err(printk::FormatError::Memory(e)) => Err(e),
        Err(_) => Ok(-22i64 as u64), // EINVAL, like Linux for a bad format
    }
}

/// `long bpf_trace_printk(const char *fmt, u32 fmt_size, ...)`: up to three
/// arguments; appends one line to the trace log and returns its length.
fn trace_printk(env: &mut HelperEnv<'_>, a: [u64; 5]) -> Result<u64, HelperError> {
    match read_format(env, a[0], a[1])? {
        Some(fmt) => emit(env, &fmt, &a[2..5]),
        None => Ok(-22i64 as u64),
    }
}

/// `long bpf_trace_vprintk(const char *fmt, u32 fmt_size, const void *data, u32 data_len)`:
/// arguments are an array of u64 in VM memory.
fn trace_vprintk(env: &mut HelperEnv<'_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let Some(fmt) = read_format(env, a[0], a[1])? else {
        return Ok(-22i64 as u64);
    };
    if a[3] & 7 != 0 || a[3] > 8 * 12 {
        return Ok(-22i64 as u64);
    }
    let data = if a[3] == 0 {
        Vec::new()
    } else {
        env.read(a[2], a[3] as usize)?
    };
    let args: Vec<u64> = data
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    emit(env, &fmt, &args)
}
