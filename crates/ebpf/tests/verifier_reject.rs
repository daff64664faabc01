//! One test per rejection kind: the variant and the pc it blames, worked out
//! by hand from the program text (pcs are slot indices; `lddw` takes two).

mod verifier_util;

use rvbpf_ebpf::insn::{op, Insn};
use rvbpf_ebpf::inst::{DecodeError, Reg};
use rvbpf_ebpf::object::MapKind;
use rvbpf_ebpf::verifier::{verify, VerifyEnv, VerifyErrorKind as K};
use verifier_util::*;

const MOV_R0_0: Insn = Insn::new(op::ALU64 | op::MOV | op::K, 0, 0, 0, 0);
const EXIT: Insn = Insn::new(op::JMP | op::EXIT, 0, 0, 0, 0);

#[test]
fn missing_program_index() {
    let env = VerifyEnv {
        helper_known: &helper_known,
        kfunc_known: &kfunc_known,
        entry_args: 1,
    };
    let err = verify(&object("mov %r0, 0\nexit"), 3, &env).unwrap_err();
    assert_eq!(err.pc, None);
    assert_eq!(err.kind, K::NoSuchProgram { index: 3, count: 1 });
    assert_eq!(
        err.to_string(),
        "program `#3`: the object has no program number 3 (it has 1)"
    );
}

#[test]
fn undecodable_slot_is_reported_at_its_pc() {
    let bad = Insn::new(0xff, 0, 0, 0, 0);
    let err = verify_obj(&raw_object(vec![MOV_R0_0, bad, EXIT]), 1).unwrap_err();
    assert_eq!(err.pc, Some(1));
    assert_eq!(
        err.kind,
        K::Decode(DecodeError::UnknownOpcode { pc: 1, opc: 0xff })
    );
    assert_eq!(
        err.to_string(),
        "program `main`, pc 1: invalid instruction: unknown opcode 0xff"
    );

    // mov r11, 0: there is no r11.
    let r11 = Insn::new(op::ALU64 | op::MOV | op::K, 11, 0, 0, 0);
    let err = verify_obj(&raw_object(vec![r11, EXIT]), 1).unwrap_err();
    assert_eq!(err.pc, Some(0));
    assert_eq!(
        err.kind,
        K::Decode(DecodeError::BadRegister { pc: 0, reg: 11 })
    );
}

#[test]
fn empty_program() {
    let err = verify_obj(&raw_object(vec![]), 1).unwrap_err();
    assert_eq!((err.pc, err.kind), (None, K::EmptyProgram));
}

#[test]
fn more_than_a_million_slots() {
    let mut insns = vec![MOV_R0_0; 1_000_000];
    insns.push(EXIT);
    let err = verify_obj(&raw_object(insns), 1).unwrap_err();
    assert_eq!(err.pc, None);
    assert_eq!(
        err.kind,
        K::TooManyInstructions {
            count: 1_000_001,
            max: 1_000_000
        }
    );
}

#[test]
fn exactly_a_million_slots_is_allowed() {
    let mut insns = vec![MOV_R0_0; 999_999];
    insns.push(EXIT);
    let p = verify_obj(&raw_object(insns), 1).unwrap();
    assert_eq!(p.insts().len(), 1_000_000);
}

#[test]
fn local_call_outside_the_program() {
    // pc 1: target = 1 + 1 + 5 = 7, program has 3 slots.
    let (pc, kind) = reject("mov %r0, 0\ncall local +5\nexit");
    assert_eq!(pc, Some(1));
    assert_eq!(kind, K::CallOutOfProgram { target: 7, len: 3 });
    // pc 1: target = 1 + 1 - 3 = -1.
    let (pc, kind) = reject("mov %r0, 0\ncall local -3\nexit");
    assert_eq!(pc, Some(1));
    assert_eq!(kind, K::CallOutOfProgram { target: -1, len: 3 });
}

#[test]
fn local_call_into_the_middle_of_lddw() {
    // lddw at pcs 0-1; pc 2: target = 2 + 1 - 2 = 1, the second slot.
    let (pc, kind) = reject("lddw %r0, 1\ncall local -2\nexit");
    assert_eq!(pc, Some(2));
    assert_eq!(kind, K::CallIntoLddw { target: 1 });
}

