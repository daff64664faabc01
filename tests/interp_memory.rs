//! Memory safety: every stray access is a typed error naming pc and address.

mod runtime_support;

use runtime_support::{global_section, load_raw, map, object, raw, run, try_run};
use rvbpf::ebpf::object::MapKind;
use rvbpf::memory::{CTX_BASE, MAPS_BASE, STACK_TOP};
use rvbpf::{Access, Ctx, RunError, Vm};

fn run_err(asm: &str, input: &[u8]) -> RunError {
    let mut vm = Vm::new();
    let p = load_raw(&mut vm, asm);
    try_run(&mut vm, p, &Ctx::raw(input.to_vec())).expect_err("the run must fault")
}

/// Like [`run_err`] on the interpreter only: per-frame stack bounds on
/// pointers the verifier does not follow are an interpreter check; JIT code
/// relies on the verifier and does not bound-check stack accesses.
fn run_err_interp(asm: &str, input: &[u8]) -> RunError {
    let mut vm = Vm::new();
    let p = load_raw(&mut vm, asm);
    vm.run(p, &Ctx::raw(input.to_vec()), rvbpf::Engine::Interp)
        .expect_err("the run must fault")
}

#[test]
fn null_dereference() {
    let e = run_err("mov %r1, 0\nldxdw %r0, [%r1]\nexit", &[]);
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 1,
            addr: 0,
            size: 8,
            access: Access::Read
        }
    );
    let e = run_err("mov %r1, 0\nstw [%r1+16], 7\nmov %r0, 0\nexit", &[]);
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 1,
            addr: 16,
            size: 4,
            access: Access::Write
        }
    );
}

#[test]
fn stack_access_below_the_frame() {
    // The offset (-520) comes from the input so it is not static: the
    // verifier gives the frame 512 bytes and the engine must catch the rest.
    let asm = "ldxdw %r2, [%r1]\nmov %r3, %r10\nadd %r3, %r2\nldxdw %r0, [%r3]\nexit";
    let e = run_err_interp(asm, &(-520i64).to_le_bytes());
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 3,
            addr: STACK_TOP - 520,
            size: 8,
            access: Access::Read
        }
    );
    // -512 is the last valid slot of the frame.
    let mut vm = Vm::new();
    let p = load_raw(&mut vm, asm);
    assert_eq!(
        run(&mut vm, p, &Ctx::raw((-512i64).to_le_bytes().to_vec())).ret,
        0
    );
}

#[test]
fn stack_access_above_the_top() {
    let e = run_err_interp(
        "mov %r3, %r10\nldxdw %r2, [%r1]\nadd %r3, %r2\nldxb %r0, [%r3]\nexit",
        &0i64.to_le_bytes(),
    );
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 3,
            addr: STACK_TOP,
            size: 1,
            access: Access::Read
        }
    );
}

#[test]
fn callee_may_use_its_callers_frame_through_a_pointer() {
    // main: *(u64*)(r10-8) = 42; r1 = r10-8; call sub; exit.  sub: r0 = *r1.
    let asm = "mov %r6, 42\nstxdw [%r10-8], %r6\nmov %r1, %r10\nadd %r1, -8\ncall local sub\nexit\nsub:\nldxdw %r0, [%r1]\nexit";
    let mut vm = Vm::new();
    let p = load_raw(&mut vm, asm);
    assert_eq!(run(&mut vm, p, &Ctx::empty()).ret, 42);
}

#[test]
fn raw_ctx_is_bounded_by_the_input() {
    let e = run_err("ldxw %r0, [%r1+6]\nexit", &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 0,
            addr: CTX_BASE + 6,
            size: 4,
            access: Access::Read
        }
    );
}

#[test]
fn access_past_a_map_value() {
    // Array map with one 8-byte value: [value+8] is outside every region.
    let asm = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map:0\ncall 1\njeq %r0, 0, +2\nldxdw %r0, [%r0+8]\nexit\nmov %r0, 1\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "t",
            vec![raw("t", asm)],
            vec![map("arr", MapKind::Array, 4, 8, 1)],
        ))
        .unwrap();
    let p = vm.program(o, "t").unwrap();
    let e = try_run(&mut vm, p, &Ctx::empty()).unwrap_err();
    // First map of a fresh VM: values at MAPS_BASE. lddw takes two slots, so
    // the load is at pc 7.
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 7,
            addr: MAPS_BASE + 8,
            size: 8,
            access: Access::Read
        }
    );
}

