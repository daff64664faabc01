//! The execution loop. Op classes appear in the same order as in the JIT
//! lowering: alu, memory, jumps, calls.

use super::alu::{alu32, alu64, cond32, sign_extend, swap, to_le};
use super::decode::{self, Code, Op, Rmw};
use super::frames::Frame;
use super::Interp;
use crate::helpers::{HelperEnv, HelperError, HelperFn};
use crate::memory::{PACKET_BASE, REGION_PACKET};
use crate::vm::RunError;

impl Interp<'_> {
    /// Calls function `func` of program `prog`: through the trampoline when
    /// tracers are attached, directly otherwise.
    pub(super) fn call_function(
        &mut self,
        prog: u32,
        func: usize,
        args: [u64; 5],
        tail_calls_left: &mut u32,
        pc: usize,
    ) -> Result<u64, RunError> {
        let f = &self.progs[prog as usize].funcs[func];
        if f.traced() {
            self.call_traced(prog, func, args, tail_calls_left, pc)
        } else {
            self.exec(prog, func, args, tail_calls_left, pc)
        }
    }

    /// Runs one activation: function `func` of `prog` and every untraced
    /// callee below it, until the function (or whatever tail-called program
    /// replaced it) exits. `pc` is the caller's pc, for errors.
    pub(super) fn exec(
        &mut self,
        prog: u32,
        func: usize,
        args: [u64; 5],
        tail_calls_left: &mut u32,
        caller_pc: usize,
    ) -> Result<u64, RunError> {
        self.check_depth(caller_pc)?;
        self.depth += 1;
        let entry_floor = self.m.mem.stack_floor();
        let r = self.exec_inner(prog, func, args, tail_calls_left, caller_pc);
        self.m.mem.set_stack_floor(entry_floor);
        self.depth -= 1;
        r
    }

    fn exec_inner(
        &mut self,
        prog: u32,
        func: usize,
        args: [u64; 5],
        tail_calls_left: &mut u32,
        caller_pc: usize,
    ) -> Result<u64, RunError> {
        let progs = self.progs;
        let base = self.frames.len();
        let mut cur = prog;
        self.cur_prog = cur;
        let mut p = &progs[cur as usize];
        let mut code = &p.code[..];
        let f = &p.funcs[func];
        // 16 registers so that `& 15` indexing needs no bounds check; the
        // decoder only produces r0..r10.
        let mut regs = [0u64; 16];
        regs[1..6].copy_from_slice(&args);
        regs[10] = self.alloc_stack(f.stack_size, caller_pc)?;
        let mut pc = f.start;
        let mut left = self.insns_left;
        let fault = |at: usize| move |f| RunError::from_fault(at, f);

        loop {
            let at = pc;
            let op = op_at(code, at);
            pc += 1;
            if left == 0 {
                self.insns_left = 0;
                return Err(RunError::BudgetExhausted { pc: at });
            }
            left -= 1;
            let (d, s) = ((op.dst & 15) as usize, (op.src & 15) as usize);
            let imm = op.imm as u64;
            let target = op.aux as usize;
            // Effective address of a load (base = src) or a store (base = dst).
            // Closures, so only memory ops compute them: computed eagerly,
            // every instruction paid for the `off` load and the add (the
            // loop ran ~10-20% slower).
            let src_addr = || regs[s].wrapping_add(op.off as i64 as u64);
            let dst_addr = || regs[d].wrapping_add(op.off as i64 as u64);
            match op.code {
                // ---- alu ----
                Code::Add64K => regs[d] = regs[d].wrapping_add(imm),
                Code::Add64X => regs[d] = regs[d].wrapping_add(regs[s]),
                Code::Sub64K => regs[d] = regs[d].wrapping_sub(imm),
                Code::Sub64X => regs[d] = regs[d].wrapping_sub(regs[s]),
                Code::Mul64K => regs[d] = regs[d].wrapping_mul(imm),
                Code::Mul64X => regs[d] = regs[d].wrapping_mul(regs[s]),
                Code::Or64K => regs[d] |= imm,
                Code::Or64X => regs[d] |= regs[s],
                Code::And64K => regs[d] &= imm,
                Code::And64X => regs[d] &= regs[s],
                Code::Lsh64K => regs[d] <<= imm & 63,
                Code::Lsh64X => regs[d] <<= regs[s] & 63,
                Code::Rsh64K => regs[d] >>= imm & 63,
                Code::Rsh64X => regs[d] >>= regs[s] & 63,
                Code::Xor64K => regs[d] ^= imm,
                Code::Xor64X => regs[d] ^= regs[s],
                Code::Mov64K => regs[d] = imm,
                Code::Mov64X => regs[d] = regs[s],
                Code::Arsh64K => regs[d] = ((regs[d] as i64) >> (imm & 63)) as u64,
                Code::Arsh64X => regs[d] = ((regs[d] as i64) >> (regs[s] & 63)) as u64,
                Code::Alu64K(b) => regs[d] = alu64(b, regs[d], imm),
                Code::Alu64X(b) => regs[d] = alu64(b, regs[d], regs[s]),
                Code::Alu64KJa(b) | Code::Alu64XJa(b) => {
                    let operand = if matches!(op.code, Code::Alu64KJa(_)) {
                        imm
                    } else {
                        regs[s]
                    };
                    regs[d] = alu64(b, regs[d], operand);
                    // The ja (at `pc`) costs one more instruction; without
                    // budget for it, it runs on its own and stops the run there.
                    if let Some(rest) = left.checked_sub(1) {
                        left = rest;
                        pc = target;
                    }
                }
                Code::Alu32K(b) => regs[d] = alu32(b, regs[d] as u32, imm as u32),
                Code::Alu32X(b) => regs[d] = alu32(b, regs[d] as u32, regs[s] as u32),
                Code::Neg64 => regs[d] = regs[d].wrapping_neg(),
                Code::Neg32 => regs[d] = (regs[d] as u32).wrapping_neg() as u64,
                Code::Movsx64(bits) => regs[d] = sign_extend(regs[s], bits),
                Code::Movsx32(bits) => regs[d] = sign_extend(regs[s], bits) as u32 as u64,
                Code::Le(bits) => regs[d] = to_le(regs[d], bits),
                Code::Swap(bits) => regs[d] = swap(regs[d], bits),
                Code::LoadImm64 => {
                    regs[d] = imm;
                    pc += 1; // skip the lddw's second slot
                }
                // ---- memory ----
                Code::LdxB => regs[d] = self.m.mem.load(src_addr(), 1).map_err(fault(at))?,
                Code::LdxH => regs[d] = self.m.mem.load(src_addr(), 2).map_err(fault(at))?,
                Code::LdxW => regs[d] = self.m.mem.load(src_addr(), 4).map_err(fault(at))?,
                Code::LdxDw => regs[d] = self.m.mem.load(src_addr(), 8).map_err(fault(at))?,
                Code::StackLdxB => {
                    regs[d] = self.m.mem.load_stack(src_addr(), 1).map_err(fault(at))?
                }
                Code::StackLdxH => {
                    regs[d] = self.m.mem.load_stack(src_addr(), 2).map_err(fault(at))?
                }
                Code::StackLdxW => {
                    regs[d] = self.m.mem.load_stack(src_addr(), 4).map_err(fault(at))?
                }
                Code::StackLdxDw => {
                    regs[d] = self.m.mem.load_stack(src_addr(), 8).map_err(fault(at))?
                }
                Code::LdxSx(size) => {
                    let v = self
                        .m
                        .mem
                        .load(src_addr(), size as usize)
                        .map_err(fault(at))?;
                    regs[d] = sign_extend(v, size * 8);
                }
                Code::StxB => self
                    .m
                    .mem
                    .store(dst_addr(), 1, regs[s])
                    .map_err(fault(at))?,
                Code::StxH => self
                    .m
                    .mem
                    .store(dst_addr(), 2, regs[s])
                    .map_err(fault(at))?,
                Code::StxW => self
                    .m
                    .mem
                    .store(dst_addr(), 4, regs[s])
                    .map_err(fault(at))?,
                Code::StxDw => self
                    .m
                    .mem
                    .store(dst_addr(), 8, regs[s])
                    .map_err(fault(at))?,
                Code::StB => self.m.mem.store(dst_addr(), 1, imm).map_err(fault(at))?,
                Code::StH => self.m.mem.store(dst_addr(), 2, imm).map_err(fault(at))?,
                Code::StW => self.m.mem.store(dst_addr(), 4, imm).map_err(fault(at))?,
                Code::StDw => self.m.mem.store(dst_addr(), 8, imm).map_err(fault(at))?,
                Code::StackStxB => {
                    let v = regs[s];
                    self.m
                        .mem
                        .store_stack(dst_addr(), 1, v)
                        .map_err(fault(at))?
                }
                Code::StackStxH => {
                    let v = regs[s];
                    self.m
                        .mem
                        .store_stack(dst_addr(), 2, v)
                        .map_err(fault(at))?
                }
                Code::StackStxW => {
                    let v = regs[s];
                    self.m
                        .mem
                        .store_stack(dst_addr(), 4, v)
                        .map_err(fault(at))?
                }
                Code::StackStxDw => {
                    let v = regs[s];
                    self.m
                        .mem
                        .store_stack(dst_addr(), 8, v)
                        .map_err(fault(at))?
                }
                Code::StackStB => self
                    .m
                    .mem
                    .store_stack(dst_addr(), 1, imm)
                    .map_err(fault(at))?,
                Code::StackStH => self
                    .m
                    .mem
                    .store_stack(dst_addr(), 2, imm)
                    .map_err(fault(at))?,
                Code::StackStW => self
                    .m
                    .mem
                    .store_stack(dst_addr(), 4, imm)
                    .map_err(fault(at))?,
                Code::StackStDw => self
                    .m
                    .mem
                    .store_stack(dst_addr(), 8, imm)
                    .map_err(fault(at))?,
                Code::Atomic {
                    size,
                    op: rmw,
                    fetch,
                } => self.atomic(size, rmw, fetch, dst_addr(), s, &mut regs, at)?,
                Code::LdPacket { size, indexed } => {
                    match self.load_packet(size, indexed, regs[s], op.imm, at)? {
                        Some(v) => regs[0] = v,
                        None => {
                            // Out of the packet: the current program returns 0
                            // (through the synthetic exit, see `Code::LdPacket`).
                            regs[0] = 0;
                            pc = target;
                        }
                    }
                }
                // ---- jumps ----
                Code::Ja => pc = target,
                Code::JeqK => {
                    if regs[d] == imm {
                        pc = target;
                        continue;
                    }
                }
                Code::JeqX => {
                    if regs[d] == regs[s] {
                        pc = target;
                        continue;
                    }
                }
                Code::JgtK => {
                    if regs[d] > imm {
                        pc = target;
                        continue;
                    }
                }
                Code::JgtX => {
                    if regs[d] > regs[s] {
                        pc = target;
                        continue;
                    }
                }
                Code::JgeK => {
                    if regs[d] >= imm {
                        pc = target;
                        continue;
                    }
                }
                Code::JgeX => {
                    if regs[d] >= regs[s] {
                        pc = target;
                        continue;
                    }
                }
                Code::JsetK => {
                    if regs[d] & imm != 0 {
                        pc = target;
                        continue;
                    }
                }
                Code::JsetX => {
                    if regs[d] & regs[s] != 0 {
                        pc = target;
                        continue;
                    }
                }
                Code::JneK => {
                    if regs[d] != imm {
                        pc = target;
                        continue;
                    }
                }
                Code::JneX => {
                    if regs[d] != regs[s] {
                        pc = target;
                        continue;
                    }
                }
                Code::JsgtK => {
                    if regs[d] as i64 > imm as i64 {
                        pc = target;
                        continue;
                    }
                }
                Code::JsgtX => {
                    if regs[d] as i64 > regs[s] as i64 {
                        pc = target;
                        continue;
                    }
                }
                Code::JsgeK => {
                    if regs[d] as i64 >= imm as i64 {
                        pc = target;
                        continue;
                    }
                }
                Code::JsgeX => {
                    if regs[d] as i64 >= regs[s] as i64 {
                        pc = target;
                        continue;
                    }
                }
                Code::JltK => {
                    if regs[d] < imm {
                        pc = target;
                        continue;
                    }
                }
                Code::JltX => {
                    if regs[d] < regs[s] {
                        pc = target;
                        continue;
                    }
                }
                Code::JleK => {
                    if regs[d] <= imm {
                        pc = target;
                        continue;
                    }
                }
                Code::JleX => {
                    if regs[d] <= regs[s] {
                        pc = target;
                        continue;
                    }
                }
                Code::JsltK => {
                    if (regs[d] as i64) < imm as i64 {
                        pc = target;
                        continue;
                    }
                }
                Code::JsltX => {
                    if (regs[d] as i64) < regs[s] as i64 {
                        pc = target;
                        continue;
                    }
                }
                Code::JsleK => {
                    if regs[d] as i64 <= imm as i64 {
                        pc = target;
                        continue;
                    }
                }
                Code::JsleX => {
                    if regs[d] as i64 <= regs[s] as i64 {
                        pc = target;
                        continue;
                    }
                }
                Code::Jmp32K(c) => {
                    if cond32(c, regs[d], imm) {
                        pc = target;
                        continue;
                    }
                }
                Code::Jmp32X(c) => {
                    if cond32(c, regs[d], regs[s]) {
                        pc = target;
                        continue;
                    }
                }
                // ---- calls ----
                Code::CallHelper => regs[0] = self.call_helper_id(op.imm, &regs, at)?,
                Code::Callx => regs[0] = self.call_helper_id(regs[d] as i64, &regs, at)?,
                Code::CallKfunc => regs[0] = self.call_kfunc(op.aux, op.imm, &regs, at)?,
                Code::TailCall => {
                    if let Some(target) = self.take_tail_call(regs[2], regs[3], tail_calls_left) {
                        // Replace the current frame: same r10, new program at pc 0.
                        cur = target;
                        self.cur_prog = cur;
                        p = &progs[cur as usize];
                        code = &p.code;
                        self.place_stack(regs[10], p.funcs[0].stack_size, at)?;
                        pc = p.funcs[0].start;
                    }
                }
                Code::CallLocal => {
                    let callee = op.imm as usize;
                    self.stats.bpf2bpf_calls += 1;
                    if p.funcs[callee].traced() {
                        self.insns_left = left;
                        let args = [regs[1], regs[2], regs[3], regs[4], regs[5]];
                        regs[0] = self.call_traced(cur, callee, args, tail_calls_left, at)?;
                        self.cur_prog = cur;
                        left = self.insns_left;
                    } else {
                        self.check_depth(at)?;
                        self.frames.push(Frame {
                            prog: cur,
                            ret_pc: pc as u32,
                            saved: [regs[6], regs[7], regs[8], regs[9], regs[10]],
                            floor: self.m.mem.stack_floor(),
                        });
                        regs[10] = self.alloc_stack(p.funcs[callee].stack_size, at)?;
                        pc = target;
                    }
                }
                Code::Exit => {
                    if self.frames.len() == base {
                        self.insns_left = left;
                        return Ok(regs[0]);
                    }
                    let fr = self
                        .frames
                        .pop()
                        .unwrap_or_else(|| unreachable!("frame stack below base"));
                    regs[6..11].copy_from_slice(&fr.saved);
                    self.m.mem.set_stack_floor(fr.floor);
                    cur = fr.prog;
                    self.cur_prog = cur;
                    p = &progs[cur as usize];
                    code = &p.code;
                    pc = fr.ret_pc as usize;
                }
                Code::LddwHigh => unreachable!("the decoder rejects jumps into a lddw"),
            }
        }
    }

    /// An atomic read-modify-write of `size` bytes at `addr`, `s` = source register.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn atomic(
        &mut self,
        size: u8,
        rmw: Rmw,
        fetch: bool,
        addr: u64,
        s: usize,
        regs: &mut [u64; 16],
        at: usize,
    ) -> Result<(), RunError> {
        let fault = |f| RunError::from_fault(at, f);
        let size = size as usize;
        let old = self.m.mem.load(addr, size).map_err(fault)?;
        let mask = if size == 8 { u64::MAX } else { u32::MAX as u64 };
        let src = regs[s] & mask;
        let new = match rmw {
            Rmw::Add => old.wrapping_add(src),
            Rmw::Or => old | src,
            Rmw::And => old & src,
            Rmw::Xor => old ^ src,
            Rmw::Xchg => src,
            Rmw::Cmpxchg => {
                if old == regs[0] & mask {
                    src
                } else {
                    old
                }
            }
        };
        // Always written back, so a failing cmpxchg on read-only
        // memory faults like a successful one.
        self.m.mem.store(addr, size, new).map_err(fault)?;
        if rmw == Rmw::Cmpxchg {
            regs[0] = old;
        } else if fetch {
            regs[s] = old;
        }
        Ok(())
    }

    /// Legacy skb access (`ldabs`/`ldind`): big-endian; `None` when the
    /// offset is outside the packet (like Linux, the program then ends
    /// with r0 = 0).
    #[cold]
    #[inline(never)]
    fn load_packet(
        &mut self,
        size: u8,
        indexed: bool,
        index_reg: u64,
        imm: i64,
        at: usize,
    ) -> Result<Option<u64>, RunError> {
        let index = if indexed { index_reg as u32 as i64 } else { 0 };
        load_packet_at(&mut self.m.mem, size, index + imm).map_err(|f| RunError::from_fault(at, f))
    }

    /// Calls helper number `id` (from `call imm` or `callx`).
    #[cold]
    #[inline(never)]
    fn call_helper_id(&mut self, id: i64, regs: &[u64; 16], at: usize) -> Result<u64, RunError> {
        let h = i32::try_from(id)
            .ok()
            .and_then(|i| self.registry.helper(i))
            .ok_or(RunError::UnknownHelper { pc: at, id })?;
        self.call_helper(h, regs, at, id)
    }

    /// Calls kfunc `kfunc` (a registry id), its arguments widened as
    /// `widenings` (see `decode::widen_kfunc_args`) says.
    #[cold]
    #[inline(never)]
    fn call_kfunc(
        &mut self,
        kfunc: u32,
        widenings: i64,
        regs: &[u64; 16],
        at: usize,
    ) -> Result<u64, RunError> {
        let name = || self.registry.kfunc_name(kfunc).to_string();
        let k = self
            .registry
            .kfunc(kfunc)
            .ok_or_else(|| RunError::UnknownKfunc {
                pc: at,
                name: name(),
            })?;
        self.stats.kfunc_calls += 1;
        let mut env = HelperEnv::new(&mut self.m.mem, &mut self.m.maps, &mut self.m.host);
        let args =
            decode::widen_kfunc_args(widenings, [regs[1], regs[2], regs[3], regs[4], regs[5]]);
        k(&mut env, args).map_err(|e| match e {
            HelperError::Memory(f) => RunError::from_fault(at, f),
            source => RunError::Kfunc {
                pc: at,
                name: self.registry.kfunc_name(kfunc).to_string(),
                source,
            },
        })
    }

    #[inline]
    fn call_helper(
        &mut self,
        h: &HelperFn,
        regs: &[u64; 16],
        at: usize,
        id: i64,
    ) -> Result<u64, RunError> {
        self.stats.helper_calls += 1;
        let mut env = HelperEnv::new(&mut self.m.mem, &mut self.m.maps, &mut self.m.host);
        h(&mut env, [regs[1], regs[2], regs[3], regs[4], regs[5]]).map_err(|e| match e {
            HelperError::Memory(f) => RunError::from_fault(at, f),
            source => RunError::Helper { pc: at, id, source },
        })
    }
}

