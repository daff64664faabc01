//! Text forms of instructions.
//!
//! - [`Inst::display`] gives the `llvm-objdump -d` spelling (LLVM 14): ABI
//!   register names, LLVM's printing aliases (`li`, `mv`, `ret`, `beqz` ...),
//!   and branch/jump targets as absolute hex addresses for a given pc.
//! - [`Inst::display_canonical`] gives the alias-free spelling with relative
//!   offsets, which `llvm-mc` accepts as input (used by the oracle tests).
//! - [`disassemble`] lists a byte buffer like `llvm-objdump -d`, including the
//!   RVC HINT spellings (`c.li zero, 5`) that only the raw bits distinguish.

use crate::decode::{decode, insn_len};
use crate::inst::Inst;
use crate::op::{AluImmOp, AluOp, BranchOp, FenceSet, ShiftOp};
use crate::reg::Reg;
use std::fmt;

/// An instruction ready to print in objdump style at a given pc.
#[derive(Clone, Copy, Debug)]
pub struct Printed<'a> {
    inst: &'a Inst,
    pc: u64,
}

/// An instruction ready to print in canonical, `llvm-mc`-parsable form.
#[derive(Clone, Copy, Debug)]
pub struct Canonical<'a>(&'a Inst);

impl Inst {
    /// objdump-style text; `pc` is the instruction's address (for branch targets).
    pub fn display(&self, pc: u64) -> Printed<'_> {
        Printed { inst: self, pc }
    }

    /// Alias-free assembler text with pc-relative offsets (`llvm-mc` input).
    pub fn display_canonical(&self) -> Canonical<'_> {
        Canonical(self)
    }
}

/// Fence set as LLVM prints it: the empty set is `unknown`.
fn fence_set(s: FenceSet) -> &'static str {
    if s.bits() == 0 {
        "unknown"
    } else {
        s.name()
    }
}

impl fmt::Display for Printed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = |offset: i64| self.pc.wrapping_add(offset as u64);
        match *self.inst {
            Inst::AluImm { op, rd, rs1, imm } => match (op, imm.value()) {
                (AluImmOp::Addi, 0) if rd.is_zero() && rs1.is_zero() => f.write_str("nop"),
                (AluImmOp::Addi, v) if rs1.is_zero() => write!(f, "li {rd}, {v}"),
                (AluImmOp::Addi, 0) => write!(f, "mv {rd}, {rs1}"),
                (AluImmOp::Addiw, 0) => write!(f, "sext.w {rd}, {rs1}"),
                (AluImmOp::Xori, -1) => write!(f, "not {rd}, {rs1}"),
                (AluImmOp::Sltiu, 1) => write!(f, "seqz {rd}, {rs1}"),
                _ => write!(f, "{} {rd}, {rs1}, {imm}", op.mnemonic()),
            },
            Inst::Alu { op, rd, rs1, rs2 } => match op {
                AluOp::Sub if rs1.is_zero() => write!(f, "neg {rd}, {rs2}"),
                AluOp::Subw if rs1.is_zero() => write!(f, "negw {rd}, {rs2}"),
                AluOp::Sltu if rs1.is_zero() => write!(f, "snez {rd}, {rs2}"),
                AluOp::Slt if rs2.is_zero() => write!(f, "sltz {rd}, {rs1}"),
                AluOp::Slt if rs1.is_zero() => write!(f, "sgtz {rd}, {rs2}"),
                AluOp::AddUw if rs2.is_zero() => write!(f, "zext.w {rd}, {rs1}"),
                _ => write!(f, "{} {rd}, {rs1}, {rs2}", op.mnemonic()),
            },
            Inst::Branch {
                op,
                rs1,
                rs2,
                offset,
            } => {
                let t = target(offset.value());
                match op {
                    BranchOp::Beq if rs2.is_zero() => write!(f, "beqz {rs1}, {t:#x}"),
                    BranchOp::Bne if rs2.is_zero() => write!(f, "bnez {rs1}, {t:#x}"),
                    BranchOp::Bge if rs1.is_zero() => write!(f, "blez {rs2}, {t:#x}"),
                    BranchOp::Bge if rs2.is_zero() => write!(f, "bgez {rs1}, {t:#x}"),
                    BranchOp::Blt if rs2.is_zero() => write!(f, "bltz {rs1}, {t:#x}"),
                    BranchOp::Blt if rs1.is_zero() => write!(f, "bgtz {rs2}, {t:#x}"),
                    _ => write!(f, "{} {rs1}, {rs2}, {t:#x}", op.mnemonic()),
                }
            }
            Inst::Jal { rd, offset } => {
                let t = target(offset.value());
                match rd {
                    Reg::ZERO => write!(f, "j {t:#x}"),
                    Reg::RA => write!(f, "jal {t:#x}"),
                    _ => write!(f, "jal {rd}, {t:#x}"),
                }
            }
            Inst::Jalr { rd, rs1, offset } => match (rd, offset.value()) {
                (Reg::ZERO, 0) if rs1 == Reg::RA => f.write_str("ret"),
                (Reg::ZERO, 0) => write!(f, "jr {rs1}"),
                (Reg::ZERO, o) => write!(f, "jr {o}({rs1})"),
                (Reg::RA, 0) => write!(f, "jalr {rs1}"),
                (Reg::RA, o) => write!(f, "jalr {o}({rs1})"),
                (_, 0) => write!(f, "jalr {rd}, {rs1}"),
                (_, o) => write!(f, "jalr {rd}, {o}({rs1})"),
            },
            Inst::Fence { pred, succ } if pred == FenceSet::IORW && succ == FenceSet::IORW => {
                f.write_str("fence")
            }
            Inst::Fence { pred, succ } => {
                write!(f, "fence {}, {}", fence_set(pred), fence_set(succ))
            }
            _ => write_common(self.inst, f),
        }
    }
}

