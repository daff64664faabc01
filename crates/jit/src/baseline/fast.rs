//! The hot path: the common instructions lowered straight from their raw
//! 8-byte encoding, without the typed [`Inst`](rvbpf_ebpf::inst::Inst).
//!
//! # Why raw, why selects
//!
//! On code that mixes instruction kinds at random (real programs and the
//! compile benchmark alike), every data-dependent branch per instruction is
//! a likely misprediction, and a `match` on the typed instruction is one
//! such branch whose miss cost more than the rest of the lowering. Here the
//! opcode byte indexes [`FORMS`], a table built at compile time, and each
//! of the two shapes below computes all its candidate words with selects
//! and writes a fixed group of which only the present ones are kept
//! (`Stage::push_present`). What remains is one mostly
//! well-predicted branch: data (ALU, load, store: ~85% of a program),
//! jump, or the general path.
//!
//! # Shapes
//!
//! * **data** — `li` of an immediate (`li`, or `lui; addiw`) into t1, or
//!   into dst for a `mov`; the main word (ALU register/immediate form,
//!   load, store); the zero-extension of an ALU32 result.
//! * **jump** — forward conditional jumps but `jset` (an immediate built
//!   in t1, 32-bit operands sign-extended into t2/t1, then `b<cc>`, or
//!   `b<!cc> +8; jal` past [`SHORT_REACH`](super::SHORT_REACH)),
//!   `ja`, and `exit` (`jal` to the epilogue unless it is the last
//!   instruction).
//!
//! Everything else — division, `neg`, `movsx`, byte swaps, `lddw`,
//! atomics, calls, backward jumps, `jset`, offsets wider than 12 bits, jumps
//! of a function being emitted again after a failed guess — returns `false`
//! and takes the typed general path (`lower.rs`).
//!
//! # The contract
//!
//! The words written here are exactly the words `Emitter::lower` writes
//! for the same instruction: `lower.rs` stays the complete, readable
//! lowering, and the unit test below holds the two to each other over a
//! sweep of every opcode with boundary registers, offsets and immediates.

use super::enc::*;
use super::fixup::{LocalFix, EPILOGUE, LONG, SHORT};
use super::Emitter;
use crate::image::PoolEntry;
use crate::JitError;
use rvbpf_ebpf::insn::{op, Insn};
use rvbpf_ebpf::inst::Inst;

/// What the hot path does with an opcode byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// Not handled here.
    Slow,
    Alu,
    Load,
    Store,
    CondJump,
    Ja,
    Exit,
    /// `lddw` of a 64-bit constant.
    LddwImm,
    /// The second slot of a `lddw`: no code.
    LddwHigh,
}

/// How one opcode byte lowers.
#[derive(Clone, Copy, Debug)]
struct Form {
    shape: Shape,
    /// The operand is the `src` register (`X` forms; `stx`; `ldx`'s base).
    is_reg: bool,
    /// ALU32 (result zero-extended) or JMP32 (halves compared).
    is32: bool,
    /// Main word with its opcode and function bits, registers and
    /// immediate zero: the ALU register form (rd = rs1 = dst, except
    /// `mov`), the load or the store; for a conditional jump the branch
    /// with its funct3.
    word: u32,
    /// The ALU immediate form (0 when the operation has none).
    imm_word: u32,
    /// Mask of the ALU immediate: 0xfff (then it must fit 12 bits), the
    /// shift-amount mask, or 0 for no immediate form.
    imm_mask: u32,
    /// `sub`: the immediate form adds the negated immediate.
    negate: bool,
    /// `mov`: the operand is copied, not combined with dst.
    mov: bool,
    /// Conditional jump: compare `(src, dst)` rather than `(dst, src)`.
    swap: bool,
}

const SLOW: Form = Form {
    shape: Shape::Slow,
    is_reg: false,
    is32: false,
    word: 0,
    imm_word: 0,
    imm_mask: 0,
    negate: false,
    mov: false,
    swap: false,
};

