//! Valid programs the verifier must accept, and the facts it hands to the
//! engines, checked against values worked out by hand in the comments.

mod verifier_util;

use rvbpf_ebpf::insn::{op, pseudo, Insn};
use rvbpf_ebpf::inst::{Inst, LddwKind, Reg};
use rvbpf_ebpf::object::MapKind;
use verifier_util::*;

/// Bit mask of the given registers.
fn regs(list: &[u8]) -> u16 {
    list.iter().fold(0, |m, &r| m | 1 << r)
}

#[test]
fn counting_loop() {
    // pc 4 jumps back to pc 4 + 1 - 3 = 2.
    let p =
        accept("mov %r0, 0\nmov %r2, 10\nloop:\nadd %r0, %r2\nsub %r2, 1\njne %r2, 0, loop\nexit");
    assert_eq!(p.functions().len(), 1);
    assert_eq!(p.functions()[0].stack_depth, 0);
}

#[test]
fn register_written_in_every_iteration_before_its_use() {
    // r4 is first written inside the loop body, read after the loop: every
    // path to pc 4 passes pc 1.
    accept("mov %r3, 0\nloop:\nmov %r4, %r3\nadd %r3, 1\njlt %r3, 5, loop\nmov %r0, %r4\nexit");
}

#[test]
fn nested_loops_with_a_stack_counter() {
    accept(
        "mov %r0, 0\nstdw [%r10-8], 0\nouter:\nmov %r2, 3\ninner:\nadd %r0, 1\nsub %r2, 1\n\
         jne %r2, 0, inner\nldxdw %r3, [%r10-8]\nadd %r3, 1\nstxdw [%r10-8], %r3\n\
         jlt %r3, 4, outer\nexit",
    );
}

#[test]
fn lddw_forms_and_jumping_over_a_lddw() {
    // pc 1 jumps to 1 + 1 + 2 = 4 (the exit), over the lddw at pcs 2-3.
    let p = accept("mov %r0, 0\njeq %r1, 0, +2\nlddw %r0, 0x1122334455667788\nexit");
    assert_eq!(
        p.insts()[2],
        Inst::Lddw {
            dst: Reg::R0,
            kind: LddwKind::Imm(0x1122_3344_5566_7788)
        }
    );
    assert_eq!(p.insts()[3], Inst::LddwHigh);
    assert_eq!(p.insts().len(), p.insns().len());

    let mut obj = object("lddw %r1, map:1\nlddw %r2, map_value:0+8\nldxdw %r0, [%r2]\nexit");
    obj.maps = vec![map("data", MapKind::Array), map("h", MapKind::Hash)];
    let p = verify_obj(&obj, 1).unwrap();
    assert_eq!(p.maps().len(), 2);
    assert_eq!(p.maps()[1].name, "h");
}

#[test]
fn unreachable_code_after_exit_may_end_anyhow() {
    // The last slot is a move, but no path reaches it.
    accept("mov %r0, 0\nexit\nmov %r0, 1");
}

#[test]
fn stack_pointer_arithmetic_through_registers() {
    // r2 = r10 - 16: stores at r10-16 and r10-24 (deepest byte 24 -> 32),
    // load at r10-8.
    let p = accept(
        "mov %r2, %r10\nadd %r2, -16\nstxdw [%r2+0], %r1\nstxdw [%r2-8], %r1\n\
         ldxdw %r0, [%r2+8]\nexit",
    );
    assert_eq!(p.functions()[0].stack_depth, 32);
    // The same pointer built with sub and a register constant: r3 = 40,
    // r2 = r10 - 40, 4 bytes at r10-40.
    let p = accept("mov %r3, 40\nmov %r2, %r10\nsub %r2, %r3\nstw [%r2], 1\nmov %r0, 0\nexit");
    assert_eq!(p.functions()[0].stack_depth, 48);
    // Copies keep the offset; the whole 512 bytes are usable.
    let p = accept("mov %r2, %r10\nmov %r3, %r2\nstxdw [%r3-512], %r1\nmov %r0, 0\nexit");
    assert_eq!(p.functions()[0].stack_depth, 512);
}

#[test]
fn stack_depth_is_rounded_up_to_16() {
    for (store, depth) in [
        ("", 0),
        ("stb [%r10-1], 0\n", 16),
        ("stdw [%r10-16], 0\n", 16),
        ("sth [%r10-18], 0\n", 32),
        ("stw [%r10-20], 0\n", 32),
        ("stb [%r10-497], 0\n", 512),
    ] {
        let p = accept(&format!("{store}mov %r0, 0\nexit"));
        assert_eq!(p.functions()[0].stack_depth, depth, "{store}");
    }
}

