//! Catalogue 4.1: tail calls without subprograms (tests/bpf/tailcall1..6.c).
//! Each test runs the Linux selftest's steps on every engine.

mod scenario_support;

use scenario_support::{engines, Scenario, PKT_V4};

const C012: [&str; 3] = ["classifier_0", "classifier_1", "classifier_2"];

#[test]
fn tailcall_1() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall1", engine);
        s.fill(&C012);
        // The first populated key wins; keys below i were already deleted.
        for i in 0..3 {
            assert_eq!(
                s.run("entry", &PKT_V4),
                i,
                "{engine:?}: slots {i}.. populated"
            );
            s.delete(i);
        }
        // All 12 call sites fall through.
        assert_eq!(s.run("entry", &PKT_V4), 3, "{engine:?}: all deleted");

        s.fill(&C012);
        assert_eq!(s.run("entry", &PKT_V4), 0, "{engine:?}: refilled");

        // Reversed: slot i holds classifier_{2-i}, which returns 2 - i.
        for i in 0..3 {
            s.set_slot(i, C012[2 - i as usize]);
        }
        for i in 0..3 {
            assert_eq!(
                s.run("entry", &PKT_V4),
                2 - i,
                "{engine:?}: reversed, slots {i}.."
            );
            s.delete(i);
        }
        assert_eq!(
            s.run("entry", &PKT_V4),
            3,
            "{engine:?}: reversed, all deleted"
        );

        // Deleting an empty slot is an error (ENOENT in Linux), changes nothing.
        for i in 0..3 {
            assert!(!s.try_delete(i), "{engine:?}: second delete of key {i}");
        }
        assert_eq!(
            s.run("entry", &PKT_V4),
            3,
            "{engine:?}: after failed deletes"
        );
    }
}

#[test]
fn tailcall_2() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall2", engine);
        s.fill(&[
            "classifier_0",
            "classifier_1",
            "classifier_2",
            "classifier_3",
            "classifier_4",
        ]);
        // entry -> c0 -> c1 -> c2, which returns 2.
        assert_eq!(s.run("entry", &PKT_V4), 2, "{engine:?}: all filled");
        // c1's tail call to key 2 fails, it returns 1.
        s.delete(2);
        assert_eq!(s.run("entry", &PKT_V4), 1, "{engine:?}: key 2 deleted");
        // entry's keys 0 and 2 fail; key 3 is successful tail call #1 (into
        // c3), c3 -> c4 is #2, c4 -> c3 #3: odd numbers land in c3, so #33
        // does, and c3's attempt #34 fails: 3. A limit of 32 or 34 gives 4.
        s.delete(0);
        assert_eq!(s.run("entry", &PKT_V4), 3, "{engine:?}: 3<->4 ping-pong");
    }
}

/// tailcall_3 (constant key) and tailcall_6 (key from a global) expect the
/// same: entry -> c0 is successful tail call #1, c0 -> c0 #2..#33, so c0
/// runs 33 times; its 34th attempt falls through and it returns 1.
fn self_tail_call_limit(object: &str) {
    for engine in engines() {
        let mut s = Scenario::load(object, engine);
        s.fill(&["classifier_0"]);
        let out = s.run_outcome("entry", &PKT_V4);
        assert_eq!(out.ret, 1, "{engine:?}: {object} retval");
        assert_eq!(out.stats.tail_calls, 33, "{engine:?}: {object} tail calls");
        assert_eq!(s.global("count"), 33, "{engine:?}: {object} count");
        // entry's own tail call fails now.
        s.delete(0);
        assert_eq!(
            s.run("entry", &PKT_V4),
            0,
            "{engine:?}: {object} after delete"
        );
    }
}

#[test]
fn tailcall_3() {
    self_tail_call_limit("tailcall3");
}

#[test]
fn tailcall_6() {
    self_tail_call_limit("tailcall6");
}

#[test]
fn tailcall_4() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall4", engine);
        s.fill(&C012);
        // The key is the selector; classifier_N returns N.
        for i in 0..3u32 {
            s.set_global("selector", u64::from(i));
            assert_eq!(s.run("entry", &PKT_V4), i, "{engine:?}: selector {i}");
        }
        // With the slot gone the tail call falls through: 3.
        for i in 0..3u32 {
            s.delete(i);
            s.set_global("selector", u64::from(i));
            assert_eq!(s.run("entry", &PKT_V4), 3, "{engine:?}: key {i} deleted");
        }
    }
}

#[test]
fn tailcall_5() {
    // entry maps 1234 -> key 1, 5678 -> key 2, anything else (1111) -> key 0,
    // then makes one tail call with that key.
    const SELECTORS: [(u32, u64); 3] = [(0, 1111), (1, 1234), (2, 5678)];
    for engine in engines() {
        let mut s = Scenario::load("tailcall5", engine);
        s.fill(&C012);
        for (key, selector) in SELECTORS {
            s.set_global("selector", selector);
            assert_eq!(
                s.run("entry", &PKT_V4),
                key,
                "{engine:?}: selector {selector}"
            );
        }
        for (key, selector) in SELECTORS {
            s.delete(key);
            s.set_global("selector", selector);
            assert_eq!(s.run("entry", &PKT_V4), 3, "{engine:?}: key {key} deleted");
        }
    }
}

/// Ours (tests/bpf/tailcall_empty_slot_budget.c): every program first tries
/// an empty slot, then slot 0 (classifier_0 itself). Failed attempts cost
/// nothing, so the limit is still 33 successful tail calls and c0 runs 33
/// times. (If failures cost budget too, c0 would run 16 times.)
#[test]
fn tailcall_empty_slot_costs_no_budget() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_empty_slot_budget", engine);
        s.set_slot(0, "classifier_0");
        let out = s.run_outcome("entry", &PKT_V4);
        assert_eq!(out.ret, 1, "{engine:?}: retval");
        assert_eq!(out.stats.tail_calls, 33, "{engine:?}: tail calls");
        assert_eq!(s.global("count"), 33, "{engine:?}: count");
    }
}
