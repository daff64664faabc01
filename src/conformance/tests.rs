//! Suite logic against a scripted executor (the runtime is exercised by
//! `tests/conformance_suites.rs`).

use super::case::{
    evaluate, evaluate_negative, Executor, Rejection, Stage, Verdict, ALREADY_LOADED,
};
use super::{is_negative, Summary};
use crate::ebpf::data_file::parse;
use crate::ebpf::object::Object;
use std::path::Path;

/// Returns a fixed outcome and records what it was asked to do.
struct Scripted {
    load: Result<(), Rejection>,
    run: Result<u64, Rejection>,
    loads: usize,
    mem_seen: Vec<u8>,
}

impl Scripted {
    fn returning(v: u64) -> Scripted {
        Scripted {
            load: Ok(()),
            run: Ok(v),
            loads: 0,
            mem_seen: vec![],
        }
    }
    fn rejecting(stage: Stage) -> Scripted {
        let r = Rejection::new(stage, "nope");
        Scripted {
            load: if stage == Stage::Load {
                Err(r.clone())
            } else {
                Ok(())
            },
            run: Err(r),
            loads: 0,
            mem_seen: vec![],
        }
    }
}

impl Executor for Scripted {
    fn name(&self) -> String {
        "scripted".into()
    }
    fn load(&mut self, _: &Object) -> Result<(), Rejection> {
        self.loads += 1;
        self.load.clone()
    }
    fn run(&mut self, mem: &mut [u8]) -> Result<u64, Rejection> {
        self.mem_seen = mem.to_vec();
        self.run.clone()
    }
}

fn eval(text: &str, exec: &mut Scripted) -> Verdict {
    let case = parse(Path::new("t.data"), text).unwrap();
    evaluate(&case, exec)
}

const PROG: &str = "-- asm\nmov %r0, 1\nexit\n";

#[test]
fn results_are_compared_in_full() {
    let text = format!("{PROG}-- mem\n01 02\n-- result\n0x1\n");
    let mut ok = Scripted::returning(1);
    assert_eq!(eval(&text, &mut ok), Verdict::Pass);
    assert_eq!(ok.mem_seen, [1, 2]);
    // The high half matters too.
    let v = eval(&text, &mut Scripted::returning(0x1_0000_0001));
    assert_eq!(
        v,
        Verdict::Fail("returned 0x100000001, expected 0x1".into())
    );
    let v = eval(&text, &mut Scripted::rejecting(Stage::Run));
    assert_eq!(v, Verdict::Fail("run error: nope".into()));
}

#[test]
fn any_rejection_satisfies_an_expected_error() {
    let text = format!("{PROG}-- error\nFailed to load code: whatever\n");
    assert_eq!(
        eval(&text, &mut Scripted::rejecting(Stage::Load)),
        Verdict::Pass
    );
    assert_eq!(
        eval(&text, &mut Scripted::rejecting(Stage::Run)),
        Verdict::Pass
    );
    assert!(matches!(
        eval(&text, &mut Scripted::returning(0)),
        Verdict::Fail(_)
    ));
    // Rejected before reaching the engine: never loaded.
    let mut e = Scripted::returning(0);
    assert_eq!(
        eval("-- asm\nmov %r11, 1\nexit\n-- error\nbad\n", &mut e),
        Verdict::Pass
    );
    assert_eq!(
        eval("-- raw\n95 01 00 00 00 00 00 00\n-- error\n", &mut e),
        Verdict::Pass
    );
    assert_eq!(e.loads, 0);
}

#[test]
fn asm_and_raw_must_agree() {
    // mov %r0, 1 = b7 00 00 00 01 00 00 00; exit = 95 ...
    let good =
        "-- asm\nmov %r0, 1\nexit\n-- raw\nb7 00 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n";
    assert_eq!(eval(good, &mut Scripted::returning(0)), Verdict::Pass);
    let bad = good.replace("01 00 00 00\n95", "02 00 00 00\n95");
    assert!(
        matches!(eval(&bad, &mut Scripted::returning(0)), Verdict::Fail(m) if m.contains("-- raw"))
    );
}

#[test]
fn lifecycle_and_skips() {
    let mut e = Scripted::returning(0);
    let v = eval(&format!("{PROG}-- reload\n-- error\nx\n"), &mut e);
    assert_eq!(v, Verdict::Pass);
    let v = eval(&format!("{PROG}-- reload\n-- result\n0x0\n"), &mut e);
    assert_eq!(v, Verdict::Fail(format!("load error: {ALREADY_LOADED}")));
    let mut e = Scripted::returning(0);
    assert_eq!(
        eval(&format!("{PROG}-- unload\n-- result\n0\n"), &mut e),
        Verdict::Pass
    );
    assert_eq!(e.loads, 2);
    assert!(matches!(
        eval("-- pyelf\n-- result\n0x2a\n", &mut e),
        Verdict::Skip(_)
    ));
}

#[test]
fn negative_cases_pass_unless_a_run_returns_the_expected_value() {
    assert!(is_negative(Path::new("suite/negative/x.data")));
    assert!(!is_negative(Path::new("suite/tests/negative.data")));
    assert!(!is_negative(Path::new("negative/suite/tests/x.data")));
    let neg = |text: &str, exec: &mut Scripted| {
        evaluate_negative(&parse(Path::new("negative/t.data"), text).unwrap(), exec)
    };
    let want_1 = format!("{PROG}-- result\n0x1\n");
    // A run returning what the file expects is the one way to fail.
    assert!(matches!(
        neg(&want_1, &mut Scripted::returning(1)),
        Verdict::Fail(_)
    ));
    // A mismatch (runner self-test) or any rejection passes.
    assert_eq!(neg(&want_1, &mut Scripted::returning(2)), Verdict::Pass);
    assert_eq!(
        neg(&want_1, &mut Scripted::rejecting(Stage::Load)),
        Verdict::Pass
    );
    assert_eq!(
        neg(
            "-- asm\nldxq %r0, %r1\n-- result\n0x11\n",
            &mut Scripted::returning(0x11)
        ),
        Verdict::Pass
    );
    // Unused-field cases expect an error and get it from the decoder.
    let unused = "-- raw\n95 01 00 00 00 00 00 00\n-- error\n";
    assert_eq!(neg(unused, &mut Scripted::returning(0)), Verdict::Pass);
    assert!(matches!(
        neg("-- pyelf\n-- result\n1\n", &mut Scripted::returning(1)),
        Verdict::Fail(_)
    ));
}

#[test]
fn summary_prints_failures_then_counts() {
    let mut s = Summary::default();
    s.record(Path::new("a.data"), "interp", Verdict::Pass);
    s.record(Path::new("b.data"), "interp", Verdict::Fail("why".into()));
    s.record(Path::new("c.data"), "interp", Verdict::Skip("pyelf".into()));
    assert_eq!(
        s.to_string(),
        "FAIL b.data [interp]: why\n1 passed, 1 failed, 1 skipped"
    );
}