#[test]
fn stack_pointer_with_path_dependent_offset_reserves_the_whole_frame() {
    // At pc 4, r2 is r10-8 or r10-16 depending on the path: not static.
    let p = accept(
        "mov %r2, %r10\nadd %r2, -8\njeq %r1, 0, +1\nadd %r2, -8\nstb [%r2], 0\nmov %r0, 0\nexit",
    );
    assert_eq!(p.functions()[0].stack_depth, 512);
}

#[test]
fn call_graph_facts() {
    // pcs: main 0..4, a 4..6, b 6..12 (lddw at 6-7), c 12..14.
    let text = "mov %r0, 0\ncall local a\ncall local c\nexit\n\
                a:\ncall local b\nexit\n\
                b:\nlddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit\n\
                c:\nmov %r0, 1\nexit";
    let mut obj = object(text);
    obj.maps = vec![map("jmp", MapKind::ProgArray)];
    let p = verify_obj(&obj, 1).unwrap();
    let f = p.functions();
    let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["main", "a", "b", "c"]);
    let spans: Vec<(usize, usize)> = f.iter().map(|f| (f.start, f.end)).collect();
    assert_eq!(spans, [(0, 4), (4, 6), (6, 12), (12, 14)]);
    assert_eq!(f[0].callees, [1, 3]);
    assert_eq!(f[1].callees, [2]);
    assert!(f[2].callees.is_empty() && f[3].callees.is_empty());

    // Only b tail-calls; main and a reach it, c does not.
    let has: Vec<bool> = f.iter().map(|f| f.has_tail_call).collect();
    assert_eq!(has, [false, false, true, false]);
    let reach: Vec<bool> = f.iter().map(|f| f.tail_call_reachable).collect();
    assert_eq!(reach, [true, true, true, false]);
    assert!(p.tail_call_reachable());

    let calls: Vec<(bool, bool)> = f
        .iter()
        .map(|f| (f.makes_calls, f.makes_helper_calls))
        .collect();
    assert_eq!(
        calls,
        [(true, false), (true, false), (true, true), (false, false)]
    );

    // b passes its r1 on to the tail call unwritten: one argument; a hands
    // its r1 to b: one argument; c reads none; main has entry_args = 1.
    let args: Vec<u8> = f.iter().map(|f| f.arg_count).collect();
    assert_eq!(args, [1, 1, 1, 0]);

    // main: call a reads r1 (a's one argument), exit reads r0.
    assert_eq!(f[0].regs_read, regs(&[0, 1]));
    assert_eq!(f[0].regs_written, regs(&[0]));
    assert_eq!(f[1].regs_read, regs(&[0, 1]));
    // b: the tail call reads r1..r3; exit r0. Writes r2, r3, r0.
    assert_eq!(f[2].regs_read, regs(&[0, 1, 2, 3]));
    assert_eq!(f[2].regs_written, regs(&[0, 2, 3]));
    assert_eq!(f[3].regs_read, regs(&[0]));

    assert_eq!(p.function_at(0), 0);
    assert_eq!(p.function_at(5), 1);
    assert_eq!(p.function_at(7), 2);
    assert_eq!(p.function_at(13), 3);
}

#[test]
fn no_tail_call_anywhere() {
    let p = accept("mov %r0, 0\ncall local f\nexit\nf:\nmov %r0, 1\nexit");
    assert!(!p.tail_call_reachable());
    assert!(p.functions().iter().all(|f| !f.tail_call_reachable));
}

#[test]
fn register_masks_include_implicit_uses() {
    let p = accept(
        "mov %r6, %r1\nstxdw [%r10-8], %r6\nldxdw %r7, [%r10-8]\nmov %r0, 0\n\
         lock cmpxchg [%r10-8], %r7\ncall 6\nmov %r9, %r7\nadd %r0, %r9\nexit",
    );
    let f = &p.functions()[0];
    // Explicit: r1, r6, r7, r9, r10 (bases), r0 (add, exit); implicit: r0 by
    // cmpxchg, r1..r5 by the helper call.
    assert_eq!(f.regs_read, regs(&[0, 1, 2, 3, 4, 5, 6, 7, 9, 10]));
    assert_eq!(f.regs_written, regs(&[0, 6, 7, 9]));
    assert_eq!(f.stack_depth, 16);
}

#[test]
fn argument_count_is_inferred_from_reads_before_writes() {
    // f writes r5 before reading it; the highest argument read first is r2.
    let p = accept(
        "mov %r1, 1\nmov %r2, 2\ncall local f\nexit\nf:\nmov %r5, 1\nmov %r0, %r5\nadd %r0, %r2\nexit",
    );
    assert_eq!(p.functions()[1].arg_count, 2);
    // BTF wins: f declared with four arguments (and the caller sets r1..r4).
    let mut obj = object(
        "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\ncall local f\nexit\nf:\nmov %r0, %r1\nexit",
    );
    obj.programs[0].functions[1].arg_count = Some(4);
    let p = verify_obj(&obj, 1).unwrap();
    assert_eq!(p.functions()[1].arg_count, 4);
    assert_eq!(p.functions()[0].arg_count, 1);
}