const fn shaped(shape: Shape, opc: u8, word: u32) -> Form {
    Form {
        shape,
        is_reg: opc & op::X != 0,
        word,
        ..SLOW
    }
}

/// The form of ALU opcode `opc` (class ALU or ALU64).
const fn alu_form(opc: u8) -> Form {
    let is32 = opc & 7 == op::ALU;
    let (o, oi) = if is32 {
        (OP_32, OP_IMM_32)
    } else {
        (OP, OP_IMM)
    };
    let shift_mask = if is32 { 31 } else { 63 };
    // (register form, immediate form, immediate mask); the logical
    // operations have no W forms: their low half is right and the
    // zero-extension follows.
    let (word, imm_word, imm_mask) = match opc & 0xf0 {
        op::ADD => (r(o, 0, 0, 0, 0, 0), i(oi, 0, 0, 0, 0), 0xfff),
        op::SUB => (r(o, 0, 0x20, 0, 0, 0), i(oi, 0, 0, 0, 0), 0xfff),
        op::MUL => (r(o, 0, 1, 0, 0, 0), 0, 0),
        op::OR => (r(OP, 6, 0, 0, 0, 0), i(OP_IMM, 6, 0, 0, 0), 0xfff),
        op::AND => (r(OP, 7, 0, 0, 0, 0), i(OP_IMM, 7, 0, 0, 0), 0xfff),
        op::XOR => (r(OP, 4, 0, 0, 0, 0), i(OP_IMM, 4, 0, 0, 0), 0xfff),
        op::LSH => (r(o, 1, 0, 0, 0, 0), i(oi, 1, 0, 0, 0), shift_mask),
        op::RSH => (r(o, 5, 0, 0, 0, 0), i(oi, 5, 0, 0, 0), shift_mask),
        op::ARSH => (r(o, 5, 0x20, 0, 0, 0), i(oi, 5, 0, 0, 0x400), shift_mask),
        // `addi rd, rs, 0`; immediates are built by `li` straight into dst.
        op::MOV => (addi(0, 0, 0), 0, 0),
        _ => return SLOW, // div, mod, neg, byte swaps
    };
    Form {
        is32,
        imm_word,
        imm_mask,
        negate: opc & 0xf0 == op::SUB,
        mov: opc & 0xf0 == op::MOV,
        ..shaped(Shape::Alu, opc, word)
    }
}

/// The form of a conditional-jump opcode (class JMP or JMP32).
const fn cond_form(opc: u8) -> Form {
    // (funct3, swap): `a > b` is `b < a`, `a <= b` is `b >= a`.
    let (f3, swap) = match opc & 0xf0 {
        op::JEQ => (BEQ, false),
        op::JNE => (BNE, false),
        op::JGT => (BLTU, true),
        op::JGE => (BGEU, false),
        op::JLT => (BLTU, false),
        op::JLE => (BGEU, true),
        op::JSGT => (BLT, true),
        op::JSGE => (BGE, false),
        op::JSLT => (BLT, false),
        op::JSLE => (BGE, true),
        _ => return SLOW, // jset, call, exit, ja of JMP32
    };
    Form {
        is32: opc & 7 == op::JMP32,
        swap,
        ..shaped(Shape::CondJump, opc, branch(f3, 0, 0, 0))
    }
}

