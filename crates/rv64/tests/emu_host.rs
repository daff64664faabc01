//! The host-facing API: host calls, `call`/`Returned`, the memory map
//! (hand-over of backing stores, host reads/writes, cache invalidation),
//! self-modifying code and tracing.

mod emu_support;

use emu_support::asm::ops::{addi, alu, li, load, store};
use emu_support::asm::Asm;
use rvbpf_rv64::emu::{EmuError, Hart, Memory, MemoryError, Perms, Stop};
use rvbpf_rv64::{encode, AluOp, Imm12, Inst, LoadOp, Reg, StoreOp};

const CODE: u64 = 0x1000;
const STACK: u64 = 0x8000;
const HOST: u64 = 0x7000_0000;

fn memory(code: Vec<u8>) -> Memory {
    let mut mem = Memory::new();
    mem.add_region("code", CODE, Perms::RX, code).unwrap();
    mem.add_zeroed_region("stack", STACK, 4096, Perms::RW)
        .unwrap();
    mem
}

/// `call host slot n`: `lui t0, HOST>>12; jalr ra, 4n(t0)`.
fn host_call(a: &mut Asm, slot: i64) {
    a.all(&li(Reg::T0, (HOST >> 12 << 12) as i32));
    a.i(Inst::Jalr {
        rd: Reg::RA,
        rs1: Reg::T0,
        offset: Imm12::new(slot * 4).unwrap(),
    });
}

#[test]
fn host_call_round_trip() {
    let mut a = Asm::new(true);
    a.all(&[addi(Reg::A0, Reg::ZERO, 20), addi(Reg::A1, Reg::ZERO, 22)]);
    host_call(&mut a, 3);
    a.i(addi(Reg::A0, Reg::A0, 1)).i(Inst::Ecall);
    let mut mem = memory(a.finish());
    let mut hart = Hart::new();
    hart.set_host_calls(HOST, 16);
    hart.set_pc(CODE);
    assert_eq!(hart.run(&mut mem), Ok(Stop::HostCall { number: 3 }));
    assert_eq!(hart.pc(), HOST + 12);
    let sum = hart.arg(0) + hart.arg(1);
    hart.set_return_value(sum);
    hart.return_from_host_call();
    assert!(matches!(hart.run(&mut mem), Ok(Stop::Ecall { .. })));
    assert_eq!(hart.reg(Reg::A0), 43);
    let c = hart.counters();
    assert_eq!(c.host_calls, 1);
    // 2 addi + lui (li of a 4 KiB multiple is a single lui) + jalr + addi + ecall;
    // the host call itself is not an instruction.
    assert_eq!(c.instructions, 6);
}

#[test]
fn call_with_host_services_calls_until_return() {
    // f(x) = host1(x) + host2(x), keeping x and ra on the stack.
    let mut a = Asm::new(true);
    a.all(&[
        addi(Reg::SP, Reg::SP, -16),
        store(StoreOp::Sd, Reg::RA, Reg::SP, 8),
        store(StoreOp::Sd, Reg::A0, Reg::SP, 0),
    ]);
    host_call(&mut a, 1);
    a.i(addi(Reg::S1, Reg::A0, 0))
        .i(load(LoadOp::Ld, Reg::A0, Reg::SP, 0));
    host_call(&mut a, 2);
    a.all(&[
        alu(AluOp::Add, Reg::A0, Reg::A0, Reg::S1),
        load(LoadOp::Ld, Reg::RA, Reg::SP, 8),
        addi(Reg::SP, Reg::SP, 16),
        Inst::RET,
    ]);
    let mut mem = memory(a.finish());
    let mut hart = Hart::new();
    hart.set_host_calls(HOST, 4);
    let mut seen = Vec::new();
    let result = hart.call_with_host(&mut mem, CODE, STACK + 4096, &[5], |n, h, _mem| {
        seen.push(n);
        let x = h.arg(0);
        h.set_return_value(if n == 1 { x * 10 } else { x * 100 });
        Ok::<(), EmuError>(())
    });
    assert_eq!(result, Ok(550));
    assert_eq!(seen, [1, 2]);
    assert_eq!(hart.counters().host_calls, 2);
    assert_eq!(hart.reg(Reg::SP), STACK + 4096, "stack balanced");
}

