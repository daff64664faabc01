//! Property: the disassembler's text assembles back to the same program, and
//! the assembler's output is exactly what strict decoding of its encoding
//! yields (so the assembler can only produce decodable instructions).

use proptest::prelude::*;
use rvbpf_ebpf::asm::assemble;
use rvbpf_ebpf::disasm::{disassemble, format_inst};
use rvbpf_ebpf::inst::{decode_program, encode_program};
use rvbpf_ebpf::testing;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn single_instruction_text_round_trips(inst in testing::inst()) {
        let text = format_inst(&inst);
        let back = assemble(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back[0], inst, "text: {}", text);
        prop_assert_eq!(back.len(), inst.slots());
    }

    #[test]
    fn programs_round_trip_through_text(prog in testing::program(40)) {
        let text = disassemble(&prog);
        let back = assemble(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &prog);
        // The assembler's slot form is the decoder's slot form.
        let decoded = decode_program(&encode_program(&back)).expect("strategy yields valid insts");
        prop_assert_eq!(decoded, prog);
    }
}

/// Fragments of the syntax, so random lines are often nearly valid.
const WORDS: &[&str] = &[
    "mov",
    "add32",
    "lddw",
    "ldxw",
    "stxdw",
    "stb",
    "lock",
    "fetch",
    "cmpxchg32",
    "ja",
    "ja32",
    "jeq",
    "call",
    "local",
    "exit",
    "be16",
    "movsx864",
    "neg",
    "%r0",
    "%r10",
    "%r11",
    "r3",
    "[",
    "]",
    "[%r1+4]",
    "[%r10-",
    ",",
    ":",
    "lbl",
    "lbl:",
    "+",
    "-",
    "0x",
    "0xffffffff",
    "-1",
    "99999999999999999999999",
    "map:",
    "func:lbl",
    "#",
    "//",
    "-- asm",
    "-- raw",
    "-- mem",
    "-- result",
    "-- error",
    "@",
    "\n",
];

proptest! {
    #[test]
    fn assembler_and_data_parser_never_panic_on_arbitrary_text(s in ".{0,200}") {
        let _ = assemble(&s);
        let _ = rvbpf_ebpf::data_file::parse(std::path::Path::new("/nonexistent/x.data"), &s);
    }

    #[test]
    fn assembler_never_panics_on_token_soup(
        words in proptest::collection::vec(proptest::sample::select(WORDS), 0..40),
    ) {
        let text = words.join(" ");
        if let Ok(p) = assemble(&text) {
            // Whatever it accepts is a valid program.
            prop_assert_eq!(decode_program(&encode_program(&p)).unwrap(), p);
        }
        let _ = rvbpf_ebpf::data_file::parse(std::path::Path::new("/nonexistent/x.data"), &text);
    }
}
