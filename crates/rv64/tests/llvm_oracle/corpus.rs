//! The instruction corpus the LLVM oracle tables are generated from: every
//! instruction form with boundary immediates (field min/max, RVC range
//! edges on both sides), x0/x31 and the RVC register set.

use rvbpf_rv64::*;
use std::collections::HashSet;

fn r(i: u8) -> Reg {
    Reg::new(i).unwrap()
}

/// Registers pairs that hit the interesting cases: general, rd == rs1,
/// x0 and x31 in each position, sp, and the RVC subset x8..x15.
fn reg_pairs() -> Vec<(Reg, Reg)> {
    use Reg as R;
    vec![
        (R::A0, R::A1),
        (R::A0, R::A0),
        (R::ZERO, R::ZERO),
        (R::T6, R::T6),
        (R::A0, R::ZERO),
        (R::ZERO, R::A0),
        (R::S0, R::S0),
        (R::SP, R::SP),
        (R::A5, R::SP),
        (R::RA, R::RA),
        (R::T6, R::ZERO),
    ]
}

fn reg_triples() -> Vec<(Reg, Reg, Reg)> {
    use Reg as R;
    vec![
        (R::A0, R::A1, R::A2),
        (R::ZERO, R::ZERO, R::ZERO),
        (R::T6, R::T6, R::T6),
        (R::A0, R::A0, R::A1),
        (R::S0, R::S0, R::A5),
        (R::A0, R::ZERO, R::A1),
        (R::A0, R::A1, R::ZERO),
        (R::A0, R::A1, R::A0),
        (R::RA, R::RA, R::T6),
        (R::SP, R::SP, R::A0),
        (R::ZERO, R::A0, R::A1),
    ]
}

const IMM12: &[i64] = &[
    -2048, 2047, 0, 1, -1, 2, 4, 8, 16, 31, -32, 32, -33, 63, 255, 248, 252, 256, 504, 508, 512,
    -512, 496, 1020, 1024, -16, 124, 128,
];

fn imm12(v: i64) -> Imm12 {
    Imm12::new(v).unwrap()
}

/// Every instruction of the corpus, without duplicates, in a stable order.
pub fn corpus() -> Vec<Inst> {
    let mut v = Vec::new();
    for &rd in &[Reg::A0, Reg::ZERO, Reg::SP, Reg::T6, Reg::S1] {
        for bits in [
            0u32, 1, 2, 31, 32, 0xfffe0, 0xfffdf, 0xfffff, 0x7ffff, 0x80000, 0x12345,
        ] {
            let imm = Imm20::from_bits(bits).unwrap();
            v.push(Inst::Lui { rd, imm });
            v.push(Inst::Auipc { rd, imm });
        }
    }
    for &rd in &[Reg::ZERO, Reg::RA, Reg::A0, Reg::T6] {
        for off in [
            -1048576, 1048574, 0, 2, -2, 2046, -2048, 2048, -2050, 1000, -1000,
        ] {
            v.push(Inst::Jal {
                rd,
                offset: JumpOffset::new(off).unwrap(),
            });
        }
    }
    for (rd, rs1) in reg_pairs()
        .into_iter()
        .chain([(Reg::RA, Reg::A0), (Reg::ZERO, Reg::RA)])
    {
        for off in [0, 4, -2048, 2047, -4] {
            v.push(Inst::Jalr {
                rd,
                rs1,
                offset: imm12(off),
            });
        }
    }
    for &op in BranchOp::ALL {
        for (rs1, rs2) in reg_pairs()
            .into_iter()
            .chain([(Reg::A5, Reg::ZERO), (Reg::A6, Reg::ZERO)])
        {
            for off in [-4096, 4094, 0, 2, -256, 254, -258, 256, 100] {
                v.push(Inst::Branch {
                    op,
                    rs1,
                    rs2,
                    offset: BranchOffset::new(off).unwrap(),
                });
            }
        }
    }
    for (rd, rs1) in reg_pairs()
        .into_iter()
        .chain([(Reg::S0, Reg::A5), (Reg::A6, Reg::A0)])
    {
        for &off in IMM12 {
            for &op in LoadOp::ALL {
                v.push(Inst::Load {
                    op,
                    rd,
                    rs1,
                    offset: imm12(off),
                });
            }
            for &op in StoreOp::ALL {
                v.push(Inst::Store {
                    op,
                    rs1,
                    rs2: rd,
                    offset: imm12(off),
                });
            }
        }
    }
    for &op in AluImmOp::ALL {
        for (rd, rs1) in reg_pairs() {
            for &imm in IMM12 {
                v.push(Inst::AluImm {
                    op,
                    rd,
                    rs1,
                    imm: imm12(imm),
                });
            }
        }
    }
    for (rd, rs1) in reg_pairs() {
        for &op in ShiftOp::ALL {
            for s in [0, 1, 31, 32, 63] {
                v.push(Inst::Shift {
                    op,
                    rd,
                    rs1,
                    shamt: Shamt::new(s).unwrap(),
                });
            }
        }
        for &op in ShiftWOp::ALL {
            for s in [0, 1, 31] {
                v.push(Inst::ShiftW {
                    op,
                    rd,
                    rs1,
                    shamt: ShamtW::new(s).unwrap(),
                });
            }
        }
        for &op in UnaryOp::ALL {
            v.push(Inst::Unary { op, rd, rs1 });
        }
    }
    for &op in AluOp::ALL {
        for (rd, rs1, rs2) in reg_triples() {
            v.push(Inst::Alu { op, rd, rs1, rs2 });
        }
    }
    for &width in AmoWidth::ALL {
        for &ordering in Ordering::ALL {
            for (rd, rs1, rs2) in [(Reg::A0, Reg::A1, Reg::A2), (Reg::ZERO, Reg::T6, Reg::ZERO)] {
                for &op in AmoOp::ALL {
                    v.push(Inst::Amo {
                        op,
                        width,
                        ordering,
                        rd,
                        rs1,
                        rs2,
                    });
                }
                v.push(Inst::Lr {
                    width,
                    ordering,
                    rd,
                    rs1,
                });
                v.push(Inst::Sc {
                    width,
                    ordering,
                    rd,
                    rs1,
                    rs2,
                });
            }
        }
    }
    // Fence sets: LLVM's assembler rejects the empty set, so 1..=15 here
    // (the objdump corpus covers the empty set with raw words).
    for pred in 1..16 {
        for succ in 1..16 {
            let (pred, succ) = (FenceSet::new(pred).unwrap(), FenceSet::new(succ).unwrap());
            v.push(Inst::Fence { pred, succ });
        }
    }
    v.extend([Inst::FenceTso, Inst::FenceI, Inst::Ecall, Inst::Ebreak]);
    // A few registers from the whole file, to catch field-position slips.
    for i in 0..32 {
        v.push(Inst::Alu {
            op: AluOp::Add,
            rd: r(i),
            rs1: r(31 - i),
            rs2: r((i * 7) % 32),
        });
    }
    let mut seen = HashSet::new();
    v.retain(|i| seen.insert(*i));
    v
}