#[test]
fn writes_to_rodata_are_rejected() {
    let rodata = global_section(".rodata", 5u64.to_le_bytes().to_vec(), &["five"], true);
    let asm = "lddw %r1, map_value:0+0\nldxdw %r0, [%r1]\nstdw [%r1], 1\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("t", vec![raw("t", asm)], vec![rodata]))
        .unwrap();
    let p = vm.program(o, "t").unwrap();
    let e = try_run(&mut vm, p, &Ctx::empty()).unwrap_err();
    assert_eq!(
        e,
        RunError::ReadOnly {
            pc: 3,
            addr: MAPS_BASE,
            size: 8
        }
    );
    // Reading it is fine.
    let asm = "lddw %r1, map_value:0+0\nldxdw %r0, [%r1]\nexit";
    let rodata = global_section(".rodata", 5u64.to_le_bytes().to_vec(), &["five"], true);
    let o = vm
        .load_object(object("u", vec![raw("u", asm)], vec![rodata]))
        .unwrap();
    let p = vm.program(o, "u").unwrap();
    assert_eq!(run(&mut vm, p, &Ctx::empty()).ret, 5);
}

#[test]
fn helper_faults_name_the_call_site() {
    // map_lookup_elem with a NULL key pointer.
    let asm = "mov %r2, 0\nlddw %r1, map:0\ncall 1\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "t",
            vec![raw("t", asm)],
            vec![map("h", MapKind::Hash, 4, 8, 4)],
        ))
        .unwrap();
    let p = vm.program(o, "t").unwrap();
    let e = try_run(&mut vm, p, &Ctx::empty()).unwrap_err();
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 3,
            addr: 0,
            size: 4,
            access: Access::Read
        }
    );
}

#[test]
fn infinite_loop_exhausts_the_budget() {
    let mut vm = Vm::new();
    vm.set_insn_budget(1000);
    let p = load_raw(&mut vm, "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit");
    let e = try_run(&mut vm, p, &Ctx::empty()).unwrap_err();
    assert!(
        matches!(e, RunError::BudgetExhausted { pc: 1 | 2 }),
        "{e:?}"
    );
    // Exactly the budget: 1 mov + 499 × (add, ja) = 999 insns, then the 500th add is #1000.
    // The 1001st instruction (the ja at pc 2) is the one refused.
    assert_eq!(e, RunError::BudgetExhausted { pc: 2 });
    // The VM stays usable after a fault.
    let q = load_raw(&mut vm, "mov %r0, 3\nexit");
    assert_eq!(run(&mut vm, q, &Ctx::empty()).ret, 3);
}

#[test]
fn each_frame_gets_exactly_its_stack_depth() {
    // The frame pointer travels through a stack slot, which the verifier does
    // not follow, so the function's static depth stays 16 bytes (8 used,
    // rounded up to 16) and r10-24 lies below the frame: the engine must
    // refuse it even though the stack region continues below.
    let asm = "mov %r2, %r10\nstxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nldxdw %r0, [%r3-24]\nexit";
    let e = run_err_interp(asm, &[]);
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 3,
            addr: STACK_TOP - 24,
            size: 8,
            access: Access::Read
        }
    );
    // r10-16 is inside the 16-byte frame.
    let ok = "mov %r2, %r10\nstxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nldxdw %r0, [%r3-16]\nexit";
    let mut vm = Vm::new();
    let p = load_raw(&mut vm, ok);
    assert!(try_run(&mut vm, p, &Ctx::empty()).is_ok());
}

