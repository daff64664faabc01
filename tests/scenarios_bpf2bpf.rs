//! Catalogue 4.2: tail calls made from bpf2bpf subprograms
//! (tests/bpf/tailcall_bpf2bpf*.c). A tail call replaces the subprogram's
//! frame only; the tail callee's return value is what the subprogram returns.

mod scenario_support;

use scenario_support::{engines, Scenario, PKT_V4, ZERO128};

#[test]
fn tailcall_bpf2bpf_1() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf1", engine);
        s.fill(&["classifier_0", "classifier_1"]);
        // entry's own tail call (key 1) reaches classifier_1.
        assert_eq!(s.run("entry", &PKT_V4), 1, "{engine:?}: both slots");
        // entry falls through to subprog_tail, which tail-calls classifier_0.
        s.delete(1);
        assert_eq!(s.run("entry", &PKT_V4), 0, "{engine:?}: key 1 deleted");
        // subprog_tail falls through: len * 2 = 54 * 2.
        s.delete(0);
        assert_eq!(s.run("entry", &PKT_V4), 108, "{engine:?}: both deleted");
    }
}

#[test]
fn tailcall_bpf2bpf_2() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf2", engine);
        s.fill(&["classifier_0"]);
        // First byte 0 -> key 0. entry -> c0 is #1; each c0 calls
        // subprog_tail, which tail-calls c0 again (#2..#33): 33 c0 runs; the
        // innermost subprog_tail's attempt #34 fails and it returns 1.
        assert_eq!(s.run("entry", &ZERO128), 1, "{engine:?}: retval");
        assert_eq!(s.global("count"), 33, "{engine:?}: count");
        s.delete(0);
        assert_eq!(s.run("entry", &ZERO128), 0, "{engine:?}: after delete");
    }
}

#[test]
fn tailcall_bpf2bpf_3() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf3", engine);
        s.fill(&["classifier_0", "classifier_1"]);
        // pkt_v4's first word is zero, so subprog_tail2 uses key 1:
        // entry -> subprog_tail -> c0 -> subprog_tail2 -> c1: len * 3.
        assert_eq!(s.run("entry", &PKT_V4), 162, "{engine:?}: both slots");
        // subprog_tail2 falls through and returns len.
        s.delete(1);
        assert_eq!(s.run("entry", &PKT_V4), 54, "{engine:?}: key 1 deleted");
        // subprog_tail falls through and returns len * 2.
        s.delete(0);
        assert_eq!(s.run("entry", &PKT_V4), 108, "{engine:?}: both deleted");
    }
}

/// Ours, not in Linux: the other branch of subprog_tail2. With a non-zero
/// first byte it tail-calls key 10 (out of range for 2 slots), which fails,
/// so it returns len even though classifier_1 is in slot 1.
#[test]
fn tailcall_bpf2bpf_3_out_of_range_key() {
    let mut packet = PKT_V4;
    packet[0] = 0x02; // a locally administered destination MAC
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf3", engine);
        s.fill(&["classifier_0", "classifier_1"]);
        assert_eq!(s.run("entry", &packet), 54, "{engine:?}");
    }
}

/// tailcall_bpf2bpf_4 (noise 0) and _5 (noise 1) run the same object.
/// entry -(#1)-> c0 -(#2)-> c1 -(#3)-> c2 [count 1] -(#4)-> c2 [2] ...
/// -(#33)-> c2 [31]; attempt #34 fails, subprog_tail_2 returns len * 3 = 162
/// and every frame passes it back. count = 33 - 2 = 31.
fn subprog_chain(noise: u64) {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf4", engine);
        s.fill(&["classifier_0", "classifier_1", "classifier_2"]);
        s.set_global("count", 0);
        s.set_global("noise", noise);
        assert_eq!(
            s.run("entry", &PKT_V4),
            162,
            "{engine:?}: noise {noise} retval"
        );
        assert_eq!(s.global("count"), 31, "{engine:?}: noise {noise} count");
    }
}

#[test]
fn tailcall_bpf2bpf_4() {
    subprog_chain(0);
}

#[test]
fn tailcall_bpf2bpf_5() {
    subprog_chain(1);
}

#[test]
fn tailcall_bpf2bpf_6() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf6", engine);
        s.fill(&["classifier_0"]);
        // classifier_0 replaces subprog_tail (whose caller has a 1-byte
        // stack), sets done = 1 and returns 0, which entry returns.
        assert_eq!(s.run("entry", &PKT_V4), 0, "{engine:?}: retval");
        assert_eq!(s.global("done"), 1, "{engine:?}: done");
    }
}