/// The op at `pc` of a decoded program.
///
/// `pc` is always in range: `decode::decode` guarantees every reachable pc
/// is (entry and tail-call pcs are function starts; pc + 1 follows an op
/// that is not the last, since the last is an exit or ja; pc + 2 follows a
/// lddw; jump targets and callees are checked at decode; a return pc is a
/// call's pc + 1). An unchecked fetch measured about 5% faster, but this is
/// the sandbox of untrusted code: a broken invariant must stop the process
/// with a panic, never read out of bounds, so the check stays.
#[inline(always)]
fn op_at(code: &[Op], pc: usize) -> Op {
    code[pc]
}

/// The legacy packet load shared by the interpreter and the JIT engine's
/// packet routine: `size` bytes at packet offset `off`, big-endian, in
/// host order; `None` when `[off, off + size)` is not inside the packet.
pub(crate) fn load_packet_at(
    mem: &mut crate::memory::Memory,
    size: u8,
    off: i64,
) -> Result<Option<u64>, crate::memory::MemFault> {
    let len = mem.region(REGION_PACKET).data.len() as i64;
    if off < 0 || off + size as i64 > len {
        return Ok(None);
    }
    let v = mem.load(PACKET_BASE + off as u64, size as usize)?;
    Ok(Some(if size == 1 { v } else { swap(v, size * 8) }))
}
