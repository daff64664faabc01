//! Differential tests: random RV64IMAC + Zba/Zbb programs run in our emulator
//! and in ckb-vm (an independent implementation); all registers, the touched
//! memory and the retired-instruction count must agree.
//!
//! Programs come from the crate's `testing::inst()` strategy, rewritten so
//! they stay meaningful and inside what both machines define identically:
//! - memory operands use `sp`/`s0` (pointing into an 8 KiB data block) and
//!   any 12-bit offset, so misaligned accesses are exercised;
//! - atomics address aligned slots of a separate block through `t6`;
//!   `lr`/`sc` come in pairs with only register operations between them,
//!   because ckb-vm keeps a reservation across plain stores while we drop it
//!   (both are allowed by the A extension; our choice is the stricter one);
//! - control flow is built from forward branches/`jal`/`jalr` over later
//!   items, plus an optional loop around the whole body.
//!
//! Registers `sp s0 gp tp t5 t6` hold these pointers and counters and are
//! never written by generated instructions.

mod emu_support;

use emu_support::asm::ops::addi;
use emu_support::ckb::{self, Image};
use emu_support::ours;
use proptest::prelude::*;
use proptest::sample::select;
use rvbpf_rv64::emu::Stop;
use rvbpf_rv64::testing;
use rvbpf_rv64::{
    compress, encode, AmoWidth, BranchOffset, BranchOp, Imm12, Imm20, Inst, JumpOffset, Ordering,
    Reg,
};

const CODE_BASE: u64 = 0x1_0000;
const DATA_BASE: u64 = 0x2_0000;
const DATA_SIZE: usize = 8192;
const ATOM_BASE: u64 = 0x3_0000;
const ATOM_SIZE: usize = 4096;
/// `sp` and `s0` point to the middle of the data block: any 12-bit offset
/// plus an 8-byte access stays inside.
const DATA_PTR: u64 = DATA_BASE + 4096;
const BUDGET: u64 = 100_000;

const RESERVED: [Reg; 6] = [Reg::SP, Reg::S0, Reg::GP, Reg::TP, Reg::T5, Reg::T6];

/// Redirects writes to a reserved register to a free one.
fn free_rd(rd: Reg) -> Reg {
    match rd {
        r if r == Reg::SP => Reg::A1,
        r if r == Reg::S0 => Reg::A2,
        r if r == Reg::GP => Reg::A3,
        r if r == Reg::TP => Reg::A4,
        r if r == Reg::T5 => Reg::S1,
        r if r == Reg::T6 => Reg::A5,
        r => r,
    }
}

/// One unit of a generated program.
#[derive(Debug, Clone)]
enum Item {
    /// A register-only instruction; `bool` = use the RVC form if any.
    Plain(Inst, bool),
    /// A load or store relative to `sp`/`s0`.
    Mem(Inst, bool),
    /// `addi t6, gp, 8*slot` then an AMO on `(t6)`.
    Amo(Inst, u8),
    /// `addi t6, gp, 8*slot; lr; middle...; [addi t6, t6, 8]; sc`.
    LrSc {
        lr: Inst,
        middle: Vec<Inst>,
        sc: Inst,
        slot: u8,
        same_address: bool,
    },
    /// Conditional branch over the next `skip` items.
    Branch {
        op: BranchOp,
        rs1: Reg,
        rs2: Reg,
        skip: usize,
    },
    /// `jal rd` over the next `skip` items.
    Jal { rd: Reg, skip: usize },
    /// `auipc t5, 0; jalr rd, off(t5)` over the next `skip` items.
    Jalr { rd: Reg, skip: usize },
}

