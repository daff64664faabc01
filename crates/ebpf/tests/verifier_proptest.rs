//! Random instruction streams never panic the verifier, and whatever it
//! accepts carries self-consistent facts.

mod verifier_util;

use proptest::prelude::*;
use rvbpf_ebpf::insn::Insn;
use rvbpf_ebpf::inst::{encode_program, AluOp, CallTarget, Inst, LddwKind, Operand, Reg};
use rvbpf_ebpf::object::{MapKind, Object};
use rvbpf_ebpf::testing;
use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv};
use verifier_util::{helper_known, kfunc_known, map, raw_object};

/// Objects get three maps (array, hash, prog array) and two kfuncs (one
/// registered), so small random indices hit both valid and invalid ones.
fn with_tables(mut obj: Object) -> Object {
    obj.maps = vec![
        map("a", MapKind::Array),
        map("h", MapKind::Hash),
        map("p", MapKind::ProgArray),
    ];
    obj.kfuncs = vec!["bpf_known_kfunc".into(), "bpf_other".into()];
    obj
}

fn run(obj: &Object, entry_args: u8) -> Option<VerifiedProgram> {
    let env = VerifyEnv {
        helper_known: &helper_known,
        kfunc_known: &kfunc_known,
        entry_args,
    };
    let result = verify(obj, 0, &env);
    if let Err(e) = &result {
        // Every message renders, and pcs point into the program.
        assert!(!e.to_string().is_empty());
        if let Some(pc) = e.pc {
            assert!(pc < obj.programs[0].insns.len(), "{e}");
        }
    }
    result.ok()
}

/// Facts every accepted program must satisfy, whatever its shape.
fn check_facts(p: &VerifiedProgram) {
    let f = p.functions();
    assert_eq!(f[0].start, 0);
    assert_eq!(f.last().unwrap().end, p.insts().len());
    for (i, w) in f.windows(2).enumerate() {
        assert_eq!(w[0].end, w[1].start, "function {i} and {} touch", i + 1);
    }
    for (i, func) in f.iter().enumerate() {
        assert!(func.start < func.end);
        assert!(func.stack_depth <= 512 && func.stack_depth % 16 == 0);
        assert!(func.arg_count <= 5);
        assert!(func.callees.iter().all(|&c| c < f.len() && c != i));
        assert!(func.callbacks.iter().all(|&c| c < f.len() && c != i));
        assert!(!func.has_tail_call || func.tail_call_reachable);
        assert!(func.has_tail_call || func.makes_calls || !func.tail_call_reachable);
        assert!(!func.makes_helper_calls || func.makes_calls);
        // r10 is never written.
        assert_eq!(func.regs_written & (1 << 10), 0);
        assert_eq!(p.function_at(func.start), i);
        assert_eq!(p.function_at(func.end - 1), i);
    }
    assert_eq!(p.insts().len(), p.insns().len());
}

/// Shrinks offsets and indices so that jumps, calls and table references
/// usually land inside small programs and the deeper checks run.
fn small_targets(inst: Inst) -> Inst {
    match inst {
        Inst::Ja { off, long } => Inst::Ja { off: off % 6, long },
        Inst::Jump {
            is32,
            cond,
            dst,
            src,
            off,
        } => Inst::Jump {
            is32,
            cond,
            dst,
            src,
            off: off % 6,
        },
        Inst::Call(CallTarget::Local(o)) => Inst::Call(CallTarget::Local(o % 6)),
        Inst::Call(CallTarget::Helper(n)) => Inst::Call(CallTarget::Helper(n.rem_euclid(14))),
        Inst::Call(CallTarget::Kfunc(k)) => Inst::Call(CallTarget::Kfunc(k % 3)),
        Inst::Lddw { dst, kind } => Inst::Lddw {
            dst,
            kind: match kind {
                LddwKind::Map { map } => LddwKind::Map { map: map % 4 },
                LddwKind::MapValue { map, offset } => LddwKind::MapValue {
                    map: map % 4,
                    offset: offset % 20,
                },
                LddwKind::Func { offset } => LddwKind::Func { offset: offset % 6 },
                k => k,
            },
        },
        Inst::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => Inst::Load {
            size,
            signed,
            dst,
            src,
            off: off % 600,
        },
        Inst::Store {
            size,
            dst,
            off,
            src,
        } => Inst::Store {
            size,
            dst,
            off: off % 600,
            src,
        },
        other => other,
    }
}

/// Random near-target code after a prologue that writes r0..r9, so that
/// register initialisation rejects only what the body itself breaks.
fn small_program() -> impl Strategy<Value = Vec<Inst>> {
    proptest::collection::vec(testing::inst().prop_map(small_targets), 1..40).prop_map(|v| {
        let prologue = (0..10).map(|n| Inst::Alu {
            is64: true,
            op: AluOp::Mov,
            dst: Reg::new(n).unwrap(),
            src: Operand::Imm(0),
        });
        prologue
            .chain(v)
            .flat_map(|i| {
                if i.slots() == 2 {
                    vec![i, Inst::LddwHigh]
                } else {
                    vec![i]
                }
            })
            .chain([Inst::Exit])
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(words in proptest::collection::vec(any::<[u8; 8]>(), 0..48), args in 0u8..8) {
        let insns = words.into_iter().map(Insn::from_bytes).collect();
        if let Some(p) = run(&with_tables(raw_object(insns)), args) {
            check_facts(&p);
        }
    }

    #[test]
    fn valid_instructions_with_wild_targets_never_panic(insts in testing::program(40), args in 0u8..8) {
        let obj = with_tables(raw_object(encode_program(&insts)));
        if let Some(p) = run(&obj, args) {
            check_facts(&p);
        }
    }

    #[test]
    fn valid_instructions_with_near_targets_never_panic(insts in small_program(), args in 0u8..8) {
        let obj = with_tables(raw_object(encode_program(&insts)));
        if let Some(p) = run(&obj, args) {
            check_facts(&p);
        }
    }
}