#[test]
fn a_callee_cannot_reach_below_its_own_frame() {
    // main (16-byte frame) calls sub, whose frame is 16 bytes below main's.
    // sub smuggles its r10 through the stack and reads 8 bytes below its frame.
    let asm = "stdw [%r10-8], 1\ncall local sub\nexit\nsub:\nmov %r2, %r10\nstxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nldxdw %r0, [%r3-24]\nexit";
    let e = run_err_interp(asm, &[]);
    assert_eq!(
        e,
        RunError::OutOfBounds {
            pc: 6,
            addr: STACK_TOP - 16 - 24,
            size: 8,
            access: Access::Read
        }
    );
}

#[test]
fn legacy_packet_loads_are_big_endian_and_end_the_program_when_out_of_range() {
    use runtime_support::tc;
    let mut pkt = vec![0u8; 54];
    pkt[12] = 0x08; // ethertype 0x0800 at offset 12
    pkt[14] = 0x45;
    pkt[50] = 0xde;
    pkt[51] = 0xad;
    pkt[52] = 0xbe;
    pkt[53] = 0xef;
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "p",
            vec![
                tc("half", "mov %r6, %r1\nldabsh 12\nexit"),
                tc("word", "mov %r6, %r1\nmov %r7, 10\nldindw %r7, 40\nexit"),
                tc("byte", "mov %r6, %r1\nldabsb 14\nexit"),
                // Offset 52 + 4 > 54: the program ends with r0 = 0 before `mov r0, 7`.
                tc("past", "mov %r6, %r1\nldabsw 52\nmov %r0, 7\nexit"),
            ],
            vec![],
        ))
        .unwrap();
    let mut ret = |name: &str| {
        let p = vm.program(o, name).unwrap();
        run(&mut vm, p, &Ctx::new(pkt.clone())).ret
    };
    assert_eq!(ret("half"), 0x0800);
    assert_eq!(ret("word"), 0xdead_beef);
    assert_eq!(ret("byte"), 0x45);
    assert_eq!(ret("past"), 0);
}

/// A failed legacy load ends the *current program* with r0 = 0, as Linux's
/// JITs do (they jump to the program's epilogue). After a tail call made in
/// a subprogram, that program's frame returns to the subprogram's caller:
/// entry calls `sub`, `sub` tail-calls `legacy`, whose `ldabsw 1000` is past
/// the 54-byte packet, so `sub`'s call returns 0 and entry returns 100 + 0.
#[test]
fn failed_legacy_load_returns_zero_from_the_current_program() {
    use runtime_support::{prog_array, tc};
    let mut vm = Vm::new();
    let o = vm
        .load_object(object(
            "p",
            vec![
                tc(
                    "entry",
                    "call local sub
add %r0, 100
exit
                     sub:
lddw %r2, map:0
mov %r3, 0
call 12
mov %r0, 7
exit",
                ),
                tc(
                    "legacy",
                    "mov %r6, %r1
ldabsw 1000
mov %r0, 5
exit",
                ),
            ],
            vec![prog_array("jmp_table", 1)],
        ))
        .unwrap();
    let (entry, legacy) = (
        vm.program(o, "entry").unwrap(),
        vm.program(o, "legacy").unwrap(),
    );
    vm.prog_array_set(vm.map(o, "jmp_table").unwrap(), 0, legacy)
        .unwrap();
    assert_eq!(run(&mut vm, entry, &Ctx::new(vec![0u8; 54])).ret, 100);
}

#[test]
fn located_errors_name_the_faulting_tail_called_program() {
    use runtime_support::{prog_array, tc};
    let faulty = tc("faulty", "mov %r1, 0\nldxdw %r0, [%r1]\nexit");
    let entry = tc(
        "entry",
        "lddw %r2, map:0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
    );
    let mut table = prog_array("jt", 1);
    table.prog_init = vec![(0, "faulty".into())];
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("obj", vec![faulty, entry], vec![table]))
        .unwrap();
    let entry = vm.program(o, "entry").unwrap();
    let e = vm
        .run_located(entry, &Ctx::zeros(14), rvbpf::Engine::Interp)
        .unwrap_err();
    match e {
        rvbpf::Error::Run {
            object,
            program,
            source,
        } => {
            assert_eq!((object.as_str(), program.as_str()), ("obj", "faulty"));
            assert_eq!(source.pc(), Some(1));
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        vm.last_fault_program(),
        Some(vm.program(o, "faulty").unwrap())
    );
}
