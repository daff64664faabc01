//! Call-graph limits at their exact boundaries: 8 frames, 512 bytes of
//! combined stack, and the 256-byte rule for tail-calling subprograms
//! (section 3.1 of the Linux tail-call notes).

mod verifier_util;

use rvbpf_ebpf::object::MapKind;
use rvbpf_ebpf::verifier::VerifyErrorKind as K;
use verifier_util::*;

/// main calls f1, f1 calls f2, ..., f(n-1) calls fn: n + 1 frames.
/// Layout: main = pcs 0..3 (call at pc 1), fi = two slots at 3 + 2(i-1)
/// (its call at its first pc), fn = `mov r0, 0; exit`.
fn chain(n: usize) -> String {
    let mut text = String::from("mov %r0, 0\ncall local f1\nexit\n");
    for i in 1..n {
        text += &format!("f{i}:\ncall local f{}\nexit\n", i + 1);
    }
    text += &format!("f{n}:\nmov %r0, 0\nexit\n");
    text
}

#[test]
fn eight_frames_are_allowed() {
    let p = accept(&chain(7));
    assert_eq!(p.functions().len(), 8);
}

#[test]
fn nine_frames_are_too_deep() {
    // f7 starts at 3 + 2 * 6 = 15 and calls f8 there.
    let (pc, kind) = reject(&chain(8));
    assert_eq!(pc, Some(15));
    let names = ["main", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"];
    let expected_chain = names.map(|n| format!("`{n}`")).join(" -> ");
    assert_eq!(
        kind,
        K::CallChainTooDeep {
            chain: expected_chain,
            frames: 9,
            max: 8
        }
    );
}

/// main stores one byte `main_depth` below r10 then calls a; a does the same
/// with `a_depth` and calls b; b with `b_depth`. Stores sit at the function
/// start, so main's call is pc 1 and a's call is pc 4.
fn three_levels(main_depth: u32, a_depth: u32, b_depth: u32) -> String {
    format!(
        "stb [%r10-{main_depth}], 0\ncall local a\nexit\n\
         a:\nstb [%r10-{a_depth}], 0\ncall local b\nexit\n\
         b:\nstb [%r10-{b_depth}], 0\nmov %r0, 0\nexit"
    )
}

#[test]
fn combined_stack_of_exactly_512_bytes_is_allowed() {
    // 128 + 128 + 256 = 512.
    let p = accept(&three_levels(128, 128, 256));
    let depths: Vec<u32> = p.functions().iter().map(|f| f.stack_depth).collect();
    assert_eq!(depths, [128, 128, 256]);
}

#[test]
fn combined_stack_over_512_bytes_is_rejected() {
    // b's deepest byte 257 rounds to 272: 128 + 128 + 272 = 528, found when
    // entering b through a's call at pc 4.
    let (pc, kind) = reject(&three_levels(128, 128, 257));
    assert_eq!(pc, Some(4));
    assert_eq!(
        kind,
        K::StackTooLarge {
            chain: "`main` -> `a` -> `b`".into(),
            bytes: 528,
            max: 512
        }
    );
}

#[test]
fn the_deepest_of_two_callers_counts() {
    // b is called from main (16 bytes) directly and through a (16 + 240):
    // via a the chain is 16 + 240 + 272 = 528.
    let text = "stb [%r10-16], 0\ncall local b\ncall local a\nexit\n\
                a:\nstb [%r10-240], 0\ncall local b\nexit\n\
                b:\nstb [%r10-257], 0\nmov %r0, 0\nexit";
    let (pc, kind) = reject(text);
    // a = pcs 4..7, its call at pc 5.
    assert_eq!(pc, Some(5));
    assert!(
        matches!(kind, K::StackTooLarge { bytes: 528, .. }),
        "{kind:?}"
    );
}

/// main uses `main_depth` bytes and calls t; t tail-calls through map 0.
/// main's call is pc 1.
fn tail_calling_subprogram(main_depth: u32) -> rvbpf_ebpf::object::Object {
    let mut obj = object(&format!(
        "stb [%r10-{main_depth}], 0\ncall local t\nexit\n\
         t:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit"
    ));
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    obj
}

#[test]
fn tail_calling_subprogram_below_256_bytes_of_callers() {
    let p = verify_obj(&tail_calling_subprogram(240), 1).unwrap();
    assert_eq!(p.functions()[0].stack_depth, 240);
    assert!(p.functions()[1].has_tail_call);
}

#[test]
fn tail_calling_subprogram_under_256_bytes_of_callers_is_rejected() {
    let err = verify_obj(&tail_calling_subprogram(256), 1).unwrap_err();
    assert_eq!(err.pc, Some(1));
    assert_eq!(
        err.kind,
        K::TailCallStackTooLarge {
            function: "t".into(),
            chain: "`main` -> `t`".into(),
            above: 256,
            limit: 256
        }
    );
    // Depths round up first: 241 bytes count as 256.
    assert!(verify_obj(&tail_calling_subprogram(241), 1).is_err());
}

#[test]
fn callers_above_a_tail_call_add_up() {
    // main 128 + a 128 = 256 above t; a's call to t is at pc 4.
    let mut obj = object(
        "stb [%r10-128], 0\ncall local a\nexit\n\
         a:\nstb [%r10-128], 0\ncall local t\nexit\n\
         t:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
    );
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(4));
    assert!(
        matches!(err.kind, K::TailCallStackTooLarge { above: 256, ref chain, .. }
            if chain == "`main` -> `a` -> `t`"),
        "{:?}",
        err.kind
    );
}

#[test]
fn the_entry_function_may_tail_call_with_a_full_frame() {
    let mut obj =
        object("stb [%r10-512], 0\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit");
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    let p = verify_obj(&obj, 1).unwrap();
    assert_eq!(p.functions()[0].stack_depth, 512);
    assert!(p.tail_call_reachable());
}

#[test]
fn the_rule_applies_only_to_the_function_holding_the_tail_call() {
    // a (no tail call, 0 bytes) is entered under 496 bytes; it only calls a helper.
    accept("stb [%r10-496], 0\ncall local a\nexit\na:\ncall 6\nexit");
}

#[test]
fn callbacks_run_on_top_of_the_frame_that_takes_their_address() {
    // main (496 bytes) takes cb's address at pcs 1-2; cb uses 32 bytes: a
    // helper running cb from main makes a 528-byte chain.
    let text = "stb [%r10-496], 0\nlddw %r2, func:cb\nmov %r0, 0\nexit\n\
                cb:\nstb [%r10-32], 0\nmov %r0, 0\nexit";
    let (pc, kind) = reject(text);
    assert_eq!(pc, Some(1));
    assert_eq!(
        kind,
        K::StackTooLarge {
            chain: "`main` -> `cb`".into(),
            bytes: 528,
            max: 512
        }
    );
    // 480 + 32 = 512 fits; cb is listed as a callback, not a callee.
    let p = accept(&text.replace("496", "480"));
    assert_eq!(p.functions()[0].callbacks, [1]);
    assert!(p.functions()[0].callees.is_empty());
}

#[test]
fn a_callback_taking_its_own_address_is_recursion() {
    // cb = pcs 4..8 takes its own address at pcs 4-5.
    let (pc, kind) =
        reject("lddw %r2, func:cb\nmov %r0, 0\nexit\ncb:\nlddw %r2, func:cb\nmov %r0, 0\nexit");
    assert_eq!(pc, Some(4));
    assert!(
        matches!(kind, K::Recursion { ref function, .. } if function == "cb"),
        "{kind:?}"
    );
}
