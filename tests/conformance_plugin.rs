//! The `conformance-plugin` protocol end to end on the real engines.

use rvbpf::conformance::plugin::plugin_main;
use rvbpf::vm::Engine;

/// Runs the plugin; returns (exit code, stdout, stderr).
fn plugin(args: &[&str], stdin: &str) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = plugin_main(&args, &mut stdin.as_bytes(), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

// mov %r0, 42 ; exit  (b7 = ALU64|MOV|K, 95 = JMP|EXIT), in the runner's
// `_base_16_encode` layout: two spaces after every byte.
const ANSWER: &str = "b7  00  00  00  2a  00  00  00  95  00  00  00  00  00  00  00  \n";
// mov %r0, %r2 ; exit  (bf = ALU64|MOV|X, src r2 in the high nibble).
const MEM_LEN: &str = "bf 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00";
// ldxb %r0, [%r1+1] ; exit  (71 = LDX|MEM|B, src r1).
const SECOND_BYTE: &str = "71 10 01 00 00 00 00 00 95 00 00 00 00 00 00 00";

#[test]
fn prints_r0_in_hex() {
    assert_eq!(plugin(&[], ANSWER), (0, "2a\n".into(), String::new()));
    for &engine in Engine::all() {
        let r = plugin(&["--engine", engine.name()], ANSWER);
        assert_eq!(r, (0, "2a\n".into(), String::new()), "{engine}");
    }
}

#[test]
fn memory_argument_is_r1_and_r2() {
    assert_eq!(
        plugin(
            &["00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10"],
            MEM_LEN
        )
        .1,
        "11\n"
    );
    assert_eq!(plugin(&["aa bb cc"], SECOND_BYTE).1, "bb\n");
    // No memory: r2 = 0.
    assert_eq!(plugin(&[], MEM_LEN).1, "0\n");
}

#[test]
fn errors_go_to_stderr_with_a_nonzero_exit() {
    // exit with dst = 1: an unused field that must be zero.
    let (code, out, err) = plugin(&[], "95 01 00 00 00 00 00 00");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("pc 0"), "{err}");
    // Reading memory out of bounds fails at run time.
    let (code, _, err) = plugin(&["aa"], SECOND_BYTE);
    assert_eq!(code, 1);
    assert!(!err.is_empty());
    assert_eq!(plugin(&["--engine", "nonesuch"], ANSWER).0, 1);
    assert_eq!(plugin(&[], "95 00 00").0, 1);
}
