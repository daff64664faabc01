//! The test helpers of ubpf's conformance plugin, under ubpf's numbers
//! (`ubpf_plugin/test_helpers.h`; the suites' `helpers/*.data`,
//! `extensions/*.data` and bpf_conformance's `callx`/`call_unwind_fail` use
//! them):
//!
//! | nr | name         | semantics |
//! |----|--------------|-----------|
//! | 0  | gather_bytes | `(a&0xff)<<32 \| (b&0xff)<<24 \| (c&0xff)<<16 \| (d&0xff)<<8 \| (e&0xff)` |
//! | 1  | memfrob      | XOR `b` bytes at address `a` with 42; returns 0 |
//! | 2  | no_op        | returns 0 |
//! | 3  | sqrti        | `floor(sqrt(a))` (computed in `f64`, like the C `std::sqrt`) |
//! | 4  | strcmp_ext   | `strcmp(a, b)` of two NUL-terminated strings, sign-extended |
//! | 5  | unwind       | returns `a`; when that is 0 the whole program stops with r0 = 0 |
//!
//! `unwind` is ubpf's "unwind stack extension" (`ubpf_set_unwind_function_index(vm, 5)`):
//! the runtime has no notion of a helper ending the program, so the helper
//! fails with [`UNWIND_MARKER`] and the conformance executor turns exactly
//! that failure into a normal return of 0 (see [`is_unwind`]).

use crate::helpers::{HelperEnv, HelperError};
use crate::vm::{RunError, Vm};

/// Helper numbers (ubpf's).
pub const GATHER_BYTES: i32 = 0;
pub const MEMFROB: i32 = 1;
pub const NO_OP: i32 = 2;
pub const SQRTI: i32 = 3;
pub const STRCMP_EXT: i32 = 4;
pub const UNWIND: i32 = 5;

/// Failure message by which `unwind` asks the executor to stop the program.
pub const UNWIND_MARKER: &str = "unwind: program stopped by the unwind helper";

/// Longest string `strcmp_ext` reads.
const MAX_STRING: usize = 4096;

pub fn gather_bytes(a: [u64; 5]) -> u64 {
    ((a[0] & 0xff) << 32)
        | ((a[1] & 0xff) << 24)
        | ((a[2] & 0xff) << 16)
        | ((a[3] & 0xff) << 8)
        | (a[4] & 0xff)
}

pub fn memfrob(env: &mut HelperEnv<'_>, addr: u64, len: u64) -> Result<u64, HelperError> {
    let len = usize::try_from(len)
        .map_err(|_| HelperError::Failed(format!("memfrob: length {len} too large")))?;
    let mut bytes = env.read(addr, len)?;
    for b in &mut bytes {
        *b ^= 42;
    }
    env.write(addr, &bytes)?;
    Ok(0)
}

pub fn sqrti(a: u64) -> u64 {
    (a as f64).sqrt() as u64
}

pub fn strcmp_ext(env: &mut HelperEnv<'_>, a: u64, b: u64) -> Result<u64, HelperError> {
    let sa = env.c_string(a, MAX_STRING)?;
    let sb = env.c_string(b, MAX_STRING)?;
    let ord = sa.cmp(&sb) as i64;
    Ok(ord as u64)
}

/// Registers the six helpers on `vm` under ubpf's numbers.
pub fn register_ubpf_helpers(vm: &mut Vm) {
    vm.register_helper(GATHER_BYTES, |_, a| Ok(gather_bytes(a)));
    vm.register_helper(MEMFROB, |env, a| memfrob(env, a[0], a[1]));
    vm.register_helper(NO_OP, |_, _| Ok(0));
    vm.register_helper(SQRTI, |_, a| Ok(sqrti(a[0])));
    vm.register_helper(STRCMP_EXT, |env, a| strcmp_ext(env, a[0], a[1]));
    vm.register_helper(UNWIND, |_, a| {
        if a[0] == 0 {
            Err(HelperError::Failed(UNWIND_MARKER.to_string()))
        } else {
            Ok(a[0])
        }
    });
}

/// True if a run failed only because `unwind` stopped it (its result is 0).
pub fn is_unwind(e: &RunError) -> bool {
    matches!(e, RunError::Helper { source: HelperError::Failed(m), .. } if m == UNWIND_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_helpers() {
        // Only the low byte of each argument counts.
        assert_eq!(gather_bytes([0x101, 0x2, 0x3, 0x4, 0x5]), 0x01_0203_0405);
        assert_eq!(sqrti(0), 0);
        assert_eq!(sqrti(15), 3);
        assert_eq!(sqrti(16), 4);
        assert_eq!(sqrti(u64::MAX), 1 << 32);
    }
}
