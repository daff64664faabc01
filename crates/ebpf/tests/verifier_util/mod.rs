//! Shared helpers for the verifier tests: build objects from assembler text
//! or raw slots, verify them in a small fixed environment.
#![allow(dead_code)] // each test file uses a different subset

use rvbpf_ebpf::asm::assemble_object;
use rvbpf_ebpf::insn::Insn;
use rvbpf_ebpf::object::{MapDef, MapKind, Object, Program};
use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv, VerifyError, VerifyErrorKind};

/// Helpers the test runtime "knows": 1 (map_lookup_elem), 6 (trace_printk), 12 (tail_call).
pub fn helper_known(n: i32) -> bool {
    matches!(n, 1 | 6 | 12)
}

/// The only registered kfunc.
pub fn kfunc_known(name: &str) -> bool {
    name == "bpf_known_kfunc"
}

/// An object holding one program assembled from `text`.
pub fn object(text: &str) -> Object {
    assemble_object("test.o", text).unwrap_or_else(|e| panic!("test program: {e}"))
}

/// An object holding one program made of raw slots.
pub fn raw_object(insns: Vec<Insn>) -> Object {
    Object {
        name: "raw.o".into(),
        programs: vec![Program {
            name: "main".into(),
            insns,
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub fn map(name: &str, kind: MapKind) -> MapDef {
    MapDef {
        name: name.into(),
        kind,
        key_size: 4,
        value_size: 16,
        max_entries: 4,
        global: None,
        prog_init: Vec::new(),
    }
}

/// Verifies program 0 with the test environment and `entry_args` arguments.
pub fn verify_obj(obj: &Object, entry_args: u8) -> Result<VerifiedProgram, VerifyError> {
    let env = VerifyEnv {
        helper_known: &helper_known,
        kfunc_known: &kfunc_known,
        entry_args,
    };
    verify(obj, 0, &env)
}

/// Assembles and verifies `text` with r1 (ctx) initialised.
pub fn check(text: &str) -> Result<VerifiedProgram, VerifyError> {
    verify_obj(&object(text), 1)
}

/// Asserts acceptance, showing the error otherwise.
pub fn accept(text: &str) -> VerifiedProgram {
    check(text).unwrap_or_else(|e| panic!("rejected: {e}"))
}

/// Asserts rejection and returns (pc, kind).
pub fn reject(text: &str) -> (Option<usize>, VerifyErrorKind) {
    match check(text) {
        Ok(_) => panic!("accepted, expected a rejection:\n{text}"),
        Err(e) => (e.pc, e.kind),
    }
}