impl fmt::Display for Canonical<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0 {
            Inst::AluImm { op, rd, rs1, imm } => write!(f, "{} {rd}, {rs1}, {imm}", op.mnemonic()),
            Inst::Alu { op, rd, rs1, rs2 } => write!(f, "{} {rd}, {rs1}, {rs2}", op.mnemonic()),
            Inst::Branch {
                op,
                rs1,
                rs2,
                offset,
            } => {
                write!(f, "{} {rs1}, {rs2}, {offset}", op.mnemonic())
            }
            Inst::Jal { rd, offset } => write!(f, "jal {rd}, {offset}"),
            Inst::Jalr { rd, rs1, offset } => write!(f, "jalr {rd}, {offset}({rs1})"),
            Inst::Fence { pred, succ } => write!(f, "fence {}, {}", pred.name(), succ.name()),
            _ => write_common(self.0, f),
        }
    }
}

/// Forms printed the same way with and without aliases.
fn write_common(inst: &Inst, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match *inst {
        Inst::Lui { rd, imm } => write!(f, "lui {rd}, {imm}"),
        Inst::Auipc { rd, imm } => write!(f, "auipc {rd}, {imm}"),
        Inst::Load {
            op,
            rd,
            rs1,
            offset,
        } => write!(f, "{} {rd}, {offset}({rs1})", op.mnemonic()),
        Inst::Store {
            op,
            rs1,
            rs2,
            offset,
        } => {
            write!(f, "{} {rs2}, {offset}({rs1})", op.mnemonic())
        }
        Inst::Shift { op, rd, rs1, shamt } => write!(f, "{} {rd}, {rs1}, {shamt}", op.mnemonic()),
        Inst::ShiftW { op, rd, rs1, shamt } => {
            write!(f, "{} {rd}, {rs1}, {shamt}", op.mnemonic())
        }
        Inst::Unary { op, rd, rs1 } => write!(f, "{} {rd}, {rs1}", op.mnemonic()),
        Inst::Amo {
            op,
            width,
            ordering,
            rd,
            rs1,
            rs2,
        } => write!(
            f,
            "{}{}{} {rd}, {rs2}, ({rs1})",
            op.mnemonic(),
            width.suffix(),
            ordering.suffix()
        ),
        Inst::Lr {
            width,
            ordering,
            rd,
            rs1,
        } => {
            write!(f, "lr{}{} {rd}, ({rs1})", width.suffix(), ordering.suffix())
        }
        Inst::Sc {
            width,
            ordering,
            rd,
            rs1,
            rs2,
        } => {
            write!(
                f,
                "sc{}{} {rd}, {rs2}, ({rs1})",
                width.suffix(),
                ordering.suffix()
            )
        }
        Inst::FenceTso => f.write_str("fence.tso"),
        Inst::FenceI => f.write_str("fence.i"),
        Inst::Ecall => f.write_str("ecall"),
        Inst::Ebreak => f.write_str("ebreak"),
        // Handled by both callers before reaching here.
        Inst::AluImm { .. }
        | Inst::Alu { .. }
        | Inst::Branch { .. }
        | Inst::Jal { .. }
        | Inst::Jalr { .. }
        | Inst::Fence { .. } => write!(f, "{inst:?}"),
    }
}