#[test]
fn call_returns_to_the_sentinel() {
    let mut a = Asm::new(false);
    a.i(alu(AluOp::Mul, Reg::A0, Reg::A0, Reg::A1)).i(Inst::RET);
    let mut mem = memory(a.finish());
    let mut hart = Hart::new();
    hart.call(CODE, STACK + 4096, &[6, 7]).unwrap();
    assert_eq!(hart.reg(Reg::RA), hart.return_address());
    assert_eq!(hart.run(&mut mem), Ok(Stop::Returned));
    assert_eq!(hart.reg(Reg::A0), 42);
    assert_eq!(
        hart.call(CODE, 0, &[0; 9]),
        Err(EmuError::TooManyArguments { count: 9 })
    );
}

#[test]
fn ecall_inside_call_with_host_is_an_error() {
    let mut a = Asm::new(false);
    a.i(Inst::Ecall);
    let mut mem = memory(a.finish());
    let mut hart = Hart::new();
    let r = hart.call_with_host(&mut mem, CODE, 0, &[], |_, _, _| Ok::<(), EmuError>(()));
    assert_eq!(
        r,
        Err(EmuError::UnhandledTrap {
            pc: CODE,
            ebreak: false
        })
    );
}

#[test]
fn stop_addresses_inside_code_are_rejected() {
    let mut mem = memory(vec![0x13, 0, 0, 0]);
    let mut hart = Hart::new();
    hart.set_pc(CODE);
    hart.set_host_calls(CODE, 1);
    assert_eq!(
        hart.run(&mut mem),
        Err(EmuError::StopAddressInCode {
            addr: CODE,
            region: "code".into()
        })
    );
}

#[test]
fn region_layout_is_validated() {
    let mut mem = Memory::new();
    mem.add_zeroed_region("a", 0x1000, 0x1000, Perms::RW)
        .unwrap();
    assert!(matches!(
        mem.add_zeroed_region("b", 0x1800, 0x1000, Perms::RW),
        Err(MemoryError::Overlap { other, .. }) if other == "a"
    ));
    assert!(matches!(
        mem.add_zeroed_region("a", 0x9000, 0x10, Perms::RW),
        Err(MemoryError::DuplicateName { .. })
    ));
    assert!(matches!(
        mem.add_zeroed_region("c", 0x9001, 0x10, Perms::RX),
        Err(MemoryError::MisalignedCode { .. })
    ));
    assert!(matches!(
        mem.add_zeroed_region("d", u64::MAX - 4, 0x10, Perms::RW),
        Err(MemoryError::BadRange { .. })
    ));
    assert!(matches!(
        mem.add_zeroed_region("e", 0x9000, 0, Perms::RW),
        Err(MemoryError::BadRange { .. })
    ));
    // Adjacent is fine.
    mem.add_zeroed_region("f", 0x2000, 0x1000, Perms::R)
        .unwrap();
    assert_eq!(mem.region_at(0x2fff), mem.region_id("f"));
    assert_eq!(
        mem.read_u8(0x3000),
        Err(MemoryError::Unmapped {
            addr: 0x3000,
            size: 1
        })
    );
}

#[test]
fn backing_store_hand_over_is_zero_copy_and_checked() {
    let mut a = Asm::new(false);
    a.i(load(LoadOp::Ld, Reg::A0, Reg::S0, 0)).i(Inst::RET);
    let mut mem = memory(a.finish());
    let map = mem
        .add_region("map", 0x9000, Perms::RW, vec![0; 16])
        .unwrap();
    let mut hart = Hart::new();
    hart.set_reg(Reg::S0, 0x9000);

    // Lend a host buffer in; its heap allocation must be the one the guest uses.
    let mut buf = vec![0u8; 16];
    buf[..8].copy_from_slice(&0x1122_3344u64.to_le_bytes());
    let ptr = buf.as_ptr();
    let old = mem.replace_data(map, buf).unwrap();
    assert_eq!(old, vec![0; 16]);
    hart.call(CODE, STACK + 4096, &[]).unwrap();
    assert_eq!(hart.run(&mut mem), Ok(Stop::Returned));
    assert_eq!(hart.reg(Reg::A0), 0x1122_3344);
    let back = mem.take_data(map);
    assert_eq!(back.as_ptr(), ptr, "same allocation came back");

    // While taken out, guest accesses fault.
    hart.call(CODE, STACK + 4096, &[]).unwrap();
    assert!(matches!(
        hart.run(&mut mem),
        Err(EmuError::Fault { addr: 0x9000, .. })
    ));
    assert!(mem.read_u64(0x9000).is_err());

    assert!(matches!(
        mem.put_data(map, vec![0; 8]),
        Err(MemoryError::SizeMismatch {
            expected: 16,
            got: 8,
            ..
        })
    ));
    mem.put_data(map, back).unwrap();
    assert_eq!(mem.read_u64(0x9000), Ok(0x1122_3344));
}

