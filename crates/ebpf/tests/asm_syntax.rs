//! Assembler syntax and encodings, with expected bytes worked out by hand
//! from RFC 9669's opcode tables (class | size/op | mode/source).

use rvbpf_ebpf::asm::{assemble, assemble_object, AsmErrorKind};
use rvbpf_ebpf::disasm::listing;
use rvbpf_ebpf::insn::Insn;
use rvbpf_ebpf::inst::encode_program;
use rvbpf_ebpf::object::{MapDef, MapKind};

fn slots(text: &str) -> Vec<Insn> {
    encode_program(&assemble(text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

fn one(text: &str) -> (u8, u8, u8, i16, i32) {
    let s = slots(text);
    (s[0].opc, s[0].dst, s[0].src, s[0].off, s[0].imm)
}

#[test]
fn encodings_match_the_rfc_tables() {
    // ALU64 (0x07) | MOV (0xb0) | K = 0xb7; ALU (0x04) | ADD | X (0x08) = 0x0c.
    assert_eq!(one("mov %r0, 1"), (0xb7, 0, 0, 0, 1));
    assert_eq!(one("mov64 %r0, -1"), (0xb7, 0, 0, 0, -1));
    assert_eq!(one("add32 %r3, %r4"), (0x0c, 3, 4, 0, 0));
    // sdiv: DIV (0x30) with offset 1; smod32 imm: ALU | MOD (0x90) = 0x94.
    assert_eq!(one("sdiv %r1, 3"), (0x37, 1, 0, 1, 3));
    assert_eq!(one("smod32 %r1, %r2"), (0x9c, 1, 2, 1, 0));
    // movsx: MOV | X with offset = source width.
    assert_eq!(one("movsx832 %r2, %r1"), (0xbc, 2, 1, 8, 0));
    assert_eq!(one("movsx3264 %r0, %r9"), (0xbf, 0, 9, 32, 0));
    // neg: NEG (0x80) with no operand fields.
    assert_eq!(one("neg32 %r5"), (0x84, 5, 0, 0, 0));
    // Endianness: ALU | END (0xd0) | TO_BE (0x08) = 0xdc; bswap is ALU64 | END = 0xd7.
    assert_eq!(one("be16 %r1"), (0xdc, 1, 0, 0, 16));
    assert_eq!(one("le64 %r1"), (0xd4, 1, 0, 0, 64));
    assert_eq!(one("bswap32 %r1"), (0xd7, 1, 0, 0, 32));
    assert_eq!(one("swap16 %r1"), (0xd7, 1, 0, 0, 16));
    // Loads/stores: LDX (0x01) | MEM (0x60) | W (0x00) = 0x61; MEMSX (0x80) | B (0x10) = 0x91.
    assert_eq!(one("ldxw %r0, [%r1+4]"), (0x61, 0, 1, 4, 0));
    assert_eq!(one("ldxsb %r0, [%r10-1]"), (0x91, 0, 10, -1, 0));
    assert_eq!(one("stxdw [%r10-8], %r1"), (0x7b, 10, 1, -8, 0));
    assert_eq!(one("stw [%r1], 5"), (0x62, 1, 0, 0, 5));
    assert_eq!(
        one("sth [%r1+0x7fff], 0xffff"),
        (0x6a, 1, 0, 0x7fff, 0xffff)
    );
    // Atomics: STX | ATOMIC (0xc0) | W = 0xc3, imm = op | FETCH (1).
    assert_eq!(one("lock add32 [%r1+4], %r2"), (0xc3, 1, 2, 4, 0x00));
    assert_eq!(one("lock fetch or [%r1], %r2"), (0xdb, 1, 2, 0, 0x41));
    assert_eq!(one("lock fetch_xor32 [%r1], %r2"), (0xc3, 1, 2, 0, 0xa1));
    assert_eq!(one("lock xchg [%r10-8], %r3"), (0xdb, 10, 3, -8, 0xe1));
    assert_eq!(one("lock cmpxchg32 [%r10-8], %r3"), (0xc3, 10, 3, -8, 0xf1));
    // Jumps: JMP (0x05) | JEQ (0x10) | K = 0x15; JMP32 (0x06) | JA = 0x06 with imm.
    assert_eq!(one("jeq %r1, 0x5, +2"), (0x15, 1, 0, 2, 5));
    assert_eq!(one("jsgt32 %r1, %r2, -3"), (0x6e, 1, 2, -3, 0));
    assert_eq!(one("ja32 +70000"), (0x06, 0, 0, 0, 70000));
    assert_eq!(one("gotol -1"), (0x06, 0, 0, 0, -1));
    // Calls: src 0 helper, 1 local, 2 kfunc; callx puts the register in dst.
    assert_eq!(one("call 1"), (0x85, 0, 0, 0, 1));
    assert_eq!(one("call local +3"), (0x85, 0, 1, 0, 3));
    assert_eq!(one("call runtime 7"), (0x85, 0, 2, 0, 7));
    assert_eq!(one("call %r2"), (0x8d, 2, 0, 0, 0));
    assert_eq!(one("exit"), (0x95, 0, 0, 0, 0));
}

#[test]
fn lddw_forms() {
    let s = slots("lddw %r0, 0x1122334455667788");
    assert_eq!(
        (s[0].opc, s[0].imm as u32, s[1].imm as u32),
        (0x18, 0x55667788, 0x11223344)
    );
    let s = slots("lddw %r1, -2");
    assert_eq!((s[0].imm, s[1].imm), (-2, -1));
    let s = slots("lddw %r1, map:3");
    assert_eq!((s[0].src, s[0].imm), (1, 3));
    let s = slots("lddw %r1, map_value:2+16");
    assert_eq!((s[0].src, s[0].imm, s[1].imm), (2, 2, 16));
    // func: pc-relative like a local call (target pc 3 = 0 + 1 + 2).
    let s = slots("lddw %r1, func:f\nexit\nf:\nexit");
    assert_eq!((s[0].src, s[0].imm), (4, 2));
}

#[test]
fn labels_resolve_to_pc_relative_offsets() {
    // pc: 0 mov, 1-2 lddw, 3 jeq, 4 ja, 5 exit (target), 6 exit.
    let s = slots("mov %r0, 0\nlddw %r1, 1\njeq %r0, 0, out\nja +0\nout: exit\nexit");
    assert_eq!(s[3].off, 1);
    // Backward: `back` is pc 0, the ja at pc 2 needs -3.
    let s = slots("back:\nmov %r0, 0\nmov %r0, 1\nja back");
    assert_eq!(s[2].off, -3);
    // `exit` names the first exit unless declared.
    let s = slots("jne %r0, 0, exit\nmov %r0, 1\nexit\nexit");
    assert_eq!(s[0].off, 1);
    let s = slots("jne %r0, 0, exit\nexit\nexit: exit");
    assert_eq!(s[0].off, 1);
}

#[test]
fn errors_carry_line_and_reason() {
    let err = |t: &str| assemble(t).unwrap_err();
    let e = err("mov %r0, 1\n\n  ldxq %r0, %r1");
    assert_eq!(e.line, 3);
    assert_eq!(e.kind, AsmErrorKind::UnknownMnemonic("ldxq".into()));
    assert!(e.to_string().starts_with("line 3: unknown mnemonic"));
    assert!(matches!(
        err("ja nowhere").kind,
        AsmErrorKind::UndefinedLabel(_)
    ));
    assert!(matches!(
        err("a:\na:\nexit").kind,
        AsmErrorKind::DuplicateLabel { first_line: 1, .. }
    ));
    assert!(matches!(
        err("mov %r11, 1").kind,
        AsmErrorKind::BadRegister(_)
    ));
    assert!(matches!(
        err("lddw %r0").kind,
        AsmErrorKind::OperandCount {
            expected: 2,
            found: 1,
            ..
        }
    ));
    assert!(matches!(
        err("lock").kind,
        AsmErrorKind::OperandCount { .. }
    ));
    assert!(matches!(
        err("lock or [%r10-8]").kind,
        AsmErrorKind::OperandCount { .. }
    ));
    assert!(matches!(
        err("lock nand [%r1], %r2").kind,
        AsmErrorKind::BadAtomic(_)
    ));
    assert!(matches!(
        err("mov32 %r0, 2147483648").kind,
        AsmErrorKind::OutOfRange { bits: 32, .. }
    ));
    assert!(matches!(
        err("ldxb %r0, %r1").kind,
        AsmErrorKind::BadMemoryOperand(_)
    ));
    assert!(matches!(
        err("ldxsdw %r0, [%r1]").kind,
        AsmErrorKind::UnknownMnemonic(_)
    ));
    assert!(matches!(
        err("movsx3232 %r0, %r1").kind,
        AsmErrorKind::UnknownMnemonic(_)
    ));
    assert!(matches!(
        err("call nowhere %r1").kind,
        AsmErrorKind::BadCall(_)
    ));
    // A label 40000 slots ahead does not fit a 16-bit jump (ja32 is fine).
    let far = format!("ja far\n{}far: exit", "mov %r0, 0\n".repeat(40000));
    assert!(matches!(
        err(&far).kind,
        AsmErrorKind::TargetOutOfRange { offset: 40000, .. }
    ));
    assert!(assemble(&far.replacen("ja far", "ja32 far", 1)).is_ok());
}

#[test]
fn object_lists_call_targets_as_functions() {
    let text = "mov %r1, 1\ncall local helper_fn\ncall local +2\nexit\n\
                helper_fn:\nmov %r0, %r1\nexit\nexit";
    let obj = assemble_object("t.asm", text).unwrap();
    let p = &obj.programs[0];
    assert_eq!(p.name, "main");
    let funcs: Vec<(&str, usize)> = p
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.start))
        .collect();
    // pcs: 0 mov, 1 call helper_fn, 2 call +2, 3 exit, 4 helper_fn, 5 exit, 6 exit.
    // `call local +2` at pc 2 targets pc 2 + 1 + 2 = 5: an unnamed function.
    assert_eq!(funcs, [("main", 0), ("helper_fn", 4), ("sub_5", 5)]);
    assert!(matches!(
        assemble_object("e", "# nothing\n").unwrap_err().kind,
        AsmErrorKind::EmptyProgram
    ));
}

#[test]
fn listing_names_targets_maps_and_kfuncs() {
    let mut obj = assemble_object(
        "t",
        "lddw %r1, map:0\ncall runtime 0\ncall local f\nja +0\nexit\nf:\nexit",
    )
    .unwrap();
    obj.maps.push(MapDef {
        name: "counters".into(),
        kind: MapKind::Array,
        key_size: 4,
        value_size: 8,
        max_entries: 1,
        global: None,
        prog_init: vec![],
    });
    obj.kfuncs.push("bpf_kfunc_x".into());
    let text = listing(&obj.programs[0], Some(&obj)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "main:");
    assert!(
        lines[1].starts_with("    0: lddw %r1, map:0") && lines[1].ends_with("# map counters"),
        "{text}"
    );
    assert!(lines[2].ends_with("# kfunc bpf_kfunc_x"), "{text}");
    assert!(
        lines[3].contains("call local +2") && lines[3].ends_with("# f (pc 6)"),
        "{text}"
    );
    assert!(lines[4].ends_with("# -> pc 5"), "{text}");
    assert_eq!(lines[6], "f:");
}

#[test]
fn raw_programs_get_the_same_function_table() {
    use rvbpf_ebpf::asm::object_from_insts;
    // pc 0 call local +1 -> pc 2.
    let insts = assemble("call local +1\nexit\nexit").unwrap();
    let obj = object_from_insts("raw", &insts);
    let starts: Vec<(&str, usize)> = obj.programs[0]
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.start))
        .collect();
    assert_eq!(starts, [("main", 0), ("sub_2", 2)]);
    assert_eq!(obj.programs[0].insns, encode_program(&insts));
}

