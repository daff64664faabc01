//! A tiny label-resolving assembler over the crate's encoder, for tests,
//! benches and examples. Non-control instructions use their RVC form when
//! `compressed` is on; branches and `jal` are always 32-bit so the layout is
//! known before labels are resolved.

#![allow(dead_code)]

use std::collections::HashMap;

use rvbpf_rv64::{compress, encode, BranchOffset, BranchOp, Inst, JumpOffset, Reg};

enum Fixup {
    Branch {
        op: BranchOp,
        rs1: Reg,
        rs2: Reg,
        label: &'static str,
    },
    Jal {
        rd: Reg,
        label: &'static str,
    },
}

/// Assembler state.
pub struct Asm {
    bytes: Vec<u8>,
    compressed: bool,
    labels: HashMap<&'static str, usize>,
    fixups: Vec<(usize, Fixup)>,
}

impl Asm {
    /// Empty program; `compressed` selects RVC forms where they exist.
    pub fn new(compressed: bool) -> Self {
        Asm {
            bytes: Vec::new(),
            compressed,
            labels: HashMap::new(),
            fixups: Vec::new(),
        }
    }

    /// Current offset.
    pub fn here(&self) -> usize {
        self.bytes.len()
    }

    /// Appends one instruction.
    pub fn i(&mut self, inst: Inst) -> &mut Self {
        match compress(&inst).filter(|_| self.compressed) {
            Some(half) => self.bytes.extend_from_slice(&half.to_le_bytes()),
            None => self.bytes.extend_from_slice(&encode(&inst).to_le_bytes()),
        }
        self
    }

    /// Appends several instructions.
    pub fn all(&mut self, insts: &[Inst]) -> &mut Self {
        for &inst in insts {
            self.i(inst);
        }
        self
    }

    /// Defines `name` at the current offset.
    pub fn label(&mut self, name: &'static str) -> &mut Self {
        self.labels.insert(name, self.bytes.len());
        self
    }

    /// Conditional branch to `label`.
    pub fn branch(&mut self, op: BranchOp, rs1: Reg, rs2: Reg, label: &'static str) -> &mut Self {
        self.fixups.push((
            self.bytes.len(),
            Fixup::Branch {
                op,
                rs1,
                rs2,
                label,
            },
        ));
        self.bytes.extend_from_slice(&[0; 4]);
        self
    }

    /// `jal rd, label`.
    pub fn jal(&mut self, rd: Reg, label: &'static str) -> &mut Self {
        self.fixups
            .push((self.bytes.len(), Fixup::Jal { rd, label }));
        self.bytes.extend_from_slice(&[0; 4]);
        self
    }

    /// Resolves labels and returns the bytes.
    ///
    /// # Panics
    /// On an undefined label or an out-of-range offset (test programs only).
    pub fn finish(mut self) -> Vec<u8> {
        for (at, fixup) in std::mem::take(&mut self.fixups) {
            let target = |label: &str| self.labels[label] as i64 - at as i64;
            let inst = match fixup {
                Fixup::Branch {
                    op,
                    rs1,
                    rs2,
                    label,
                } => Inst::Branch {
                    op,
                    rs1,
                    rs2,
                    offset: BranchOffset::new(target(label)).expect("branch in range"),
                },
                Fixup::Jal { rd, label } => Inst::Jal {
                    rd,
                    offset: JumpOffset::new(target(label)).expect("jal in range"),
                },
            };
            self.bytes[at..at + 4].copy_from_slice(&encode(&inst).to_le_bytes());
        }
        self.bytes
    }
}

/// Shorthand constructors for test programs.
pub mod ops {
    use rvbpf_rv64::{AluImmOp, AluOp, Imm12, Imm20, Inst, LoadOp, Reg, Shamt, ShiftOp, StoreOp};

    /// `<op>i rd, rs1, imm`.
    pub fn imm(op: AluImmOp, rd: Reg, rs1: Reg, imm: i64) -> Inst {
        Inst::AluImm {
            op,
            rd,
            rs1,
            imm: Imm12::new(imm).expect("imm12"),
        }
    }
    /// `addi rd, rs1, imm`.
    pub fn addi(rd: Reg, rs1: Reg, v: i64) -> Inst {
        imm(AluImmOp::Addi, rd, rs1, v)
    }
    /// `<op> rd, rs1, rs2`.
    pub fn alu(op: AluOp, rd: Reg, rs1: Reg, rs2: Reg) -> Inst {
        Inst::Alu { op, rd, rs1, rs2 }
    }
    /// `<shift>i rd, rs1, shamt`.
    pub fn shift(op: ShiftOp, rd: Reg, rs1: Reg, shamt: u32) -> Inst {
        Inst::Shift {
            op,
            rd,
            rs1,
            shamt: Shamt::new(shamt).expect("shamt"),
        }
    }
    /// `l* rd, offset(rs1)`.
    pub fn load(op: LoadOp, rd: Reg, rs1: Reg, offset: i64) -> Inst {
        Inst::Load {
            op,
            rd,
            rs1,
            offset: Imm12::new(offset).expect("imm12"),
        }
    }
    /// `s* rs2, offset(rs1)`.
    pub fn store(op: StoreOp, rs2: Reg, rs1: Reg, offset: i64) -> Inst {
        Inst::Store {
            op,
            rs1,
            rs2,
            offset: Imm12::new(offset).expect("imm12"),
        }
    }
    /// `lui rd, imm20`.
    pub fn lui(rd: Reg, imm20: i64) -> Inst {
        Inst::Lui {
            rd,
            imm: Imm20::new(imm20).expect("imm20"),
        }
    }
    /// `li rd, value` for a 32-bit signed value (`lui` + `addiw`, or `addi`).
    pub fn li(rd: Reg, value: i32) -> Vec<Inst> {
        let v = i64::from(value);
        if (-2048..2048).contains(&v) {
            return vec![addi(rd, Reg::ZERO, v)];
        }
        let lo = (v << 52) >> 52; // sign-extended low 12 bits
        let hi = ((v - lo) >> 12) as i32;
        // `hi` may be 0x80000 which as signed 20-bit is -0x80000.
        let hi = i64::from((hi << 12) >> 12);
        if lo == 0 {
            return vec![lui(rd, hi)];
        }
        vec![lui(rd, hi), imm(AluImmOp::Addiw, rd, rd, lo)]
    }
}
