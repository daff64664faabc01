//! RISC-V 64 target layer. This crate must never depend on BPF concepts.
#![forbid(unsafe_code)]