fn plain() -> impl Strategy<Value = Inst> {
    testing::inst().prop_filter_map("register-only instruction", |inst| {
        Some(match inst {
            Inst::Lui { rd, imm } => Inst::Lui {
                rd: free_rd(rd),
                imm,
            },
            Inst::Auipc { rd, imm } => Inst::Auipc {
                rd: free_rd(rd),
                imm,
            },
            Inst::AluImm { op, rd, rs1, imm } => Inst::AluImm {
                op,
                rd: free_rd(rd),
                rs1,
                imm,
            },
            Inst::Shift { op, rd, rs1, shamt } => Inst::Shift {
                op,
                rd: free_rd(rd),
                rs1,
                shamt,
            },
            Inst::ShiftW { op, rd, rs1, shamt } => Inst::ShiftW {
                op,
                rd: free_rd(rd),
                rs1,
                shamt,
            },
            Inst::Alu { op, rd, rs1, rs2 } => Inst::Alu {
                op,
                rd: free_rd(rd),
                rs1,
                rs2,
            },
            Inst::Unary { op, rd, rs1 } => Inst::Unary {
                op,
                rd: free_rd(rd),
                rs1,
            },
            Inst::Fence { .. } | Inst::FenceTso | Inst::FenceI => inst,
            _ => return None,
        })
    })
}

fn mem_op() -> impl Strategy<Value = Inst> {
    (testing::inst(), any::<bool>()).prop_filter_map("load or store", |(inst, use_s0)| {
        let base = if use_s0 { Reg::S0 } else { Reg::SP };
        Some(match inst {
            Inst::Load { op, rd, offset, .. } => Inst::Load {
                op,
                rd: free_rd(rd),
                rs1: base,
                offset,
            },
            Inst::Store {
                op, rs2, offset, ..
            } => Inst::Store {
                op,
                rs1: base,
                rs2,
                offset,
            },
            _ => return None,
        })
    })
}

fn amo() -> impl Strategy<Value = Inst> {
    testing::inst().prop_filter_map("amo", |inst| match inst {
        Inst::Amo {
            op,
            width,
            ordering,
            rd,
            rs2,
            ..
        } => Some(Inst::Amo {
            op,
            width,
            ordering,
            rd: free_rd(rd),
            rs1: Reg::T6,
            rs2,
        }),
        _ => None,
    })
}

fn lr_sc() -> impl Strategy<Value = Item> {
    (
        select(AmoWidth::ALL),
        select(Ordering::ALL),
        testing::reg(),
        testing::reg(),
        testing::reg(),
        prop::collection::vec(plain(), 0..4),
        0u8..16,
        any::<bool>(),
    )
        .prop_map(
            |(width, ordering, rd1, rd2, rs2, middle, slot, same_address)| Item::LrSc {
                lr: Inst::Lr {
                    width,
                    ordering,
                    rd: free_rd(rd1),
                    rs1: Reg::T6,
                },
                middle,
                sc: Inst::Sc {
                    width,
                    ordering,
                    rd: free_rd(rd2),
                    rs1: Reg::T6,
                    rs2,
                },
                slot,
                same_address,
            },
        )
}

fn item(control_flow: bool) -> BoxedStrategy<Item> {
    let data = prop_oneof![
        8 => (plain(), any::<bool>()).prop_map(|(i, c)| Item::Plain(i, c)),
        4 => (mem_op(), any::<bool>()).prop_map(|(i, c)| Item::Mem(i, c)),
        1 => (amo(), 0u8..16).prop_map(|(i, s)| Item::Amo(i, s)),
        1 => lr_sc(),
    ];
    if !control_flow {
        return data.boxed();
    }
    prop_oneof![
        12 => data,
        2 => (select(BranchOp::ALL), testing::reg(), testing::reg(), 0usize..4)
            .prop_map(|(op, rs1, rs2, skip)| Item::Branch { op, rs1, rs2, skip }),
        1 => (testing::reg(), 0usize..4).prop_map(|(rd, skip)| Item::Jal { rd: free_rd(rd), skip }),
        1 => (testing::reg(), 0usize..4).prop_map(|(rd, skip)| Item::Jalr { rd: free_rd(rd), skip }),
    ]
    .boxed()
}