/// Raw encodings for the objdump comparison beyond the corpus: RVC HINTs,
/// reserved/unsupported encodings, and fences LLVM cannot assemble.
pub fn extra_raw() -> Vec<Vec<u8>> {
    let halves: &[u16] = &[
        0x0501, // c.addi a0, 0 (HINT)
        0x4015, // c.li zero, 5 (HINT)
        0x6005, // c.lui zero, 1 (HINT)
        0x707d, // c.lui zero, -1 (HINT)
        0x802a, // c.mv zero, a0 (HINT)
        0x902a, // c.add zero, a0 (HINT)
        0x0006, // c.slli zero, 1 (HINT)
        0x0502, // c.slli a0, 0 (HINT)
        0x0002, // c.slli zero, 0 (HINT)
        0x8101, // c.srli a0, 0 (HINT)
        0x8501, // c.srai a0, 0 (HINT)
        0x0015, // c.nop 5 (HINT)
        0x107d, // c.nop -1 (HINT)
        0x0000, // c.unimp
        0x2000, // c.fld
        0xa000, // c.fsd
        0x8000, // reserved Q0 100
        0x6101, // c.addi16sp 0 (reserved)
        0x6501, // c.lui a0, 0 (reserved)
        0x2001, // c.addiw zero (reserved)
        0x4002, // c.lwsp zero (reserved)
        0x6002, // c.ldsp zero (reserved)
        0x8002, // c.jr zero (reserved)
        0x9c41, // reserved CA (bit12=1, funct2=10)
        0x9c61, // reserved CA (bit12=1, funct2=11)
        0x2002, // c.fldsp
        0xa002, // c.fsdsp
    ];
    let words: &[u32] = &[
        0xffff_ffff,
        0xc000_1073, // unimp (csrrw x0, cycle, x0)
        0x0000_702f, // AMO funct3 = 111
        0x0000_000f, // fence with empty sets
        0x0300_000f, // fence rw, <empty>
        0x8000_000f, // fence fm=1000 with empty sets
        0x0010_100f, // fence.i with a non-zero immediate
        0x0000_0000,
        0x0000_7003, // load funct3 = 111
        0x0000_4023, // store funct3 = 100
        0x0000_2063, // branch funct3 = 010
        0x0000_1067, // jalr funct3 = 001
        0x0200_0073, // unsupported SYSTEM
        0x0000_1073, // csrrw
        0x4000_1013, // slli with funct6 = 010000
        0x0800_403b, // zext.h (rs2 = 0)
        0x0810_403b, // zext.h pattern with rs2 != 0 (pack, not modelled)
        0x0000_002f, // amoadd.w x0, x0, (x0)
        0x1010_202f, // lr.w with rs2 != 0
    ];
    let mut v: Vec<Vec<u8>> = halves.iter().map(|h| h.to_le_bytes().to_vec()).collect();
    v.extend(words.iter().map(|w| w.to_le_bytes().to_vec()));
    v
}