/// One disassembled instruction (or undecodable chunk).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Line {
    /// Byte offset of the instruction within the input buffer.
    pub offset: usize,
    /// Its address (`base_pc + offset`).
    pub address: u64,
    /// Its bytes (2 or 4; fewer for a truncated tail).
    pub bytes: Vec<u8>,
    /// objdump-style text; `<unknown>` when the bytes do not decode.
    pub text: String,
}

impl fmt::Display for Line {
    /// `llvm-objdump -d` layout: `   addr: bytes        \ttext`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: Vec<String> = self.bytes.iter().map(|b| format!("{b:02x}")).collect();
        write!(
            f,
            "{:8x}: {:<12} \t{}",
            self.address,
            hex.join(" "),
            self.text
        )
    }
}

/// Disassembles `bytes` as a sequence of instructions starting at `base_pc`,
/// like `llvm-objdump -d`. Undecodable bytes produce a `<unknown>` line and
/// the listing continues after them.
pub fn disassemble(bytes: &[u8], base_pc: u64) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let (len, text) = disassemble_one(&bytes[offset..], base_pc.wrapping_add(offset as u64));
        lines.push(Line {
            offset,
            address: base_pc.wrapping_add(offset as u64),
            bytes: bytes[offset..offset + len].to_vec(),
            text,
        });
        offset += len;
    }
    lines
}

/// Text of the one instruction at the start of `bytes`, located at `pc`, and
/// how many bytes it covers (2 or 4, or what is left of a truncated tail;
/// never 0 for non-empty input). Unlike [`Inst::display`] this sees the raw
/// bits, so RVC HINTs print as LLVM prints them (`c.li zero, 5`).
pub fn disassemble_one(bytes: &[u8], pc: u64) -> (usize, String) {
    match decode(bytes) {
        Ok((inst, 2)) => {
            let half = u16::from_le_bytes([bytes[0], bytes[1]]);
            let text = rvc_hint_text(half).unwrap_or_else(|| inst.display(pc).to_string());
            (2, text)
        }
        Ok((inst, len)) => (len, inst.display(pc).to_string()),
        Err(_) => {
            // LLVM treats anything whose low bits are 11 as 32 bits long.
            let len = match bytes {
                [b0, b1, ..] => match insn_len(u16::from_le_bytes([*b0, *b1])) {
                    Some(2) => 2,
                    _ => 4,
                },
                _ => 2,
            }
            .min(bytes.len());
            (len, unknown_text(&bytes[..len]).to_string())
        }
    }
}

/// LLVM's text for bytes we do not decode: the two canonical "unimp"
/// encodings (`c.unimp` = 0x0000 and `csrrw x0, cycle, x0`) get a name.
fn unknown_text(chunk: &[u8]) -> &'static str {
    match chunk {
        [0, 0] => "unimp",
        [0x73, 0x10, 0x00, 0xc0] => "unimp",
        _ => "<unknown>",
    }
}