#[test]
fn callers_provide_what_the_callee_reads_not_what_btf_declares() {
    // clang drops constant arguments of static functions but BTF keeps the
    // source prototype: f is declared with 3 arguments, reads r1 and r2,
    // and the caller sets only those.
    let mut obj = object(
        "mov %r2, 2
call local f
exit
f:
mov %r0, %r1
add %r0, %r2
exit",
    );
    obj.programs[0].functions[1].arg_count = Some(3);
    let p = verify_obj(&obj, 1).unwrap();
    assert_eq!(p.functions()[1].arg_count, 3);
    // The call reads r1 and r2 (what f uses); exit reads r0.
    assert_eq!(p.functions()[0].regs_read, regs(&[0, 1, 2]));
}

#[test]
fn callee_saved_registers_survive_local_calls() {
    accept("mov %r6, 7\ncall local f\nadd %r0, %r6\nexit\nf:\nmov %r0, 1\nexit");
}

#[test]
fn functions_without_names_are_sub_pc() {
    // Raw slots with no function table: call local +1 at pc 1 targets pc 3.
    let call = Insn::new(op::JMP | op::CALL, 0, pseudo::CALL_LOCAL, 0, 1);
    let mov0 = Insn::new(op::ALU64 | op::MOV | op::K, 0, 0, 0, 0);
    let exit = Insn::new(op::JMP | op::EXIT, 0, 0, 0, 0);
    let p = verify_obj(&raw_object(vec![mov0, call, exit, mov0, exit]), 1).unwrap();
    let names: Vec<&str> = p.functions().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["main", "sub_3"]);
    assert_eq!(p.name(), "main");
    assert_eq!(p.object_name(), "raw.o");
}

#[test]
fn function_referenced_by_address_is_a_function() {
    // lddw func at pcs 0-1 points at pc 0 + 1 + 3 = 4 (cb).
    let p = accept("lddw %r2, func:cb\nmov %r0, 0\nexit\ncb:\nmov %r0, 1\nexit");
    let spans: Vec<(usize, usize)> = p.functions().iter().map(|f| (f.start, f.end)).collect();
    assert_eq!(spans, [(0, 4), (4, 6)]);
    assert!(p.functions()[0].callees.is_empty());
}

#[test]
fn known_kfunc_and_program_metadata() {
    let mut obj = object("call runtime 0\nexit");
    obj.kfuncs = vec!["bpf_known_kfunc".into()];
    obj.programs[0].section = "tc".into();
    let p = verify_obj(&obj, 1).unwrap();
    assert_eq!(p.kfuncs(), ["bpf_known_kfunc"]);
    assert_eq!(p.section(), "tc");
    assert!(p.functions()[0].makes_helper_calls);
    assert_eq!(p.insns(), obj.programs[0].insns.as_slice());
}

#[test]
fn callx_and_helper_results() {
    // r0 after a helper call or callx holds the result.
    accept("mov %r2, 6\ncall %r2\nmov %r1, %r0\ncall 6\nexit");
}

#[test]
fn stack_buffers_passed_to_calls_count_towards_the_depth() {
    // The helper fills r10-40..r10 (buffer at r1, 40 bytes): depth 40 -> 48,
    // though the program itself only reads r10-8.
    let p = accept("mov %r1, %r10\nadd %r1, -40\nmov %r2, 40\ncall 6\nldxdw %r0, [%r10-8]\nexit");
    assert_eq!(p.functions()[0].stack_depth, 48);
    // Same for a buffer handed to a subprogram in r2.
    let p = accept(
        "mov %r2, %r10\nadd %r2, -100\ncall local f\nexit\nf:\nstb [%r2+0], 1\nmov %r0, 0\nexit",
    );
    assert_eq!(p.functions()[0].stack_depth, 112);
    assert_eq!(p.functions()[1].stack_depth, 0);
}

#[test]
fn loop_back_to_the_first_instruction() {
    // pc 2 jumps to 2 + 1 - 3 = 0, the entry point itself.
    accept("add %r1, 1\nmov %r0, %r1\njlt %r1, 10, -3\nexit");
}

#[test]
fn long_and_32_bit_jumps() {
    // ja32 at pc 1 jumps to 1 + 1 + 1 = 3; jeq32 at pc 0 to 0 + 1 + 2 = 3.
    accept("jeq32 %r1, 5, +2\nja32 +1\nexit\nmov %r0, 1\nexit");
}