#[test]
fn function_reference_outside_the_program_or_into_lddw() {
    // lddw func at pcs 0-1: target = 0 + 1 + 10 = 11; 4 slots in all.
    let (pc, kind) = reject("lddw %r1, func:+10\nmov %r0, 0\nexit");
    assert_eq!(pc, Some(0));
    assert_eq!(kind, K::FuncRefOutOfProgram { target: 11, len: 4 });
    // lddw imm at pcs 1-2, lddw func at pcs 3-4: target = 3 + 1 - 2 = 2.
    let (pc, kind) = reject("mov %r0, 0\nlddw %r2, 5\nlddw %r1, func:-2\nexit");
    assert_eq!(pc, Some(3));
    assert_eq!(kind, K::FuncRefIntoLddw { target: 2 });
}

#[test]
fn jump_into_another_function() {
    // main = pcs 0..4, f = pcs 4..6; pc 2 jumps to 2 + 1 + 1 = 4.
    let text = "mov %r0, 0\ncall local f\nja +1\nexit\nf:\nmov %r0, 1\nexit";
    let (pc, kind) = reject(text);
    assert_eq!(pc, Some(2));
    assert_eq!(
        kind,
        K::JumpOutOfFunction {
            target: 4,
            function: "main".into(),
            start: 0,
            end: 4
        }
    );
}

#[test]
fn jump_outside_the_program() {
    let (pc, kind) = reject("ja +5\nexit");
    assert_eq!(pc, Some(0));
    assert!(
        matches!(kind, K::JumpOutOfFunction { target: 6, .. }),
        "{kind:?}"
    );
    let (pc, kind) = reject("mov %r0, 0\nja -3\nexit");
    assert_eq!(pc, Some(1));
    assert!(
        matches!(kind, K::JumpOutOfFunction { target: -1, .. }),
        "{kind:?}"
    );
}

#[test]
fn jump_onto_second_half_of_lddw() {
    // pc 0 jumps to 0 + 1 + 1 = 2; the lddw occupies pcs 1-2.
    let (pc, kind) = reject("ja +1\nlddw %r0, 1\nexit");
    assert_eq!(pc, Some(0));
    assert_eq!(kind, K::JumpIntoLddw { target: 2 });
}

#[test]
fn path_running_off_the_end_of_the_entry_function() {
    // pc 1 jumps to 3 when r1 == 0; pc 3 is the last slot and not a jump.
    let (pc, kind) = reject("mov %r0, 0\njeq %r1, 0, +1\nexit\nmov %r0, 1");
    assert_eq!(pc, Some(3));
    assert_eq!(
        kind,
        K::FallsOffEnd {
            function: "main".into()
        }
    );
}

#[test]
fn path_running_off_the_end_of_a_subprogram() {
    // f = pcs 3..4 and its only instruction is a move.
    let (pc, kind) = reject("mov %r0, 0\ncall local f\nexit\nf:\nmov %r0, 1");
    assert_eq!(pc, Some(3));
    assert_eq!(
        kind,
        K::FallsOffEnd {
            function: "f".into()
        }
    );
    // A call as the last instruction returns into the next function.
    let (pc, kind) = reject("mov %r0, 0\ncall local f\nf:\nmov %r0, 1\nexit");
    assert_eq!(pc, Some(1));
    assert_eq!(
        kind,
        K::FallsOffEnd {
            function: "main".into()
        }
    );
}

#[test]
fn helper_unknown_to_the_runtime() {
    let (pc, kind) = reject("mov %r0, 0\ncall 7\nexit");
    assert_eq!(pc, Some(1));
    assert_eq!(kind, K::UnknownHelper { helper: 7 });
}

#[test]
fn kfunc_index_out_of_range() {
    let (pc, kind) = reject("call runtime 0\nexit");
    assert_eq!(pc, Some(0));
    assert_eq!(kind, K::KfuncIndexOutOfRange { index: 0, count: 0 });
}

#[test]
fn kfunc_not_registered() {
    let mut obj = object("mov %r0, 0\ncall runtime 1\nexit");
    obj.kfuncs = vec!["bpf_known_kfunc".into(), "bpf_other".into()];
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(1));
    assert_eq!(
        err.kind,
        K::UnknownKfunc {
            name: "bpf_other".into()
        }
    );
}

