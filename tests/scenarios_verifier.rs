//! Catalogue 4.7 / section 3: load-time rules about tail calls and bpf2bpf
//! calls that apply to a userspace runtime. Each rejected object has a twin
//! differing only in the checked property, which must load and run, so a
//! rejection for an unrelated reason is caught.

mod scenario_support;

use rvbpf::ebpf::verifier::{VerifyError, VerifyErrorKind};
use rvbpf::vm::RejectReason;
use scenario_support::{engines, fixture, Scenario, PKT_V4};

/// Loading `name` must fail with a verifier error whose kind satisfies `is_expected`.
fn expect_rejected(name: &str, is_expected: fn(&VerifyErrorKind) -> bool) {
    let mut vm = rvbpf::Vm::new();
    match vm.load_elf_file(fixture(name)) {
        Ok(_) => panic!("{name}.o was accepted; it must be rejected"),
        Err(rvbpf::Error::Rejected {
            reason: RejectReason::Verifier(VerifyError { kind, .. }),
            ..
        }) if is_expected(&kind) => {}
        Err(e) => panic!("{name}.o rejected for another reason: {e}"),
    }
}

/// Loads `name` and runs `entry` on pkt_v4 on every engine (prog arrays empty).
fn expect_loads_and_returns(name: &str, expected: u32) {
    for engine in engines() {
        let mut s = Scenario::load(name, engine);
        assert_eq!(s.run("entry", &PKT_V4), expected, "{engine:?}: {name}");
    }
}

#[test]
fn tail_call_needs_prog_array() {
    expect_rejected("reject_tail_call_non_prog_array", |k| {
        matches!(k, VerifyErrorKind::TailCallMapNotProgArray { .. })
    });
    // Twin: the same shape with a prog array (slot empty -> falls through).
    expect_loads_and_returns("tailcall3", 0);
}

#[test]
fn tail_call_subprog_must_return_int() {
    // No specific error kind exists yet: any verifier rejection will do.
    expect_rejected("reject_tail_call_void_subprog", |_| true);
    // Twin: int-returning subprog_tail; empty slots -> len * 2.
    expect_loads_and_returns("tailcall_bpf2bpf1", 108);
}

#[test]
fn call_depth_limit_is_8_frames() {
    expect_rejected("reject_call_depth_9", |k| {
        matches!(
            k,
            VerifyErrorKind::CallChainTooDeep {
                frames: 9,
                max: 8,
                ..
            }
        )
    });
    // 8 frames: len + 1 + 2 + ... + 7 = 54 + 28.
    expect_loads_and_returns("call_depth_8_ok", 82);
}

#[test]
fn combined_stack_limit_is_512_bytes() {
    // 256 + 192 + 128 = 576 bytes (all multiples of 32: no rounding).
    expect_rejected("reject_combined_stack", |k| {
        matches!(
            k,
            VerifyErrorKind::StackTooLarge {
                bytes: 576,
                max: 512,
                ..
            }
        )
    });
    // 128 + 64 + 64 = 256 bytes; returns len + 1 + 2.
    expect_loads_and_returns("combined_stack_ok", 57);
}

#[test]
fn tail_calling_subprog_needs_caller_stack_below_256() {
    // entry's 256 bytes are above subprog_tail, which contains a tail call.
    expect_rejected("reject_tail_call_stack_256", |k| {
        matches!(
            k,
            VerifyErrorKind::TailCallStackTooLarge {
                above: 256,
                limit: 256,
                ..
            }
        )
    });
    // 224 bytes above subprog_tail; empty slot -> len.
    expect_loads_and_returns("tail_call_stack_224_ok", 54);
}

#[test]
fn prog_array_holds_one_program_type() {
    for engine in engines() {
        let mut s = Scenario::load("prog_array_mixed_types", engine);
        let (table, xdp) = (s.map("jmp_table"), s.prog("xdp_prog"));
        assert!(
            s.vm.prog_array_set(table, 1, xdp).is_err(),
            "{engine:?}: xdp into tc table"
        );
        s.set_slot(0, "classifier_0");
        assert_eq!(s.run("entry", &PKT_V4), 0, "{engine:?}: tc callee");
        // Slot 1 stayed empty, so both attempts fall through.
        s.delete(0);
        assert_eq!(s.run("entry", &PKT_V4), 2, "{engine:?}: slot 1 still empty");
    }
}
