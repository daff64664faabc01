//! The tail-call selftest ports of `tests/bpf` (clang-built objects) run on
//! JIT'd code in the emulator, under every target and counter scheme. The
//! expected values are the ones `tests/bpf/README.md` derives from the Linux
//! semantics (spec section 4): one budget of 33 successful tail calls per
//! run, shared by every frame; failures cost nothing.

mod common;

use common::scenario::load;
use common::{opts, SCHEMES, TARGETS};

fn each(mut f: impl FnMut(&rvbpf_jit::JitOptions, &str)) {
    for t in TARGETS {
        for s in SCHEMES {
            let o = opts(t, s);
            f(&o, &format!("{t} {s:?}"));
        }
    }
}

#[test]
fn tailcall_3_chain_of_33() {
    each(|o, tag| {
        let mut s = load("tailcall3.o", o, &[("jmp_table", 0, "classifier_0")]);
        assert_eq!(s.run("entry"), 1, "{tag}");
        assert_eq!(s.global("count"), 33, "{tag}");
        s.delete("jmp_table", 0);
        assert_eq!(s.run("entry"), 0, "{tag}");
    });
}

#[test]
fn empty_slots_cost_no_budget() {
    each(|o, tag| {
        let mut s = load(
            "tailcall_empty_slot_budget.o",
            o,
            &[("jmp_table", 0, "classifier_0")],
        );
        assert_eq!(s.run("entry"), 1, "{tag}");
        assert_eq!(s.global("count"), 33, "{tag}");
    });
}

#[test]
fn hierarchy_1_one_budget_across_frames() {
    each(|o, tag| {
        let mut s = load(
            "tailcall_bpf2bpf_hierarchy1.o",
            o,
            &[("jmp_table", 0, "entry")],
        );
        assert_eq!(s.run("entry"), 1, "{tag}");
        assert_eq!(s.global("count"), 34, "{tag}");
        s.delete("jmp_table", 0);
        assert_eq!(s.run("entry"), 1, "{tag}");
        assert_eq!(s.global("count"), 35, "{tag}");
    });
}

#[test]
fn hierarchy_2_static_slots() {
    each(|o, tag| {
        let mut s = load("tailcall_bpf2bpf_hierarchy2.o", o, &[]);
        assert_eq!(s.run("entry"), 33, "{tag}");
        assert_eq!(s.global("count0"), 33, "{tag}");
        assert_eq!(s.global("count1"), 0, "{tag}");
    });
}

#[test]
fn hierarchy_3_map_passed_to_subprogram() {
    each(|o, tag| {
        let mut s = load("tailcall_bpf2bpf_hierarchy3.o", o, &[]);
        assert_eq!(s.run("entry"), 33, "{tag}");
        assert_eq!(s.global("count"), 33, "{tag}");
    });
}
