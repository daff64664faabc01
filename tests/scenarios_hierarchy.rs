//! Catalogue 4.5: the tail-call budget is one counter per top-level run,
//! shared by every bpf2bpf frame (tests/bpf/tailcall_bpf2bpf_hierarchy*.c).
//! With a counter per frame these scenarios would not terminate in practice.

mod scenario_support;

use scenario_support::{engines, Scenario, PKT_V4};

#[test]
fn tailcall_bpf2bpf_hierarchy_1() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf_hierarchy1", engine);
        s.fill(&["entry"]);
        // The first entry plus one entry per successful tail call (33); once
        // the budget is spent every pending subprog_tail call falls through.
        let out = s.run_outcome("entry", &PKT_V4);
        assert_eq!(out.ret, 1, "{engine:?}: retval");
        assert_eq!(
            out.stats.tail_calls, 33,
            "{engine:?}: one budget for all frames"
        );
        assert_eq!(s.global("count"), 34, "{engine:?}: count");
        // .bss is not reset; this run makes no tail call: 34 + 1.
        s.delete(0);
        assert_eq!(
            s.run("entry", &PKT_V4),
            1,
            "{engine:?}: retval after delete"
        );
        assert_eq!(s.global("count"), 35, "{engine:?}: count after delete");
    }
}

#[test]
fn tailcall_bpf2bpf_hierarchy_2() {
    for engine in engines() {
        // jmp_table is initialised from the object: slot 0 = classifier_0,
        // slot 1 = classifier_1. subprog_tail0's chain spends all 33 tail
        // calls (c0 runs 33 times), so subprog_tail1's attempt fails and c1
        // never runs: (0 << 16) | 33. Per-frame counting would give
        // (33 << 16) | 33.
        let mut s = Scenario::load("tailcall_bpf2bpf_hierarchy2", engine);
        assert_eq!(s.run("entry", &PKT_V4), 33, "{engine:?}: retval");
        assert_eq!(s.global("count0"), 33, "{engine:?}: count0");
        assert_eq!(s.global("count1"), 0, "{engine:?}: count1");
    }
}

#[test]
fn tailcall_bpf2bpf_hierarchy_3() {
    for engine in engines() {
        // jmp_table0[0] = jmp_table1[0] = classifier_0 (from the object).
        // entry -(#1)-> c0 [1] -> subprog_tail(table0) -(#2)-> c0 [2] ...
        // -(#33)-> c0 [33]; then every subprog_tail call fails, whatever the
        // table, and each c0 returns the global count: 33.
        let mut s = Scenario::load("tailcall_bpf2bpf_hierarchy3", engine);
        assert_eq!(s.run("entry", &PKT_V4), 33, "{engine:?}: retval");
        assert_eq!(s.global("count"), 33, "{engine:?}: count");
    }
}
