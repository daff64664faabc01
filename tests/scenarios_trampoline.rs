//! Catalogue 4.3 and the trampoline variants of 4.5: fentry/fexit programs
//! attached to tail-call-reachable functions. The trampoline must carry the
//! run's tail-call budget into the traced function; a tail call must enter
//! its callee past the attach point.

mod scenario_support;

use scenario_support::{engines, Scenario, PKT_V4, ZERO128};

/// Which tracing objects to attach to `subprog_tail`.
#[derive(Clone, Copy, Debug)]
enum Tracers {
    Fentry,
    Fexit,
    Both,
}

impl Tracers {
    fn objects(self) -> &'static [&'static str] {
        match self {
            Tracers::Fentry => &["tailcall_bpf2bpf_fentry"],
            Tracers::Fexit => &["tailcall_bpf2bpf_fexit"],
            Tracers::Both => &["tailcall_bpf2bpf_fentry", "tailcall_bpf2bpf_fexit"],
        }
    }
}

/// tailcall_bpf2bpf_fentry / _fexit / _fentry_fexit: target
/// tailcall_bpf2bpf2.o, whose classifier_0 runs 33 times (see
/// tailcall_bpf2bpf_2) and calls subprog_tail once each time, so every
/// tracer fires 33 times.
fn bpf2bpf_traced(tracers: Tracers) {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf2", engine);
        s.fill(&["classifier_0"]);
        let target = s.obj;
        let objs: Vec<_> = tracers
            .objects()
            .iter()
            .map(|name| s.load_more(name))
            .collect();
        for &tracer in &objs {
            s.attach_all(tracer, target, "subprog_tail");
        }
        assert_eq!(
            s.run("entry", &ZERO128),
            1,
            "{engine:?} {tracers:?}: retval"
        );
        assert_eq!(s.global("count"), 33, "{engine:?} {tracers:?}: count");
        for &tracer in &objs {
            assert_eq!(
                s.global_in(tracer, "count"),
                33,
                "{engine:?} {tracers:?}: tracer count"
            );
        }
        s.delete(0);
        assert_eq!(
            s.run("entry", &ZERO128),
            0,
            "{engine:?} {tracers:?}: after delete"
        );
    }
}

#[test]
fn tailcall_bpf2bpf_fentry() {
    bpf2bpf_traced(Tracers::Fentry);
}

#[test]
fn tailcall_bpf2bpf_fexit() {
    bpf2bpf_traced(Tracers::Fexit);
}

#[test]
fn tailcall_bpf2bpf_fentry_fexit() {
    bpf2bpf_traced(Tracers::Both);
}

#[test]
fn tailcall_bpf2bpf_fentry_entry() {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf2", engine);
        s.fill(&["classifier_0"]);
        let target = s.obj;
        let tracer = s.load_more("tailcall_bpf2bpf_fentry_entry");
        s.attach_all(tracer, target, "classifier_0");
        // classifier_0 run directly: 1 direct entry + 33 tail calls into it.
        // Tail calls enter past the attach point, so fentry fires once.
        assert_eq!(s.run("classifier_0", &ZERO128), 1, "{engine:?}: retval");
        assert_eq!(s.global("count"), 34, "{engine:?}: count");
        assert_eq!(s.global_in(tracer, "count"), 1, "{engine:?}: fentry count");
    }
}

/// hierarchy_fentry / _fexit / _fentry_fexit: target
/// tailcall_bpf2bpf_hierarchy1.o with slot 0 = entry. entry runs 34 times
/// (see tailcall_bpf2bpf_hierarchy_1) and calls subprog_tail twice each
/// time: 68 firings; after deleting slot 0 one more entry: 35 and 70.
fn hierarchy_traced(tracers: Tracers) {
    for engine in engines() {
        let mut s = Scenario::load("tailcall_bpf2bpf_hierarchy1", engine);
        s.fill(&["entry"]);
        let target = s.obj;
        let objs: Vec<_> = tracers
            .objects()
            .iter()
            .map(|name| s.load_more(name))
            .collect();
        for &tracer in &objs {
            s.attach_all(tracer, target, "subprog_tail");
        }
        assert_eq!(s.run("entry", &PKT_V4), 1, "{engine:?} {tracers:?}: retval");
        assert_eq!(s.global("count"), 34, "{engine:?} {tracers:?}: count");
        for &tracer in &objs {
            assert_eq!(
                s.global_in(tracer, "count"),
                68,
                "{engine:?} {tracers:?}: tracer"
            );
        }
        s.delete(0);
        assert_eq!(
            s.run("entry", &PKT_V4),
            1,
            "{engine:?} {tracers:?}: retval, rerun"
        );
        assert_eq!(
            s.global("count"),
            35,
            "{engine:?} {tracers:?}: count, rerun"
        );
        for &tracer in &objs {
            assert_eq!(
                s.global_in(tracer, "count"),
                70,
                "{engine:?} {tracers:?}: tracer, rerun"
            );
        }
    }
}

#[test]
fn tailcall_bpf2bpf_hierarchy_fentry() {
    hierarchy_traced(Tracers::Fentry);
}

#[test]
fn tailcall_bpf2bpf_hierarchy_fexit() {
    hierarchy_traced(Tracers::Fexit);
}

#[test]
fn tailcall_bpf2bpf_hierarchy_fentry_fexit() {
    hierarchy_traced(Tracers::Both);
}

#[test]
fn tailcall_bpf2bpf_hierarchy_fentry_entry() {
    for engine in engines() {
        // The tracing program is the one that tail-calls (itself, through
        // its own jmp_table) from a subprogram called twice.
        let mut s = Scenario::load("tc_dummy", engine);
        let target = s.obj;
        let tracer = s.load_more("tailcall_bpf2bpf_hierarchy_fentry");
        let (table, fentry) = (s.map_in(tracer, "jmp_table"), s.prog_in(tracer, "fentry"));
        s.vm.prog_array_set(table, 0, fentry)
            .expect("slot 0 = fentry");
        s.attach_all(tracer, target, "entry");
        // The trampoline gives fentry a fresh budget: 1 + 33 instances.
        assert_eq!(s.run("entry", &PKT_V4), 1, "{engine:?}: retval");
        assert_eq!(s.global_in(tracer, "count"), 34, "{engine:?}: count");
        s.vm.map_delete(table, &0u32.to_le_bytes())
            .expect("delete slot 0");
        assert_eq!(s.run("entry", &PKT_V4), 1, "{engine:?}: retval, rerun");
        assert_eq!(s.global_in(tracer, "count"), 35, "{engine:?}: count, rerun");
    }
}
