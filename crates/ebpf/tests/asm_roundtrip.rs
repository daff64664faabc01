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