#[test]
fn kfunc_prototype_arguments_must_be_initialised() {
    use rvbpf_ebpf::object::{ArgWidening::Sign32, KfuncProto};
    // bpf_known_kfunc(int, int): r2 is never written before the call. Without
    // a prototype the arity is unknown and the same program passes.
    let mut obj = object("mov %r1, 1\ncall runtime 0\nexit");
    obj.kfuncs = vec!["bpf_known_kfunc".into()];
    assert!(verify_obj(&obj, 1).is_ok());
    obj.kfunc_protos = vec![Some(KfuncProto {
        args: vec![Sign32, Sign32],
    })];
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(1));
    assert_eq!(err.kind, K::UninitializedRegister { reg: Reg::R2 });
    // One declared argument: r1 is enough.
    obj.kfunc_protos[0].as_mut().unwrap().args.pop();
    assert!(verify_obj(&obj, 1).is_ok());
}

#[test]
fn map_index_out_of_range() {
    let mut obj = object("lddw %r1, map:2\nmov %r0, 0\nexit");
    obj.maps = vec![map("m", MapKind::Array)];
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(0));
    assert_eq!(err.kind, K::MapIndexOutOfRange { index: 2, count: 1 });
}

#[test]
fn map_value_offset_past_the_value() {
    // The test maps have 16-byte values: offset 15 is the last byte.
    let mut obj = object("mov %r0, 0\nlddw %r1, map_value:0+16\nexit");
    obj.maps = vec![map("m", MapKind::Array)];
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(1));
    assert_eq!(
        err.kind,
        K::MapValueOffsetOutOfRange {
            map: "m".into(),
            offset: 16,
            value_size: 16
        }
    );
    let mut obj = object("mov %r0, 0\nlddw %r1, map_value:0+15\nexit");
    obj.maps = vec![map("m", MapKind::Array)];
    verify_obj(&obj, 1).unwrap();
}

#[test]
fn writes_to_the_frame_pointer() {
    for (text, pc) in [
        ("mov %r10, 0\nexit", 0),
        ("mov %r0, 0\nadd %r10, -8\nexit", 1),
        ("mov %r0, 0\nldxdw %r10, [%r1]\nexit", 1),
        ("mov %r0, 0\nlddw %r10, 7\nexit", 1),
        // A fetching atomic writes the old value back into its source.
        ("mov %r0, 0\nlock fetch add [%r1], %r10\nexit", 1),
    ] {
        let (got_pc, kind) = reject(text);
        assert_eq!((got_pc, kind), (Some(pc), K::WriteToFramePointer), "{text}");
    }
    // Reading r10, storing it or using it as a base is fine.
    accept("mov %r2, %r10\nstxdw [%r10-8], %r10\nlock add [%r1], %r10\nmov %r0, 0\nexit");
}

#[test]
fn register_unwritten_on_one_path() {
    // When r1 == 0, pc 1 jumps to pc 3, skipping the write of r3.
    let (pc, kind) = reject("mov %r0, 0\njeq %r1, 0, +1\nmov %r3, 1\nmov %r0, %r3\nexit");
    assert_eq!(pc, Some(3));
    assert_eq!(kind, K::UninitializedRegister { reg: Reg::R3 });
}

#[test]
fn argument_registers_are_unreadable_after_a_helper_call() {
    let (pc, kind) = reject("mov %r1, 1\ncall 6\nmov %r0, %r1\nexit");
    assert_eq!(pc, Some(2));
    assert_eq!(kind, K::UninitializedRegister { reg: Reg::R1 });
    // r6..r9 survive calls.
    accept("mov %r6, 1\ncall 6\nmov %r0, %r6\nexit");
}

#[test]
fn entry_arguments_follow_the_environment() {
    let obj = object("mov %r0, %r2\nexit");
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(0));
    assert_eq!(err.kind, K::UninitializedRegister { reg: Reg::R2 });
    verify_obj(&obj, 2).unwrap();
    // Callee-saved registers are never initialised on entry.
    let err = verify_obj(&object("mov %r0, %r6\nexit"), 5).unwrap_err();
    assert_eq!(err.kind, K::UninitializedRegister { reg: Reg::R6 });
}