#[test]
fn host_writes_to_code_invalidate_decoded_instructions() {
    let mut a = Asm::new(false);
    a.i(addi(Reg::A0, Reg::ZERO, 1)).i(Inst::RET);
    let mut mem = memory(a.finish());
    let mut hart = Hart::new();
    hart.call(CODE, STACK + 4096, &[]).unwrap();
    hart.run(&mut mem).unwrap();
    assert_eq!(hart.reg(Reg::A0), 1);
    mem.write_u32(CODE, encode(&addi(Reg::A0, Reg::ZERO, 2)))
        .unwrap();
    hart.call(CODE, STACK + 4096, &[]).unwrap();
    hart.run(&mut mem).unwrap();
    assert_eq!(hart.reg(Reg::A0), 2);
    let code = mem.region_id("code").unwrap();
    mem.data_mut(code)[..4].copy_from_slice(&encode(&addi(Reg::A0, Reg::ZERO, 3)).to_le_bytes());
    hart.call(CODE, STACK + 4096, &[]).unwrap();
    hart.run(&mut mem).unwrap();
    assert_eq!(hart.reg(Reg::A0), 3);
}

#[test]
fn guest_stores_into_rwx_code_take_effect_immediately() {
    // sw t1, 8(t0) overwrites the already-decoded `li a0, 1` at +8 with
    // `li a0, 7` before it runs.
    let mut a = Asm::new(false);
    a.i(store(StoreOp::Sw, Reg::T1, Reg::T0, 8))
        .i(Inst::NOP)
        .i(addi(Reg::A0, Reg::ZERO, 1))
        .i(Inst::Ecall);
    let mut mem = Memory::new();
    mem.add_region("code", CODE, Perms::RWX, a.finish())
        .unwrap();
    let mut hart = Hart::new();
    hart.set_reg(Reg::T0, CODE);
    hart.set_reg(Reg::T1, u64::from(encode(&addi(Reg::A0, Reg::ZERO, 7))));
    hart.set_pc(CODE);
    hart.set_budget(100);
    assert_eq!(hart.run(&mut mem), Ok(Stop::Ecall { pc: CODE + 12 }));
    assert_eq!(hart.reg(Reg::A0), 7);
    assert_eq!(hart.counters().instructions, 4);
    assert_eq!(hart.budget(), 96);
}

#[test]
fn trace_records_pc_text_and_register_writes() {
    let mut a = Asm::new(true);
    a.all(&[addi(Reg::A0, Reg::ZERO, 5), addi(Reg::A0, Reg::A0, 1)])
        .i(Inst::Ecall);
    let mut mem = memory(a.finish());
    let mut hart = Hart::new();
    hart.enable_trace(16);
    hart.set_pc(CODE);
    hart.run(&mut mem).unwrap();
    let trace = hart.take_trace().unwrap();
    let entries: Vec<_> = trace.entries().copied().collect();
    assert_eq!(entries.len(), 3);
    // c.li (2 bytes), c.addi (2 bytes), ecall.
    assert_eq!(
        entries.iter().map(|e| e.pc).collect::<Vec<_>>(),
        [CODE, CODE + 2, CODE + 4]
    );
    assert_eq!(entries[0].write, Some((Reg::A0, 5)));
    assert_eq!(entries[1].write, Some((Reg::A0, 6)));
    assert_eq!(entries[2].write, None);
    assert_eq!(entries[0].len, 2);
    assert_eq!(entries[0].disassembly(), "li a0, 5");
    assert_eq!(entries[2].disassembly(), "ecall");
    assert!(trace.to_string().contains("a0 = 0x6"), "{trace}");
}

#[test]
fn trace_keeps_the_most_recent_entries() {
    let mut a = Asm::new(false);
    for i in 0..10 {
        a.i(addi(Reg::A0, Reg::ZERO, i));
    }
    a.i(Inst::Ecall);
    let mut mem = memory(a.finish());
    let mut hart = Hart::new();
    hart.enable_trace(4);
    hart.set_pc(CODE);
    hart.run(&mut mem).unwrap();
    let trace = hart.trace().unwrap();
    assert_eq!(trace.len(), 4);
    assert_eq!(trace.dropped(), 7);
    assert_eq!(trace.entries().next().unwrap().write, Some((Reg::A0, 7)));
}