const fn form_of(opc: u8) -> Form {
    let size = opc & 0x18;
    // log2 of the access width, the store funct3.
    let log2 = match size {
        op::B => 0,
        op::H => 1,
        op::W => 2,
        _ => 3,
    };
    match opc & 7 {
        op::ALU | op::ALU64 => alu_form(opc),
        op::LDX => {
            // lb lh lw ld = 0..3; the unsigned forms add 4 (no `ldu`).
            let f3 = match opc & 0xe0 {
                op::MEM if log2 == 3 => 3,
                op::MEM => log2 + 4,
                op::MEMSX if log2 < 3 => log2,
                _ => return SLOW,
            };
            Form {
                is_reg: true,
                ..shaped(Shape::Load, opc, load(f3, 0, 0, 0))
            }
        }
        op::ST | op::STX if opc & 0xe0 == op::MEM => Form {
            is_reg: opc & 7 == op::STX,
            ..shaped(Shape::Store, opc, store(log2, 0, 0, 0))
        },
        op::JMP if opc == op::JMP | op::JA => shaped(Shape::Ja, opc, jal(ZERO, 0)),
        op::JMP if opc == op::JMP | op::EXIT => shaped(Shape::Exit, opc, jal(ZERO, 0)),
        op::JMP | op::JMP32 => cond_form(opc),
        // Raw opcode 0 is no instruction: in a verified program it only
        // fills `lddw` second slots (checked against the typed form).
        op::LD if opc == 0 => shaped(Shape::LddwHigh, opc, 0),
        op::LD if opc == op::LD | op::IMM | op::DW => shaped(Shape::LddwImm, opc, 0),
        _ => SLOW,
    }
}

/// Lowers a batch of instructions that share one opcode byte.
type Batch = for<'e, 'p> fn(&'e mut Emitter<'p>, &[u32]) -> Result<(), JitError>;

/// `[f::<0> as T, f::<1> as T, ..., f::<255> as T]`.
macro_rules! every_opcode {
    ($f:ident as $t:ty) => {
        every_opcode!(@ $f, $t;
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
            16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
            32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
            48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
            64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79
            80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95
            96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111
            112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127
            128 129 130 131 132 133 134 135 136 137 138 139 140 141 142 143
            144 145 146 147 148 149 150 151 152 153 154 155 156 157 158 159
            160 161 162 163 164 165 166 167 168 169 170 171 172 173 174 175
            176 177 178 179 180 181 182 183 184 185 186 187 188 189 190 191
            192 193 194 195 196 197 198 199 200 201 202 203 204 205 206 207
            208 209 210 211 212 213 214 215 216 217 218 219 220 221 222 223
            224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239
            240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255
        )
    };
    (@ $f:ident, $t:ty; $($opc:literal)*) => {
        [$($f::<$opc> as $t,)*]
    };
}

/// [`batch`] specialised for every opcode byte.
static BATCHES: [Batch; 256] = every_opcode!(batch as Batch);

/// Lowers the instructions at `pcs` (of the current function), all with
/// opcode byte `OPC`, each to its own stretch of the stage.
///
/// Within one batch every branch goes the same way as for the previous
/// instruction, so even the general path's `match` is predicted; the
/// form's flags are constants here, so the hot path computes only the
/// register, immediate and offset fields.
fn batch<const OPC: u8>(e: &mut Emitter<'_>, pcs: &[u32]) -> Result<(), JitError> {
    let (raw, insts) = (e.raw, e.insts);
    for &pc in pcs {
        let pc = pc as usize;
        let at = e.words.len();
        if !handle::<OPC>(e, pc, raw[pc]) {
            e.lower(pc, &insts[pc])?;
        }
        e.staged[pc - e.window] = (at as u32, (e.words.len() - at) as u32);
    }
    Ok(())
}

/// The hot path for opcode byte `OPC`: lowers `insn`, at `pc` of the
/// current function, or returns `false` (nothing written) for the general
/// path.
#[inline(always)]
fn handle<const OPC: u8>(e: &mut Emitter<'_>, pc: usize, insn: Insn) -> bool {
    let form = const { form_of(OPC) };
    match form.shape {
        Shape::Alu | Shape::Load | Shape::Store => {
            // ALU forms here carry no offset (a non-zero one is `movsx`);
            // memory offsets must fit the 12-bit field.
            let ok = if form.shape == Shape::Alu {
                insn.off == 0
            } else {
                fits12(insn.off as i32)
            };
            if ok {
                e.data(form, insn);
            }
            ok
        }
        Shape::CondJump | Shape::Ja | Shape::Exit => e.jump_fast(pc, form, insn),
        Shape::LddwImm => e.lddw_imm(pc, insn),
        Shape::LddwHigh => matches!(e.insts[pc], Inst::LddwHigh),
        Shape::Slow => false,
    }
}