fn emit(out: &mut Vec<u8>, inst: Inst, compressed: bool) {
    match compress(&inst).filter(|_| compressed) {
        Some(half) => out.extend_from_slice(&half.to_le_bytes()),
        None => out.extend_from_slice(&encode(&inst).to_le_bytes()),
    }
}

fn imm12(v: i64) -> Imm12 {
    Imm12::new(v).expect("imm12")
}

/// Encodes `items`; control-flow items jump forward over `skip` items (at
/// most to the end of the list, where the epilogue starts).
fn encode_items(items: &[Item]) -> Vec<u8> {
    // Pass 1: every item's bytes; control flow has a fixed size, so offsets
    // can be filled in afterwards.
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for item in items {
        let mut b = Vec::new();
        match item {
            Item::Plain(i, c) | Item::Mem(i, c) => emit(&mut b, *i, *c),
            Item::Amo(i, slot) => {
                emit(&mut b, addi(Reg::T6, Reg::GP, i64::from(*slot) * 8), false);
                emit(&mut b, *i, false);
            }
            Item::LrSc {
                lr,
                middle,
                sc,
                slot,
                same_address,
            } => {
                emit(&mut b, addi(Reg::T6, Reg::GP, i64::from(*slot) * 8), false);
                emit(&mut b, *lr, false);
                for &m in middle {
                    emit(&mut b, m, true);
                }
                if !same_address {
                    emit(&mut b, addi(Reg::T6, Reg::T6, 8), false);
                }
                emit(&mut b, *sc, false);
            }
            Item::Branch { .. } | Item::Jal { .. } => b.resize(4, 0),
            Item::Jalr { .. } => b.resize(8, 0),
        }
        chunks.push(b);
    }
    // Pass 2: forward offsets.
    for k in 0..items.len() {
        let over = |skip: usize| -> i64 {
            chunks[k + 1..(k + 1 + skip).min(items.len())]
                .iter()
                .map(|c| c.len() as i64)
                .sum()
        };
        let bytes: Vec<u8> = match items[k] {
            Item::Branch { op, rs1, rs2, skip } => {
                let offset = BranchOffset::new(4 + over(skip)).expect("short branch");
                encode(&Inst::Branch {
                    op,
                    rs1,
                    rs2,
                    offset,
                })
                .to_le_bytes()
                .to_vec()
            }
            Item::Jal { rd, skip } => {
                let offset = JumpOffset::new(4 + over(skip)).expect("short jump");
                encode(&Inst::Jal { rd, offset }).to_le_bytes().to_vec()
            }
            Item::Jalr { rd, skip } => {
                let auipc = Inst::Auipc {
                    rd: Reg::T5,
                    imm: Imm20::ZERO,
                };
                let jalr = Inst::Jalr {
                    rd,
                    rs1: Reg::T5,
                    offset: imm12(8 + over(skip)),
                };
                [encode(&auipc).to_le_bytes(), encode(&jalr).to_le_bytes()].concat()
            }
            _ => continue,
        };
        chunks[k] = bytes;
    }
    chunks.concat()
}

/// A whole program: optional loop of `trips` around the body, then `ecall`.
fn program(items: &[Item], trips: Option<u8>) -> Vec<u8> {
    let mut code = Vec::new();
    let body = encode_items(items);
    match trips {
        None => {
            code.extend_from_slice(&body);
        }
        Some(n) => {
            emit(&mut code, addi(Reg::TP, Reg::ZERO, i64::from(n)), false);
            code.extend_from_slice(&body);
            emit(&mut code, addi(Reg::TP, Reg::TP, -1), false);
            let back = -(body.len() as i64 + 4);
            let offset = BranchOffset::new(back).expect("loop fits a branch");
            emit(
                &mut code,
                Inst::Branch {
                    op: BranchOp::Bne,
                    rs1: Reg::TP,
                    rs2: Reg::ZERO,
                    offset,
                },
                false,
            );
        }
    }
    emit(&mut code, Inst::Ecall, false);
    code
}