#[test]
fn exit_needs_a_return_value() {
    let (pc, kind) = reject("mov %r1, 0\nexit");
    assert_eq!(pc, Some(1));
    assert_eq!(kind, K::UninitializedRegister { reg: Reg::R0 });
}

#[test]
fn local_call_needs_the_arguments_the_callee_reads() {
    // f reads r2 before writing it, so its inferred arity is 2; main only
    // set r1 (and received r1), so the call at pc 1 is rejected.
    let (pc, kind) = reject("mov %r1, 1\ncall local f\nexit\nf:\nmov %r0, %r2\nexit");
    assert_eq!(pc, Some(1));
    assert_eq!(kind, K::UninitializedRegister { reg: Reg::R2 });
}

#[test]
fn btf_argument_count_limits_the_callee() {
    // With BTF saying f takes one argument, f's read of r2 at pc 4 is unwritten.
    let mut obj = object("mov %r1, 1\nmov %r2, 2\ncall local f\nexit\nf:\nmov %r0, %r2\nexit");
    assert_eq!(obj.programs[0].functions[1].start, 4);
    obj.programs[0].functions[1].arg_count = Some(1);
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(4));
    assert_eq!(err.kind, K::UninitializedRegister { reg: Reg::R2 });
}

#[test]
fn stack_access_above_the_frame_pointer() {
    // A 4-byte store at r10-2 covers r10-2..r10+2.
    let (pc, kind) = reject("stw [%r10-2], 0\nmov %r0, 0\nexit");
    assert_eq!(pc, Some(0));
    assert_eq!(
        kind,
        K::StackOutOfBounds {
            offset: -2,
            size: 4
        }
    );
}

#[test]
fn stack_access_below_512_bytes_through_a_register() {
    // r2 = r10 - 512, then a byte at r2 - 1 = r10 - 513.
    let (pc, kind) = reject("mov %r2, %r10\nadd %r2, -512\nstxb [%r2-1], %r1\nmov %r0, 0\nexit");
    assert_eq!(pc, Some(2));
    assert_eq!(
        kind,
        K::StackOutOfBounds {
            offset: -513,
            size: 1
        }
    );
    // r3 = r10 - 600 via sub, load at +0.
    let (pc, kind) = reject("mov %r3, %r10\nsub %r3, 600\nldxb %r0, [%r3]\nexit");
    assert_eq!(pc, Some(2));
    assert_eq!(
        kind,
        K::StackOutOfBounds {
            offset: -600,
            size: 1
        }
    );
    // Constants in registers count too: r4 = -520, r2 = r10 + r4.
    let (pc, kind) = reject("mov %r4, -520\nmov %r2, %r10\nadd %r2, %r4\nldxdw %r0, [%r2]\nexit");
    assert_eq!(pc, Some(3));
    assert_eq!(
        kind,
        K::StackOutOfBounds {
            offset: -520,
            size: 8
        }
    );
}

#[test]
fn recursion_through_two_functions() {
    // main -> f (pc 1), f -> g (pc 3), g -> f (pc 5) closes the cycle.
    let text = "mov %r0, 0\ncall local f\nexit\nf:\ncall local g\nexit\ng:\ncall local f\nexit";
    let (pc, kind) = reject(text);
    assert_eq!(pc, Some(5));
    assert_eq!(
        kind,
        K::Recursion {
            function: "f".into(),
            chain: "`f` -> `g` -> `f`".into()
        }
    );
}

#[test]
fn direct_recursion_and_recursion_into_the_entry() {
    let (pc, kind) = reject("mov %r0, 0\ncall local f\nexit\nf:\ncall local f\nexit");
    assert_eq!(pc, Some(3));
    assert!(matches!(kind, K::Recursion { ref function, .. } if function == "f"));
    // f at pc 3 calls pc 3 + 1 - 4 = 0, the entry function.
    let (pc, kind) = reject("mov %r0, 0\ncall local f\nexit\nf:\ncall local -4\nexit");
    assert_eq!(pc, Some(3));
    assert!(matches!(kind, K::Recursion { ref function, .. } if function == "main"));
}

