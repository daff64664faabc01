//! Support for running JIT images natively under `qemu-riscv64` through
//! the C harness in `native/` (see `native/README.md`).
#![allow(dead_code)]

pub mod batch;
pub mod corpus;
pub mod random;
pub mod suite;
pub mod tools;
