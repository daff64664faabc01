//! One BPF instruction → a fixed template of RV64 words. Register roles as
//! in the optimizing JIT (`regmap.rs`): t1/t2 scratch operands, t0/t3
//! atomics, t1 call target.

use super::enc::*;
use super::fixup::{GlobalKind, EPILOGUE};
use super::{unsupported, Emitter};
use crate::image::{PoolEntry, RelocKind};
use crate::regmap::HELPER_TAIL_CALL;
use crate::{JitError, TAIL_CALL_ENTRY_OFFSET};
use rvbpf_ebpf::inst::{
    AluOp, AtomicOp, CallTarget, Cond, EndianOp, Inst, LddwKind, Operand, Reg as BpfReg, Size,
};
use rvbpf_ebpf::object::MapKind;

#[inline(always)]
fn reg(r: BpfReg) -> R {
    BPF[r.index() & 15]
}

#[inline(always)]
fn fits12(v: i64) -> bool {
    (-2048..2048).contains(&v)
}

impl Emitter<'_> {
    /// Lowers `inst`, the instruction at `pc`: the complete lowering of
    /// every instruction (the hot path in `fast.rs` must agree with it).
    pub(super) fn lower(&mut self, pc: usize, inst: &Inst) -> Result<(), JitError> {
        match *inst {
            Inst::Alu { is64, op, dst, src } => self.alu(is64, op, reg(dst), src),
            Inst::Endian { op, dst, bits } => self.endian(op, reg(dst), bits as u32),
            Inst::Lddw { dst, kind } => self.lddw(pc, reg(dst), kind)?,
            Inst::LddwHigh => {}
            Inst::Load {
                size,
                signed,
                dst,
                src,
                off,
            } => {
                // funct3 by size, unsigned then signed: lbu lb lhu lh lwu lw ld ld.
                const LOAD_F3: [u32; 8] = [4, 0, 5, 1, 6, 2, 3, 3];
                let f3 = LOAD_F3[(size as usize & 3) * 2 + signed as usize];
                let (base, off) = self.address(reg(src), off);
                self.put(load(f3, reg(dst), base, off));
            }
            Inst::Store {
                size,
                dst,
                off,
                src,
            } => {
                let value = match src {
                    Operand::Reg(s) => reg(s),
                    Operand::Imm(0) => ZERO,
                    Operand::Imm(i) => {
                        self.li32(T1, i);
                        T1
                    }
                };
                let (base, off) = self.address(reg(dst), off);
                // funct3 = log2(bytes): sb sh sw sd.
                self.put(store(size as u32 & 3, base, value, off));
            }
            Inst::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off,
            } => self.atomic(pc, size, op, fetch, reg(dst), reg(src), off)?,
            Inst::Ja { off, .. } => {
                let target = self.target(pc, off as i64)?;
                self.jump(pc, target as u32);
            }
            Inst::Jump {
                is32,
                cond,
                dst,
                src,
                off,
            } => {
                let target = self.target(pc, off as i64)?;
                self.cond_jump(pc, is32, cond, reg(dst), src, target);
            }
            Inst::Call(CallTarget::Helper(HELPER_TAIL_CALL)) => self.tail_call(),
            Inst::Call(CallTarget::Helper(n)) => {
                self.host_call(pc, RelocKind::Helper(n), None);
            }
            Inst::Call(CallTarget::Kfunc(k)) => {
                self.widen_kfunc_args(k as usize);
                self.host_call(pc, RelocKind::Kfunc(k), None);
            }
            Inst::Call(CallTarget::Local(off)) => self.local_call(pc, off)?,
            Inst::Callx { reg: r } => self.host_call(pc, RelocKind::HelperDispatch, Some(reg(r))),
            Inst::Exit => {
                // The epilogue follows the function's last instruction.
                if pc + 1 != self.functions[self.func].end {
                    self.jump(pc, EPILOGUE);
                }
            }
            Inst::LoadPacket { .. } => {
                return Err(unsupported(pc, "legacy packet access (ldabs/ldind)"))
            }
        }
        Ok(())
    }

    /// pc `pc + 1 + off`, which must lie inside the current function.
    fn target(&self, pc: usize, off: i64) -> Result<usize, JitError> {
        let t = pc as i64 + 1 + off;
        let f = &self.functions[self.func];
        if t < f.start as i64 || t >= f.end as i64 {
            return Err(JitError::InvalidInput {
                pc,
                why: format!("jump target {t} is outside function `{}`", f.name),
            });
        }
        Ok(t as usize)
    }

    /// `rd = v` (sign-extended): `li` or `lui; addiw`.
    #[inline(always)]
    fn li32(&mut self, rd: R, v: i32) {
        let (words, count) = li_words(rd, v);
        for &w in &words[..count] {
            self.put(w);
        }
    }

    /// `rd = (u32)rs`.
    #[inline(always)]
    fn zext(&mut self, rd: R, rs: R) {
        if self.zba {
            self.put(zext_w(rd, rs));
        } else {
            self.put(slli(rd, rs, 32));
            self.put(srli(rd, rd, 32));
        }
    }

    /// `base + off` as (register, 12-bit offset); t2 when `off` is wider.
    #[inline(always)]
    fn address(&mut self, base: R, off: i16) -> (R, i32) {
        if fits12(off as i64) {
            return (base, off as i32);
        }
        self.li32(T2, off as i32);
        self.put(r(OP, 0, 0, T2, T2, base));
        (T2, 0)
    }

    fn alu(&mut self, is64: bool, op: AluOp, rd: R, src: Operand) {
        let (opc, opc_imm) = if is64 {
            (OP, OP_IMM)
        } else {
            (OP_32, OP_IMM_32)
        };
        match op {
            AluOp::Mov => match src {
                Operand::Reg(s) if !is64 => return self.zext(rd, reg(s)),
                Operand::Reg(s) => {
                    if reg(s) != rd {
                        self.put(mv(rd, reg(s)));
                    }
                }
                Operand::Imm(v) => self.li32(rd, v),
            },
            AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32 => {
                let rs = match src {
                    Operand::Reg(s) => reg(s),
                    // The decoder only produces register forms; be total.
                    Operand::Imm(v) => {
                        self.li32(T1, v);
                        T1
                    }
                };
                match op {
                    AluOp::Movsx32 => self.put(sext_w(rd, rs)),
                    _ => {
                        let drop = if op == AluOp::Movsx8 { 56 } else { 48 };
                        self.put(slli(rd, rs, drop));
                        self.put(srai(rd, rd, drop));
                    }
                }
            }
            AluOp::Neg => self.put(r(opc, 0, 0x20, rd, ZERO, rd)),
            AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod => self.divmod(is64, op, rd, src),
            _ => {
                // (funct3, funct7, has a 32-bit form, has an immediate form)
                let (f3, f7, w, has_imm) = match op {
                    AluOp::Add => (0, 0, true, true),
                    AluOp::Sub => (0, 0x20, true, false),
                    AluOp::Mul => (0, 1, true, false),
                    AluOp::Or => (6, 0, false, true),
                    AluOp::And => (7, 0, false, true),
                    AluOp::Xor => (4, 0, false, true),
                    AluOp::Lsh => (1, 0, true, true),
                    AluOp::Rsh => (5, 0, true, true),
                    _ => (5, 0x20, true, true), // Arsh
                };
                let (o, oi) = if w { (opc, opc_imm) } else { (OP, OP_IMM) };
                match src {
                    Operand::Imm(v) if f3 == 1 || f3 == 5 => {
                        // Shifts: the verifier bounds the amount; mask as BPF does.
                        self.put(shift_imm(!is64, f3, f7 != 0, rd, rd, v as u32));
                    }
                    Operand::Imm(v) if has_imm && fits12(v as i64) => {
                        self.put(i(oi, f3, rd, rd, v));
                    }
                    Operand::Imm(v) if op == AluOp::Sub && fits12(-(v as i64)) => {
                        self.put(i(opc_imm, 0, rd, rd, -v));
                    }
                    Operand::Imm(v) => {
                        self.li32(T1, v);
                        self.put(r(o, f3, f7, rd, rd, T1));
                    }
                    Operand::Reg(s) => self.put(r(o, f3, f7, rd, rd, reg(s))),
                }
            }
        }
        if !is64 {
            self.zext(rd, rd);
        }
    }

    /// BPF `x / 0 = 0`, `x % 0 = x`; RISC-V divides by zero to all ones
    /// (remainder x), so only division needs a fix-up. Signed overflow
    /// agrees (`MIN / -1 = MIN`, `MIN % -1 = 0`).
    fn divmod(&mut self, is64: bool, op: AluOp, rd: R, src: Operand) {
        let opc = if is64 { OP } else { OP_32 };
        let f3 = match op {
            AluOp::Div => 5,  // divu
            AluOp::Sdiv => 4, // div
            AluOp::Mod => 7,  // remu
            _ => 6,           // rem
        };
        let is_div = f3 <= 5;
        match src {
            Operand::Imm(0) if is_div => self.put(mv(rd, ZERO)),
            Operand::Imm(0) => {}
            Operand::Imm(v) => {
                self.li32(T1, v);
                self.put(r(opc, f3, 1, rd, rd, T1));
            }
            Operand::Reg(s) if is_div => {
                // A copy the zero test can read after rd (maybe == rs) is
                // written: the low half (sign-extended) for 32-bit.
                let copy = if is64 {
                    mv(T1, reg(s))
                } else {
                    sext_w(T1, reg(s))
                };
                self.put(copy);
                self.put(r(opc, f3, 1, rd, rd, T1));
                self.put(branch(BNE, T1, ZERO, 8));
                self.put(mv(rd, ZERO));
            }
            Operand::Reg(s) => self.put(r(opc, f3, 1, rd, rd, reg(s))),
        }
    }

    fn endian(&mut self, op: EndianOp, rd: R, bits: u32) {
        match (op, bits) {
            (EndianOp::Le, 16) if self.zbb => self.put(zext_h(rd, rd)),
            (EndianOp::Le, 16) => {
                self.put(slli(rd, rd, 48));
                self.put(srli(rd, rd, 48));
            }
            (EndianOp::Le, 32) => self.zext(rd, rd),
            (EndianOp::Le, _) => {}
            _ if self.zbb => {
                self.put(rev8(rd, rd));
                if bits < 64 {
                    self.put(srli(rd, rd, 64 - bits));
                }
            }
            _ => {
                // Byte i to byte n-1-i, accumulated in t2.
                let n = bits / 8;
                for k in 0..n {
                    if k == 0 {
                        self.put(i(OP_IMM, 7, T1, rd, 0xff));
                    } else {
                        self.put(srli(T1, rd, 8 * k));
                        self.put(i(OP_IMM, 7, T1, T1, 0xff));
                    }
                    let to = 8 * (n - 1 - k);
                    if k == 0 {
                        self.put(slli(T2, T1, to));
                        continue;
                    }
                    if to > 0 {
                        self.put(slli(T1, T1, to));
                    }
                    self.put(r(OP, 6, 0, T2, T2, T1));
                }
                self.put(mv(rd, T2));
            }
        }
    }

    fn lddw(&mut self, pc: usize, rd: R, kind: LddwKind) -> Result<(), JitError> {
        let reloc = match kind {
            LddwKind::Imm(v) => {
                match i32::try_from(v as i64) {
                    Ok(v) => self.li32(rd, v),
                    Err(_) => self.pool_load(pc, rd, PoolEntry::Const(v)),
                }
                return Ok(());
            }
            LddwKind::Func { offset } => {
                let to = pc as i64 + 1 + offset as i64;
                let f = self
                    .functions
                    .binary_search_by_key(&to, |f| f.start as i64)
                    .map_err(|_| JitError::InvalidInput {
                        pc,
                        why: format!("lddw func target {to} is not a function"),
                    })?;
                self.global_fix(pc, GlobalKind::AddrOf(f as u32));
                self.put(auipc(rd, 0));
                self.put(addi(rd, rd, 0));
                return Ok(());
            }
            LddwKind::Map { map } => match self.prog.maps().get(map as usize).map(|m| m.kind) {
                Some(MapKind::ProgArray) => RelocKind::ProgArray(map),
                Some(_) => RelocKind::MapHandle(map),
                None => {
                    return Err(JitError::InvalidInput {
                        pc,
                        why: format!("map {map} does not exist"),
                    })
                }
            },
            LddwKind::MapValue { map, offset } => RelocKind::MapValue { map, offset },
        };
        self.pool_load(pc, rd, PoolEntry::Reloc(reloc));
        Ok(())
    }

    /// BPF atomics are sequentially consistent: every AMO/LR/SC is `.aqrl`.
    #[allow(clippy::too_many_arguments)]
    fn atomic(
        &mut self,
        pc: usize,
        size: Size,
        op: AtomicOp,
        fetch: bool,
        base: R,
        rs: R,
        off: i16,
    ) -> Result<(), JitError> {
        let dword = match size {
            Size::W => false,
            Size::DW => true,
            _ => {
                return Err(JitError::InvalidInput {
                    pc,
                    why: "atomic operations are 32 or 64 bits".into(),
                })
            }
        };
        let addr = match self.address(base, off) {
            (b, 0) => b,
            (b, imm) => {
                self.put(addi(T2, b, imm));
                T2
            }
        };
        let f5 = match op {
            AtomicOp::Add => AMOADD,
            AtomicOp::Or => AMOOR,
            AtomicOp::And => AMOAND,
            AtomicOp::Xor => AMOXOR,
            AtomicOp::Xchg => AMOSWAP,
            AtomicOp::Cmpxchg => {
                // retry: lr t0; bne t0, expected, done; sc t3; bnez t3, retry
                let r0 = BPF[0];
                let expected = if dword {
                    r0
                } else {
                    self.put(sext_w(T1, r0)); // lr.w sign-extends
                    T1
                };
                self.put(amo(LR, dword, T0, addr, ZERO));
                self.put(branch(BNE, T0, expected, 12));
                self.put(amo(SC, dword, T3, addr, rs));
                self.put(branch(BNE, T3, ZERO, -12));
                if dword {
                    self.put(mv(r0, T0));
                } else {
                    self.zext(r0, T0);
                }
                return Ok(());
            }
        };
        self.put(amo(f5, dword, if fetch { rs } else { ZERO }, addr, rs));
        if fetch && !dword {
            // amo*.w returns the old value sign-extended.
            self.zext(rs, rs);
        }
        Ok(())
    }

    fn cond_jump(&mut self, pc: usize, is32: bool, cond: Cond, dst: R, src: Operand, to: usize) {
        let mut b = match src {
            Operand::Reg(s) => reg(s),
            Operand::Imm(0) => ZERO,
            Operand::Imm(v) => {
                self.li32(T1, v);
                T1
            }
        };
        if cond == Cond::Set {
            self.put(r(OP, 7, 0, T2, dst, b));
            if is32 {
                self.put(sext_w(T2, T2));
            }
            return self.cond_branch(pc, BNE, T2, ZERO, to);
        }
        let mut a = dst;
        if is32 {
            // Sign-extending both keeps signed order, equality and unsigned
            // order of the low halves (see lower/jump.rs).
            // t1 holding an immediate is sign-extended already.
            self.put(sext_w(T2, a));
            a = T2;
            if let Operand::Reg(_) = src {
                self.put(sext_w(T1, b));
                b = T1;
            }
        }
        let (f3, swap) = match cond {
            Cond::Eq => (BEQ, false),
            Cond::Ne => (BNE, false),
            Cond::Gt => (BLTU, true),
            Cond::Ge => (BGEU, false),
            Cond::Lt => (BLTU, false),
            Cond::Le => (BGEU, true),
            Cond::Sgt => (BLT, true),
            Cond::Sge => (BGE, false),
            Cond::Slt => (BLT, false),
            _ => (BGE, true), // Sle
        };
        let (rs1, rs2) = if swap { (b, a) } else { (a, b) };
        self.cond_branch(pc, f3, rs1, rs2, to);
    }

    /// Helper, kfunc or `callx` dispatcher (then `sixth` = the helper number
    /// register): `auipc t1; ld t1; jalr ra; mv a5, a0`, the tail-call
    /// count parked in s6 when this function needs it.
    fn host_call(&mut self, pc: usize, kind: RelocKind, sixth: Option<R>) {
        let park = self.frame.tcc.needed && !self.frame.tcc.resident;
        if park {
            self.put(mv(S6, A6));
        }
        if let Some(r) = sixth {
            self.put(mv(A5, r));
        }
        self.pool_load(pc, T1, PoolEntry::Reloc(kind));
        self.put(jalr(RA, T1, 0));
        self.put(mv(A5, A0));
        if park {
            self.put(mv(A6, S6));
        }
    }

    /// Widens kfunc `k`'s arguments as its prototype and the psABI require,
    /// with the optimizing tier's sequences (`lower::call::widening_insts`;
    /// kfunc calls are rare, so the typed encoder is fine here).
    fn widen_kfunc_args(&mut self, k: usize) {
        let Some(proto) = self.prog.kfunc_proto(k) else {
            return;
        };
        for (n, &w) in proto.args.iter().take(5).enumerate() {
            let a = rvbpf_rv64::Reg::new(BPF[1 + n] as u8).expect("a0..a4");
            for inst in crate::lower::widening_insts(a, w, self.zbb) {
                self.put(rvbpf_rv64::encode(&inst));
            }
        }
    }

    /// bpf2bpf: `jal ra, callee + 12`; a6 parked around a callee that
    /// cannot tail call (it may clobber a6).
    fn local_call(&mut self, pc: usize, off: i32) -> Result<(), JitError> {
        let to = pc as i64 + 1 + off as i64;
        let callee = self
            .functions
            .binary_search_by_key(&to, |f| f.start as i64)
            .map_err(|_| JitError::InvalidInput {
                pc,
                why: format!("call target {to} is not a function"),
            })?;
        let park = self.frame.tcc.needed
            && !self.frame.tcc.resident
            && !self.functions[callee].tail_call_reachable;
        if park {
            self.put(mv(S6, A6));
        }
        self.global_fix(pc, GlobalKind::Call(callee as u32));
        self.put(jal(RA, 0));
        if park {
            self.put(mv(A6, S6));
        }
        Ok(())
    }

    /// `bpf_tail_call(ctx = R1, prog_array = R2, index = R3)`, the `reg`
    /// scheme sequence of the crate docs.
    fn tail_call(&mut self) {
        let mut outs = [0u32; 3];
        self.zext(T1, A0 + 2); // a2: index as u32
        self.put(load(6, T2, A0 + 1, 0)); // lwu t2, 0(a1): max_entries
        outs[0] = self.here();
        self.put(branch(BGEU, T1, T2, 0));
        let count_out = self.here();
        self.put(branch(BEQ, A6, ZERO, 0));
        if self.zba {
            self.put(r(OP, 6, 0x10, T1, T1, A0 + 1)); // sh3add t1, t1, a1
        } else {
            self.put(slli(T1, T1, 3));
            self.put(r(OP, 0, 0, T1, T1, A0 + 1));
        }
        self.put(ld(T1, T1, 8));
        outs[1] = self.here();
        self.put(branch(BEQ, T1, ZERO, 0));
        outs[2] = count_out;
        self.put(addi(A6, A6, -1));
        self.restore();
        self.put(jalr(ZERO, T1, TAIL_CALL_ENTRY_OFFSET as i32));
        let out = self.here();
        for at in outs {
            *self.words.word_mut(at as usize) |= b_imm(((out - at) * 4) as i32);
        }
    }
}