/// r1 = ctx, r2 = map 0, r3 = index 0, call bpf_tail_call; lddw at pcs 0-1,
/// the call at pc 3.
const TAIL_CALL: &str = "lddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit";

#[test]
fn tail_call_through_a_map_that_is_not_a_prog_array() {
    for (kind, name) in [(MapKind::Array, "array"), (MapKind::Hash, "hash")] {
        let mut obj = object(TAIL_CALL);
        obj.maps = vec![map("jmp", kind)];
        let err = verify_obj(&obj, 1).unwrap_err();
        assert_eq!(err.pc, Some(3));
        assert_eq!(
            err.kind,
            K::TailCallMapNotProgArray {
                map: "jmp".into(),
                kind: name.into()
            }
        );
    }
    let mut obj = object(TAIL_CALL);
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    verify_obj(&obj, 1).unwrap();
}

#[test]
fn tail_call_with_something_else_in_r2() {
    let (pc, kind) = reject("mov %r2, %r10\nadd %r2, -8\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit");
    assert_eq!(pc, Some(3));
    assert_eq!(
        kind,
        K::TailCallNotAMap {
            what: "a stack pointer"
        }
    );
    let (pc, kind) = reject("mov %r2, 5\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit");
    assert_eq!(pc, Some(2));
    assert_eq!(kind, K::TailCallNotAMap { what: "a constant" });
    // Not statically known: left to the runtime.
    accept("ldxdw %r2, [%r1]\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit");
}

#[test]
fn tail_call_reads_its_three_arguments() {
    let mut obj = object("lddw %r2, map:0\ncall 12\nmov %r0, 0\nexit");
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(2));
    assert_eq!(err.kind, K::UninitializedRegister { reg: Reg::R3 });
}

#[test]
fn tail_call_leaves_no_return_value() {
    // A failed tail call continues at pc 4 (lddw at pcs 0-1); r0 is not
    // defined there, as in Linux where bpf_tail_call returns void.
    let mut obj = object("lddw %r2, map:0\nmov %r3, 0\ncall 12\nexit");
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(4));
    assert_eq!(err.kind, K::UninitializedRegister { reg: Reg::R0 });
}

#[test]
fn long_jump_leaving_the_function() {
    // ja32 at pc 1 jumps to 1 + 1 + 100000 = 100002.
    let (pc, kind) = reject("mov %r0, 0\nja32 +100000\nexit");
    assert_eq!(pc, Some(1));
    assert!(
        matches!(
            kind,
            K::JumpOutOfFunction {
                target: 100_002,
                ..
            }
        ),
        "{kind:?}"
    );
}

#[test]
fn tail_call_in_a_subprogram_not_returning_int() {
    // t = pcs 3..9, its tail call at pc 6 (lddw at 3-4, mov at 5).
    let text = "mov %r0, 0\ncall local t\nexit\n\
                t:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit";
    let mut obj = object(text);
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    obj.programs[0].functions[1].returns_int = Some(false);
    let err = verify_obj(&obj, 1).unwrap_err();
    assert_eq!(err.pc, Some(6));
    assert_eq!(
        err.kind,
        K::TailCallInNonIntFunction {
            function: "t".into()
        }
    );
    // Returning an int, or no BTF at all, is fine; so is a void entry function.
    for ret in [Some(true), None] {
        obj.programs[0].functions[1].returns_int = ret;
        verify_obj(&obj, 1).unwrap();
    }
    let mut obj = object("lddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit");
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    obj.programs[0].functions[0].returns_int = Some(false);
    verify_obj(&obj, 1).unwrap();
}

#[test]
fn legacy_packet_load_with_subprograms() {
    // pc 0 calls pc 3; the ldabs at pc 1 is in the entry function, but the
    // program has a bpf2bpf function, which Linux forbids with ld_abs.
    let err = verify_obj(
        &object("mov %r6, %r1\nldabsb 0\ncall local f\nexit\nf:\nmov %r0, 1\nexit"),
        1,
    )
    .unwrap_err();
    assert_eq!(err.pc, Some(1));
    assert_eq!(err.kind, K::LegacyPacketLoadWithCalls);
    // Without the subprogram it is accepted.
    verify_obj(&object("mov %r6, %r1\nldabsb 0\nexit"), 1).unwrap();
}
