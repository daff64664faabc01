//! Test-only glue around [`rvbpf_rv64::llvm_oracle`]: where the committed
//! tables live and whether to rewrite them.

pub use rvbpf_rv64::llvm_oracle::*;
use std::path::PathBuf;

/// Should tests rewrite the committed expectations instead of comparing?
pub fn bless() -> bool {
    std::env::var_os("RV64_BLESS").is_some()
}

/// Absolute path of a file under the crate directory.
pub fn crate_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}
