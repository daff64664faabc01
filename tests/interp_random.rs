//! Random programs: whatever the verifier accepts, the interpreter runs
//! without panicking — every failure is a typed `RunError` — and runs are
//! deterministic (same input, same outcome).

use proptest::prelude::*;
use rvbpf::ebpf::asm::object_from_insts;
use rvbpf::ebpf::inst::{Cond, Inst, LddwKind, Operand, Reg};
use rvbpf::ebpf::object::MapKind;
use rvbpf::ebpf::testing;
use rvbpf::{Ctx, Engine, Vm};

/// Conditional jumps with short offsets, so some land inside the program.
fn short_jump() -> impl Strategy<Value = Inst> {
    let cond = prop::sample::select(vec![Cond::Eq, Cond::Ne, Cond::Gt, Cond::Slt, Cond::Set]);
    (any::<bool>(), cond, testing::reg(), -6i16..6, any::<i32>()).prop_map(
        |(is32, cond, dst, off, imm)| Inst::Jump {
            is32,
            cond,
            dst,
            src: Operand::Imm(imm),
            off,
        },
    )
}

fn body() -> impl Strategy<Value = Vec<Inst>> {
    prop::collection::vec(
        prop_oneof![4 => testing::alu(), 2 => testing::memory(), 1 => short_jump()],
        1..30,
    )
}

/// Every register initialised (r1 keeps the ctx pointer, r10 the frame), so
/// the verifier's "read before write" rule does not reject everything.
fn with_prologue(body: Vec<Inst>, seeds: [u64; 8]) -> Vec<Inst> {
    let mut insts = Vec::new();
    for (i, seed) in seeds.into_iter().enumerate() {
        let dst = Reg::new(if i == 0 { 0 } else { i as u8 + 1 }).expect("r0, r2..r8");
        insts.push(Inst::Lddw {
            dst,
            kind: LddwKind::Imm(seed),
        });
        insts.push(Inst::LddwHigh);
    }
    insts.push(Inst::Alu {
        is64: true,
        op: rvbpf::ebpf::inst::AluOp::Mov,
        dst: Reg::R9,
        src: Operand::Reg(Reg::R10),
    });
    for i in body {
        insts.push(i);
        if i.slots() == 2 {
            insts.push(Inst::LddwHigh);
        }
    }
    insts.push(Inst::Exit);
    insts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn verified_random_programs_never_panic(body in body(), seeds in any::<[u64; 8]>(), input in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut obj = object_from_insts("random", &with_prologue(body, seeds));
        obj.maps.push(rvbpf::ebpf::object::MapDef {
            name: "arr".into(), kind: MapKind::Array, key_size: 4, value_size: 16, max_entries: 2, global: None, prog_init: vec![],
        });
        let mut vm = Vm::new();
        vm.set_insn_budget(5_000);
        if let Ok(o) = vm.load_object(obj) {
            let p = vm.program(o, "main").unwrap();
            for &engine in Engine::all() {
                let first = vm.run(p, &Ctx::raw(input.clone()), engine);
                let again = vm.run(p, &Ctx::raw(input.clone()), engine);
                match (&first, &again) {
                    (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                    (Err(a), Err(b)) => prop_assert_eq!(a, b),
                    _ => prop_assert!(false, "non-deterministic: {:?} vs {:?}", first, again),
                }
            }
        }
    }
}