fn reg_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        1 => select(vec![0, 1, 2, 31, 32, 63, 64, u64::MAX, i64::MIN as u64, i64::MAX as u64, 0x8000_0000, 0xffff_ffff]),
        1 => (-64i64..64).prop_map(|v| v as u64),
    ]
}

fn image(code: Vec<u8>, regs: [u64; 32], data: Vec<u8>, atom: Vec<u8>) -> Image {
    let mut regs = regs;
    regs[0] = 0;
    for r in RESERVED {
        regs[usize::from(r.index())] = 0;
    }
    regs[usize::from(Reg::SP.index())] = DATA_PTR;
    regs[usize::from(Reg::S0.index())] = DATA_PTR;
    regs[usize::from(Reg::GP.index())] = ATOM_BASE;
    Image {
        code_base: CODE_BASE,
        code,
        data: vec![(DATA_BASE, data), (ATOM_BASE, atom)],
        regs,
        entry: CODE_BASE,
    }
}

/// Runs `image` on both machines and compares everything observable.
fn compare(image: &Image) -> Result<(), TestCaseError> {
    let theirs = ckb::run_reference(image, BUDGET);
    let (mut hart, mut mem) = ours::load(image);
    hart.set_budget(BUDGET);
    let stop = hart.run(&mut mem);
    prop_assert!(theirs.result.is_ok(), "ckb-vm failed: {:?}", theirs.result);
    prop_assert!(
        matches!(stop, Ok(Stop::Ecall { .. })),
        "emulator stopped with {stop:?}"
    );
    let ours_regs = hart.regs();
    for (i, (mine, oracle)) in ours_regs.iter().zip(&theirs.regs).enumerate() {
        prop_assert_eq!(
            mine,
            oracle,
            "x{} differs (ours {:#x}, ckb-vm {:#x})",
            i,
            mine,
            oracle
        );
    }
    prop_assert_eq!(
        hart.counters().instructions,
        theirs.instructions,
        "retired instructions"
    );
    prop_assert_eq!(hart.pc(), theirs.pc, "pc after the final ecall");
    let ours_data = ours::data(&mem, image);
    for (i, (a, b)) in ours_data.iter().zip(&theirs.data).enumerate() {
        if a != b {
            let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
            prop_assert!(
                false,
                "data block {i} differs first at byte {at:#x}: ours {:#x}, ckb-vm {:#x}",
                a[at],
                b[at]
            );
        }
    }
    Ok(())
}

fn regs() -> impl Strategy<Value = [u64; 32]> {
    prop::array::uniform32(reg_value())
}

fn bytes(n: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(vec![0u8; n]), prop::collection::vec(any::<u8>(), n)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn straight_line_programs_match_ckb_vm(
        items in prop::collection::vec(item(false), 1..60),
        regs in regs(),
        data in bytes(DATA_SIZE),
        atom in bytes(ATOM_SIZE),
    ) {
        compare(&image(program(&items, None), regs, data, atom))?;
    }

    #[test]
    fn branching_and_looping_programs_match_ckb_vm(
        items in prop::collection::vec(item(true), 1..40),
        trips in prop::option::of(1u8..6),
        regs in regs(),
        data in bytes(DATA_SIZE),
        atom in bytes(ATOM_SIZE),
    ) {
        compare(&image(program(&items, trips), regs, data, atom))?;
    }
}

#[test]
fn the_speed_workloads_match_ckb_vm() {
    for w in emu_support::workloads::all(300) {
        let theirs = ckb::run_reference(&w.image, 10_000_000);
        let (mut hart, mut mem) = ours::load(&w.image);
        assert!(
            matches!(hart.run(&mut mem), Ok(Stop::Ecall { .. })),
            "{}",
            w.name
        );
        assert_eq!(hart.regs(), theirs.regs, "{}", w.name);
        assert_eq!(
            hart.counters().instructions,
            theirs.instructions,
            "{}",
            w.name
        );
        assert_eq!(ours::data(&mem, &w.image), theirs.data, "{}", w.name);
    }
}