#[test]
fn disassembly_uses_the_reference_spelling() {
    use rvbpf_ebpf::disasm::disassemble;
    // Spellings as in the bpf_conformance test files: 64-bit ALU without a
    // suffix, `32` for the 32-bit forms, signed decimal immediates, hex lddw.
    let text = "add %r1, -1\nadd32 %r1, %r2\nneg32 %r3\nmovsx864 %r1, %r2\nbe16 %r4\n\
                bswap64 %r4\nlddw %r0, 0x1122334455667788\nldxsh %r0, [%r10-2]\n\
                stxdw [%r1+8], %r2\nstb [%r1], -128\nlock fetch add32 [%r1+4], %r2\n\
                lock cmpxchg [%r1], %r2\njsle32 %r1, 5, -2\nja32 +3\ncall 7\n\
                call local -5\ncall %r3\nexit\n";
    assert_eq!(disassemble(&assemble(text).unwrap()), text);
    // Aliases come back in their canonical spelling.
    let aliases = "add64 %r1, 0x10\nswap16 %r2\ngotol -1\nlock fetch_xor [%r1], %r2\nmov r0, r1\n";
    let canonical = "add %r1, 16\nbswap16 %r2\nja32 -1\nlock fetch xor [%r1], %r2\nmov %r0, %r1\n";
    assert_eq!(disassemble(&assemble(aliases).unwrap()), canonical);
}
