//! Measurement harness of `examples/measure_tcc.rs` (also driven by
//! `tests/measure_tcc.rs`): JIT images run in the rv64 emulator with exact
//! counters, using the JIT tests' emulator world (`tests/common`).
#![allow(dead_code)]

#[path = "../../tests/common/mod.rs"]
pub mod common;

pub mod corpus;
pub mod micro;
pub mod run;
pub mod sections;
pub mod selftests;