#[inline(always)]
fn fits12(v: i32) -> bool {
    (-2048..2048).contains(&v)
}

impl Emitter<'_> {
    /// Lowers the pcs of `order` (the current function's, sorted by
    /// opcode byte; `groups[o]..groups[o + 1]` are those of opcode `o`) one
    /// opcode batch at a time.
    pub(super) fn lower_batches(
        &mut self,
        order: &[u32],
        groups: &[u32; 257],
    ) -> Result<(), JitError> {
        for (opc, batch) in BATCHES.iter().enumerate() {
            let pcs = &order[groups[opc] as usize..groups[opc + 1] as usize];
            if !pcs.is_empty() {
                batch(self, pcs)?;
            }
        }
        Ok(())
    }

    /// ALU, load or store (see the module docs).
    #[inline(always)]
    fn data(&mut self, f: Form, insn: Insn) {
        let rd = BPF[insn.dst as usize & 15];
        let rs = BPF[insn.src as usize & 15];
        let lit = insn.imm;
        let off = insn.off as i32 as u32;
        let alu = f.shape == Shape::Alu;
        let store = f.shape == Shape::Store;
        let is_imm = !f.is_reg;
        // The ALU immediate form, when the value fits it.
        let imm = pick(f.negate, lit.wrapping_neg(), lit);
        let imm_fits = (f.imm_mask != 0) & ((f.imm_mask != 0xfff) | fits12(imm));
        // `li` into t1 (an ALU immediate with no fitting form, a non-zero
        // stored value) or, for `mov`, straight into dst.
        let li = is_imm & ((alu & (f.mov | !imm_fits)) | (store & (lit != 0)));
        let (li_buf, li_count) = li_words(pick(f.mov, rd, T1), lit);
        // The register operand: src, t1 once built, or zero for `*p = 0`.
        let operand = pick(f.is_reg, rs, pick(li, T1, ZERO));
        let imm_form = is_imm & !li;
        let alu_word = pick(
            imm_form,
            f.imm_word | rd << 7 | pick(f.mov, ZERO, rd) << 15 | ((imm as u32) & f.imm_mask) << 20,
            f.word | rd << 7 | pick(f.mov, operand << 15, rd << 15 | operand << 20),
        );
        let load_word = f.word | rd << 7 | rs << 15 | (off & 0xfff) << 20;
        let store_word =
            f.word | (off & 0x1f) << 7 | rd << 15 | operand << 20 | ((off >> 5) & 0x7f) << 25;
        let main = pick(alu, alu_word, pick(store, store_word, load_word));
        // A `mov` has no main word when `li` wrote dst, when the 32-bit
        // zero-extension copies, or when it copies a register to itself.
        let has_main = !alu | !f.mov | (f.is_reg & !f.is32 & (rs != rd));
        // ALU32 results are zero-extended; a 32-bit `mov` extends src.
        let zext = alu & f.is32;
        let from = pick(f.mov & f.is_reg, rs, rd);
        let (z1, z2) = if self.zba {
            (zext_w(rd, from), 0)
        } else {
            (slli(rd, from, 32), srli(rd, rd, 32))
        };
        self.words.push_present([
            (li_buf[0], li),
            (li_buf[1], li & (li_count == 2)),
            (main, has_main),
            (z1, zext),
            (z2, zext & !self.zba),
        ]);
    }

    /// `lddw` of a constant (pseudo source 0; map and function references
    /// take the general path): `li` when it is a sign-extended 32-bit
    /// value, else a literal-pool load.
    #[inline(always)]
    fn lddw_imm(&mut self, pc: usize, insn: Insn) -> bool {
        let Some(high) = self.raw.get(pc + 1) else {
            return false;
        };
        if insn.src != 0 {
            return false;
        }
        let rd = BPF[insn.dst as usize & 15];
        let v = (insn.imm as u32 as u64) | (high.imm as u32 as u64) << 32;
        match i32::try_from(v as i64) {
            Ok(small) => {
                let (words, count) = li_words(rd, small);
                self.words
                    .push_present([(words[0], true), (words[1], count == 2)]);
            }
            Err(_) => self.pool_load(pc, rd, PoolEntry::Const(v)),
        }
        true
    }

    /// Conditional jump (not `jset`), `ja`, or `exit`; `false` for
    /// anything else.
    #[inline(always)]
    fn jump_fast(&mut self, pc: usize, f: Form, insn: Insn) -> bool {
        let end = self.functions[self.func].end;
        let exit = f.shape == Shape::Exit;
        let cond = f.shape == Shape::CondJump;
        let to = pc as i64 + 1 + insn.off as i64;
        // Forms forced after a failed guess are the general path's, and so
        // is the error of a target outside the function.
        let inside = (to >= self.start as i64) & (to < end as i64);
        let ok = self.force.is_empty() & (exit | inside);
        if !ok {
            return false;
        }
        let rd = BPF[insn.dst as usize & 15];
        let rs = BPF[insn.src as usize & 15];
        let lit = insn.imm;
        // The immediate in t1 (sign-extended, as a 32-bit compare wants);
        // zero is the zero register.
        let li = cond & !f.is_reg & (lit != 0);
        let (li_buf, li_count) = li_words(T1, lit);
        // 32-bit compares: both operands sign-extended from bit 31 (t1
        // already is when it holds the immediate).
        let sext_b = f.is32 & f.is_reg;
        let a = pick(f.is32, T2, rd);
        let b = pick(sext_b | li, T1, pick(f.is_reg, rs, ZERO));
        let (rs1, rs2) = (pick(f.swap, b, a), pick(f.swap, a, b));
        let long = !cond | ((to - pc as i64).abs() >= super::SHORT_REACH);
        let has_jump = !exit | (pc + 1 != end);
        let long_prefix = cond & long;
        let before = li as usize
            + (li & (li_count == 2)) as usize
            + (cond & f.is32) as usize
            + (cond & sext_b) as usize
            + long_prefix as usize;
        self.local.push(LocalFix {
            at: (self.words.len() + before) as u32,
            pc: pc as u32,
            target: pick(exit, EPILOGUE, to as u32),
            form: pick(long, LONG, SHORT),
        });
        self.local.truncate(self.local.len() - !has_jump as usize);
        let main = pick(long, jal(ZERO, 0), f.word | rs2 << 20 | rs1 << 15);
        self.words.push_present([
            (li_buf[0], li),
            (li_buf[1], li & (li_count == 2)),
            (sext_w(T2, rd), cond & f.is32),
            (sext_w(T1, rs), cond & sext_b),
            // Long: `b<!cc> +8` over the `jal`.
            (
                f.word ^ (1 << 12) | rs2 << 20 | rs1 << 15 | b_imm(8),
                long_prefix,
            ),
            (main, has_jump),
        ]);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JitOptions;
    use rvbpf_ebpf::asm::assemble_object;
    use rvbpf_ebpf::inst::decode_at;
    use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv};

    type Handle = for<'e, 'p> fn(&'e mut Emitter<'p>, usize, Insn) -> bool;
    static HANDLES: [Handle; 256] = every_opcode!(handle as Handle);

    /// The hot path alone for `insn` at `pc`.
    fn lower_fast(e: &mut Emitter<'_>, pc: usize, insn: Insn) -> bool {
        HANDLES[insn.opc as usize](e, pc, insn)
    }

    /// One function of `len` instructions, so that jumps from pc 100 of up
    /// to a few hundred instructions stay inside it.
    fn program(len: usize) -> VerifiedProgram {
        let text = "mov %r0, 0\n".repeat(len - 1) + "exit\n";
        let obj = assemble_object("fast", &text).unwrap();
        let env = VerifyEnv {
            helper_known: &|_| true,
            kfunc_known: &|_| true,
            entry_args: 1,
        };
        verify(&obj, 0, &env).unwrap()
    }

    /// Instructions of the sweep that took the hot path, per shape.
    fn sweep(target: &str) -> [usize; 9] {
        let prog = program(400);
        let opts = JitOptions {
            target: target.parse().unwrap(),
            ..JitOptions::default()
        };
        let mut e = Emitter::new(&prog, &opts);
        let end = prog.insts().len();
        let regs = [0u8, 1, 5, 6, 9, 10];
        let offs: [i16; 14] = [
            0,
            1,
            -1,
            8,
            16,
            32,
            127,
            128,
            299,
            2047,
            -2048,
            2048,
            -2049,
            i16::MAX,
        ];
        let imms: [i32; 15] = [
            0,
            1,
            -1,
            5,
            31,
            63,
            2047,
            -2048,
            2048,
            0x1000,
            0x12345,
            -0x12345,
            0x7fff_f800,
            i32::MIN,
            i32::MAX,
        ];
        let mut agreed = [0; 9];
        for opc in 0..=255u8 {
            for &dst in &regs {
                for &src in &regs {
                    for &off in &offs {
                        for &imm in &imms {
                            let insn = Insn::new(opc, dst, src, off, imm);
                            let Ok(inst) = decode_at(&[insn, Insn::default()], 0) else {
                                continue;
                            };
                            for pc in [100, end - 2, end - 1] {
                                e.words.clear();
                                e.local.clear();
                                if !lower_fast(&mut e, pc, insn) {
                                    assert!(e.words.is_empty() && e.local.is_empty());
                                    continue;
                                }
                                let fast = (e.words.words().to_vec(), e.local.clone());
                                e.words.clear();
                                e.local.clear();
                                e.lower(pc, &inst).unwrap();
                                assert_eq!(
                                    fast,
                                    (e.words.words().to_vec(), e.local.clone()),
                                    "{target}: {inst:?} at pc {pc} (raw {insn:?})"
                                );
                                agreed[form_of(opc).shape as usize] += 1;
                            }
                        }
                    }
                }
            }
        }
        agreed
    }

    #[test]
    fn fast_path_writes_what_the_general_path_writes() {
        for target in ["rv64gc", "rv64gc_zba_zbb"] {
            let agreed = sweep(target);
            // Every shape but `Slow` is exercised, tens of thousands in all
            // (`LddwHigh` alone does not decode; the pipeline tests cover it).
            assert_eq!(agreed[Shape::Slow as usize], 0);
            let high = Shape::LddwHigh as usize;
            assert!(
                agreed
                    .iter()
                    .enumerate()
                    .all(|(s, &n)| s == 0 || s == high || n > 0),
                "{target}: {agreed:?}"
            );
            assert!(
                agreed.iter().sum::<usize>() > 40_000,
                "{target}: {agreed:?}"
            );
        }
    }

    #[test]
    fn slow_forms_are_left_to_the_general_path() {
        let slow = [
            op::ALU64 | op::DIV,
            op::ALU | op::MOD | op::X,
            op::ALU64 | op::NEG,
            op::ALU | op::END,
            op::JMP | op::JSET,
            op::JMP | op::CALL,
            op::JMP32 | op::JA,
            op::LD | op::ABS | op::W,
            op::STX | op::ATOMIC | op::DW,
            op::LDX | op::MEMSX | op::DW,
        ];
        for opc in slow {
            assert_eq!(form_of(opc).shape, Shape::Slow, "{opc:#x}");
        }
        assert_eq!(form_of(op::ALU64 | op::MOV | op::X).shape, Shape::Alu);
        assert_eq!(form_of(op::JMP32 | op::JSLE).shape, Shape::CondJump);
        assert_eq!(form_of(op::JMP | op::EXIT).shape, Shape::Exit);
    }
}
