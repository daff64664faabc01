//! Trampoline code generation (`rvbpf_jit::trampoline`): the golden listing
//! `tests/trampoline.golden.txt` (`BLESS=1` rewrites it; it lives outside
//! `tests/golden/`, whose every file the BPF golden and encoding harnesses
//! read as a BPF program), plus checks of the generated control flow
//! decoded independently of the generator.

mod common;

use rvbpf_jit::trampoline::{
    local_call_sites, patch_site, retarget_call, trampoline, TrampolineSpec, FRAME_SIZE, NOPS,
};
use rvbpf_jit::{compile, TccScheme, TAIL_CALL_ENTRY_OFFSET};
use rvbpf_rv64::{decode, disassemble, Inst, Reg};
use std::fmt::Write;

const AT: u64 = 0x8000_1000;
const ORIGINAL: u64 = 0x8000_0020 + TAIL_CALL_ENTRY_OFFSET as u64;
const FENTRY: u64 = 0x8000_0400;
const FEXIT: u64 = 0x8000_0800;
const COUNTER: u64 = 0x6000_0008;
const PUBLISH: u64 = 0x7008_0004;

fn spec() -> TrampolineSpec {
    TrampolineSpec {
        at: AT,
        original: ORIGINAL,
        fentry: vec![FENTRY],
        fexit: vec![FEXIT],
        arg_count: 2,
        run_counter: Some(COUNTER),
        ctx_publisher: Some(PUBLISH),
    }
}

/// Targets of every `auipc rX; jalr ra, lo(rX)` pair (the calls), in order.
fn call_targets(code: &[u8], base: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut prev = None;
    let mut at = 0;
    while at < code.len() {
        let (inst, len) = decode(&code[at..]).expect("decodes");
        if let (Inst::Jalr { rd, rs1, offset }, Some((p, Inst::Auipc { rd: ard, imm }))) =
            (inst, prev)
        {
            if rd == Reg::RA && rs1 == ard {
                out.push(
                    (base + p as u64).wrapping_add((imm.upper_value() + offset.value()) as u64),
                );
            }
        }
        prev = Some((at, inst));
        at += len;
    }
    out
}

#[test]
fn golden_listing() {
    let code = trampoline(&spec()).unwrap();
    let mut actual = String::from(
        "# fentry+fexit trampoline: 2 arguments, one tracer each, run counter and ctx publisher\n",
    );
    for line in disassemble(&code, AT) {
        let hex: Vec<String> = line.bytes.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(
            actual,
            "{:8x}: {:<12} {}",
            line.address,
            hex.join(" "),
            line.text
        );
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/trampoline.golden.txt");
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        expected.trim_end(),
        actual.trim_end(),
        "run with BLESS=1 to update"
    );
}

#[test]
fn calls_run_in_the_documented_order() {
    let code = trampoline(&spec()).unwrap();
    // fentry: publish the ctx, run the tracer; then the original; then
    // fexit: publish the ctx (with the return value), run the tracer.
    assert_eq!(
        call_targets(&code, AT),
        vec![PUBLISH, FENTRY, ORIGINAL, PUBLISH, FEXIT]
    );
    let insts: Vec<Inst> = disassemble(&code, AT)
        .iter()
        .map(|l| decode(&l.bytes).unwrap().0)
        .collect();
    // The frame is pushed first and popped just before the final `ret`.
    assert_eq!(insts.first(), Some(&addi(Reg::SP, Reg::SP, -FRAME_SIZE)));
    assert_eq!(insts[insts.len() - 2], addi(Reg::SP, Reg::SP, FRAME_SIZE));
    assert_eq!(insts.last(), Some(&Inst::RET));
    // Callee-saved registers (s0..s11) are never written.
    let saved = [
        Reg::S0,
        Reg::S1,
        Reg::S2,
        Reg::S3,
        Reg::S4,
        Reg::S5,
        Reg::S6,
        Reg::S7,
        Reg::S8,
        Reg::S9,
        Reg::S10,
        Reg::S11,
    ];
    for i in &insts {
        let rd = match *i {
            Inst::AluImm { rd, .. } | Inst::Load { rd, .. } | Inst::Auipc { rd, .. } => rd,
            Inst::Jalr { rd, .. } => rd,
            _ => continue,
        };
        assert!(!saved.contains(&rd), "{i:?} writes a callee-saved register");
    }
}

fn addi(rd: Reg, rs1: Reg, v: i64) -> Inst {
    Inst::AluImm {
        op: rvbpf_rv64::AluImmOp::Addi,
        rd,
        rs1,
        imm: rvbpf_rv64::Imm12::new(v).unwrap(),
    }
}

#[test]
fn a_trampoline_without_tracers_only_calls_the_original() {
    let mut s = spec();
    s.fentry.clear();
    s.fexit.clear();
    let code = trampoline(&s).unwrap();
    assert_eq!(call_targets(&code, AT), vec![ORIGINAL]);
}

#[test]
fn patch_site_jumps_to_the_trampoline_with_t0() {
    let site = 0x8000_0020u64;
    let bytes = patch_site(site, AT).unwrap();
    let (a, _) = decode(&bytes[..4]).unwrap();
    let (j, _) = decode(&bytes[4..]).unwrap();
    let (
        Inst::Auipc { rd: Reg::T0, imm },
        Inst::Jalr {
            rd: Reg::T0,
            rs1: Reg::T0,
            offset,
        },
    ) = (a, j)
    else {
        panic!("unexpected {a:?} {j:?}");
    };
    assert_eq!(site as i64 + imm.upper_value() + offset.value(), AT as i64);
    // The unpatched site is two `addi zero, zero, 0`.
    assert_eq!(decode(&NOPS[..4]).unwrap().0, addi(Reg::ZERO, Reg::ZERO, 0));
}

#[test]
fn bpf2bpf_call_sites_are_found_and_retargeted() {
    // Two calls of `sub` from the entry.
    let src =
        "mov %r1, 1\ncall local sub\nmov %r1, 2\ncall local sub\nexit\nsub:\nmov %r0, %r1\nexit";
    let prog = common::verified(src, &[], &[]);
    for t in common::TARGETS {
        for s in [TccScheme::Reg, TccScheme::Stack, TccScheme::Ptr] {
            let image = compile(&prog, &common::opts(t, s)).unwrap();
            let sites = local_call_sites(&image);
            assert_eq!(sites.len(), 2, "{t} {s:?}\n{}", image.listing());
            assert!(sites.iter().all(|c| c.callee == 1));
            for c in &sites {
                let base = 0x8000_0000u64;
                let bytes = retarget_call(c, base + c.offset as u64, AT).unwrap();
                assert_eq!(bytes.len(), c.len);
                let targets = if c.len == 8 {
                    call_targets(&bytes, base + c.offset as u64)
                } else {
                    match decode(&bytes).unwrap().0 {
                        Inst::Jal {
                            rd: Reg::RA,
                            offset,
                        } => {
                            vec![(base + c.offset as u64).wrapping_add(offset.value() as u64)]
                        }
                        other => panic!("{other:?}"),
                    }
                };
                assert_eq!(targets, vec![AT]);
            }
        }
    }
}