/// LLVM prints RVC HINT encodings with their compressed mnemonic, because
/// they have no base-instruction expansion in its tables. `None` for
/// non-hints (and for `c.addi rd, 0`, which LLVM expands to `mv rd, rd`).
fn rvc_hint_text(half: u16) -> Option<String> {
    let h = half as u32;
    let rd = Reg::from_field(h >> 7);
    let rs2 = Reg::from_field(h >> 2);
    let rd_p = Reg::from_compressed_field(h >> 7);
    let imm6 = ((((h >> 12) & 1) << 5 | ((h >> 2) & 0x1f)) << 26) as i32 >> 26;
    let shamt = ((h >> 12) & 1) << 5 | ((h >> 2) & 0x1f);
    match (h & 3, h >> 13) {
        (0b01, 0b000) if rd.is_zero() && imm6 != 0 => Some(format!("c.nop {imm6}")),
        (0b01, 0b010) if rd.is_zero() => Some(format!("c.li zero, {imm6}")),
        (0b01, 0b011) if rd.is_zero() && imm6 != 0 => {
            // Unlike `lui`, LLVM prints the HINT's immediate signed.
            Some(format!("c.lui zero, {imm6}"))
        }
        (0b01, 0b100) if (h >> 10) & 3 < 2 && shamt == 0 => {
            let name = if (h >> 10) & 3 == 0 {
                ShiftOp::Srli
            } else {
                ShiftOp::Srai
            };
            Some(format!("c.{}64 {rd_p}", name.mnemonic()))
        }
        (0b10, 0b000) if shamt == 0 => Some(format!("c.slli64 {rd}")),
        (0b10, 0b000) if rd.is_zero() => Some(format!("c.slli zero, {shamt}")),
        (0b10, 0b100) if rd.is_zero() && !rs2.is_zero() => {
            let name = if (h >> 12) & 1 == 0 { "c.mv" } else { "c.add" };
            Some(format!("{name} zero, {rs2}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imm::{BranchOffset, Imm12, JumpOffset};

    #[test]
    fn branch_and_jump_targets_are_absolute() {
        let beq = Inst::Branch {
            op: BranchOp::Beq,
            rs1: Reg::A0,
            rs2: Reg::A1,
            offset: BranchOffset::new(-4).unwrap(),
        };
        // 0x1000 - 4 = 0xffc.
        assert_eq!(beq.display(0x1000).to_string(), "beq a0, a1, 0xffc");
        assert_eq!(beq.display_canonical().to_string(), "beq a0, a1, -4");
        let j = Inst::Jal {
            rd: Reg::ZERO,
            offset: JumpOffset::new(16).unwrap(),
        };
        assert_eq!(j.display(0x20).to_string(), "j 0x30");
        assert_eq!(j.display_canonical().to_string(), "jal zero, 16");
    }

    #[test]
    fn loads_stores_and_aliases() {
        let ld = Inst::Load {
            op: crate::op::LoadOp::Ld,
            rd: Reg::A0,
            rs1: Reg::SP,
            offset: Imm12::new(-8).unwrap(),
        };
        assert_eq!(ld.display(0).to_string(), "ld a0, -8(sp)");
        assert_eq!(Inst::NOP.display(0).to_string(), "nop");
        assert_eq!(Inst::RET.display(0).to_string(), "ret");
        assert_eq!(
            Inst::mv(Reg::S1, Reg::T6).display(0).to_string(),
            "mv s1, t6"
        );
    }

    #[test]
    fn disassemble_names_hints_and_skips_unknown() {
        // 0x4015 = c.li x0, 5 (HINT); 0x2000 = c.fld (unmodelled); 0x0505 = c.addi a0, 1.
        let lines = disassemble(&[0x15, 0x40, 0x00, 0x20, 0x05, 0x05], 0x100);
        let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(text, ["c.li zero, 5", "<unknown>", "addi a0, a0, 1"]);
        assert_eq!(lines[2].address, 0x104);
        assert_eq!(lines[2].offset, 4);
        assert_eq!(
            lines[2].to_string(),
            "     104: 05 05        \taddi a0, a0, 1"
        );
    }
}
