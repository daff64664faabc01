//! Context construction per program kind: `__sk_buff` (tc), `xdp_md` (xdp),
//! raw bytes (everything else), and packet access through data/data_end.

mod runtime_support;

use runtime_support::{object, prog, raw, run, tc};
use rvbpf::ebpf::object::ProgKind;
use rvbpf::memory::{CTX_BASE, PACKET_BASE};
use rvbpf::{Ctx, CtxLayout, Vm};

fn one(vm: &mut Vm, p: rvbpf::ebpf::object::Program) -> rvbpf::ProgId {
    let name = p.name.clone();
    let o = vm.load_object(object("ctx", vec![p], vec![])).unwrap();
    vm.program(o, &name).unwrap()
}

#[test]
fn sk_buff_fields() {
    let mut pkt = vec![0u8; 54];
    pkt[12] = 0x08; // IPv4 ethertype 0x0800, network order
    let mut vm = Vm::new();
    let field = |off: i16| format!("ldxw %r0, [%r1{off:+}]\nexit");
    let len = one(&mut vm, tc("len", &field(0)));
    let data = one(&mut vm, tc("data", &field(76)));
    let end = one(&mut vm, tc("data_end", &field(80)));
    let proto = one(&mut vm, tc("protocol", &field(16)));
    let ctx = Ctx::new(pkt);
    assert_eq!(run(&mut vm, len, &ctx).ret, 54);
    assert_eq!(run(&mut vm, data, &ctx).ret, PACKET_BASE);
    assert_eq!(run(&mut vm, end, &ctx).ret, PACKET_BASE + 54);
    // protocol holds the ethertype bytes as stored (0x08, 0x00) read as a
    // little-endian u16: 0x0008, i.e. htons(ETH_P_IP) like Linux.
    assert_eq!(run(&mut vm, proto, &ctx).ret, 0x0008);
    // r1 is the ctx address.
    let r1 = one(&mut vm, tc("r1", "mov %r0, %r1\nexit"));
    assert_eq!(run(&mut vm, r1, &ctx).ret, CTX_BASE);
}

#[test]
fn tc_program_rewrites_its_packet_through_data_pointers() {
    // Bounds-checked like real tc code: if data + 2 > data_end return 1;
    // swap the first two bytes; return 0.
    let asm = "ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nmov %r4, %r2\nadd %r4, 2\njgt %r4, %r3, short\n\
               ldxb %r5, [%r2+0]\nldxb %r6, [%r2+1]\nstxb [%r2+0], %r6\nstxb [%r2+1], %r5\nmov %r0, 0\nexit\nshort:\nmov %r0, 1\nexit";
    let mut vm = Vm::new();
    let p = one(&mut vm, tc("swap", asm));
    assert_eq!(run(&mut vm, p, &Ctx::new(vec![1, 2, 3])).ret, 0);
    assert_eq!(vm.packet(), &[2, 1, 3]);
    assert_eq!(run(&mut vm, p, &Ctx::new(vec![9])).ret, 1);
    assert_eq!(vm.packet(), &[9]);
}

#[test]
fn xdp_md_fields() {
    let mut vm = Vm::new();
    let size = one(
        &mut vm,
        prog(
            "size",
            ProgKind::Xdp,
            "ldxw %r0, [%r1+4]\nldxw %r2, [%r1+0]\nsub %r0, %r2\nexit",
            &[],
        ),
    );
    assert_eq!(run(&mut vm, size, &Ctx::zeros(60)).ret, 60);
    let data = one(
        &mut vm,
        prog("data", ProgKind::Xdp, "ldxw %r0, [%r1+0]\nexit", &[]),
    );
    assert_eq!(run(&mut vm, data, &Ctx::zeros(60)).ret, PACKET_BASE);
    // xdp_md is 24 bytes: offset 24 is past the ctx.
    let past = one(
        &mut vm,
        prog("past", ProgKind::Xdp, "ldxw %r0, [%r1+24]\nexit", &[]),
    );
    assert!(vm
        .run(past, &Ctx::zeros(60), rvbpf::Engine::Interp)
        .is_err());
}

#[test]
fn raw_ctx_passes_address_and_length() {
    // r0 = r2 (length) * 256 + first byte.
    let mut vm = Vm::new();
    let p = one(
        &mut vm,
        raw(
            "raw",
            "ldxb %r3, [%r1+0]\nmov %r0, %r2\nlsh %r0, 8\nadd %r0, %r3\nexit",
        ),
    );
    assert_eq!(run(&mut vm, p, &Ctx::raw(vec![7, 0, 0])).ret, 3 * 256 + 7);
    // Ctx::new on a raw program is the same thing.
    assert_eq!(run(&mut vm, p, &Ctx::new(vec![7, 0, 0])).ret, 3 * 256 + 7);
    // A tc program can be given raw bytes explicitly.
    let t = one(&mut vm, tc("first", "ldxb %r0, [%r1+0]\nexit"));
    let ctx = Ctx {
        input: vec![42],
        layout: CtxLayout::Raw,
    };
    assert_eq!(run(&mut vm, t, &ctx).ret, 42);
    assert_eq!(vm.ctx_bytes(), &[42]);
}
