//! The execution loop. Op classes appear in the same order as in the JIT
//! lowering: alu, memory, jumps, calls.

use super::alu::{alu32, alu64, cond32, cond64, sign_extend, swap, to_le};
use super::decode::{Code, Rmw};
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
        let mut regs = [0u64; 11];
        regs[1..6].copy_from_slice(&args);
        regs[10] = self.alloc_stack(f.stack_size, caller_pc)?;
        let mut pc = f.start;
        let mut left = self.insns_left;
        let fault = |at: usize| move |f| RunError::from_fault(at, f);

        loop {
            let at = pc;
            // The decoder guarantees every reachable pc is in range.
            let op = code[at];
            pc += 1;
            if left == 0 {
                self.insns_left = 0;
                return Err(RunError::BudgetExhausted { pc: at });
            }
            left -= 1;
            let (d, s) = (op.dst as usize, op.src as usize);
            match op.code {
                // ---- alu ----
                Code::Alu64K(b) => regs[d] = alu64(b, regs[d], op.imm as u64),
                Code::Alu64X(b) => regs[d] = alu64(b, regs[d], regs[s]),
                Code::Alu32K(b) => regs[d] = alu32(b, regs[d] as u32, op.imm as u32),
                Code::Alu32X(b) => regs[d] = alu32(b, regs[d] as u32, regs[s] as u32),
                Code::Neg64 => regs[d] = regs[d].wrapping_neg(),
                Code::Neg32 => regs[d] = (regs[d] as u32).wrapping_neg() as u64,
                Code::Movsx64(bits) => regs[d] = sign_extend(regs[s], bits),
                Code::Movsx32(bits) => regs[d] = sign_extend(regs[s], bits) as u32 as u64,
                Code::Le(bits) => regs[d] = to_le(regs[d], bits),
                Code::Swap(bits) => regs[d] = swap(regs[d], bits),
                Code::LoadImm64 => {
                    regs[d] = op.imm as u64;
                    pc += 1; // skip the lddw's second slot
                }
                // ---- memory ----
                Code::Ldx(size) => {
                    let addr = regs[s].wrapping_add(op.off as i64 as u64);
                    regs[d] = self.m.mem.load(addr, size as usize).map_err(fault(at))?;
                }
                Code::LdxSx(size) => {
                    let addr = regs[s].wrapping_add(op.off as i64 as u64);
                    let v = self.m.mem.load(addr, size as usize).map_err(fault(at))?;
                    regs[d] = sign_extend(v, size * 8);
                }
                Code::StK(size) => {
                    let addr = regs[d].wrapping_add(op.off as i64 as u64);
                    self.m
                        .mem
                        .store(addr, size as usize, op.imm as u64)
                        .map_err(fault(at))?;
                }
                Code::StX(size) => {
                    let addr = regs[d].wrapping_add(op.off as i64 as u64);
                    self.m
                        .mem
                        .store(addr, size as usize, regs[s])
                        .map_err(fault(at))?;
                }
                Code::Atomic {
                    size,
                    op: rmw,
                    fetch,
                } => {
                    let addr = regs[d].wrapping_add(op.off as i64 as u64);
                    let size = size as usize;
                    let old = self.m.mem.load(addr, size).map_err(fault(at))?;
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
                    self.m.mem.store(addr, size, new).map_err(fault(at))?;
                    if rmw == Rmw::Cmpxchg {
                        regs[0] = old;
                    } else if fetch {
                        regs[s] = old;
                    }
                }
                Code::LdPacket { size, indexed } => {
                    // Legacy skb access: big-endian, and like Linux an
                    // out-of-packet offset ends the program with r0 = 0.
                    let index = if indexed { regs[s] as u32 as i64 } else { 0 };
                    let off = index + op.imm;
                    let len = self.m.mem.region(REGION_PACKET).data.len() as i64;
                    if off < 0 || off + size as i64 > len {
                        self.frames.truncate(base);
                        self.insns_left = left;
                        return Ok(0);
                    }
                    let v = self
                        .m
                        .mem
                        .load(PACKET_BASE + off as u64, size as usize)
                        .map_err(fault(at))?;
                    regs[0] = if size == 1 { v } else { swap(v, size * 8) };
                }
                // ---- jumps ----
                Code::Ja => pc = op.aux as usize,
                Code::JmpK(c) => {
                    if cond64(c, regs[d], op.imm as u64) {
                        pc = op.aux as usize;
                    }
                }
                Code::JmpX(c) => {
                    if cond64(c, regs[d], regs[s]) {
                        pc = op.aux as usize;
                    }
                }
                Code::Jmp32K(c) => {
                    if cond32(c, regs[d], op.imm as u64) {
                        pc = op.aux as usize;
                    }
                }
                Code::Jmp32X(c) => {
                    if cond32(c, regs[d], regs[s]) {
                        pc = op.aux as usize;
                    }
                }
                // ---- calls ----
                Code::CallHelper => {
                    let id = op.imm;
                    let h = self
                        .registry
                        .helper(id as i32)
                        .ok_or(RunError::UnknownHelper { pc: at, id })?;
                    regs[0] = self.call_helper(h, &regs, at, id)?;
                }
                Code::Callx => {
                    let id = regs[d] as i64;
                    let h = i32::try_from(id)
                        .ok()
                        .and_then(|i| self.registry.helper(i))
                        .ok_or(RunError::UnknownHelper { pc: at, id })?;
                    regs[0] = self.call_helper(h, &regs, at, id)?;
                }
                Code::CallKfunc => {
                    let name = || self.registry.kfunc_name(op.aux).to_string();
                    let k = self
                        .registry
                        .kfunc(op.aux)
                        .ok_or_else(|| RunError::UnknownKfunc {
                            pc: at,
                            name: name(),
                        })?;
                    self.stats.kfunc_calls += 1;
                    let mut env =
                        HelperEnv::new(&mut self.m.mem, &mut self.m.maps, &mut self.m.host);
                    regs[0] = k(&mut env, [regs[1], regs[2], regs[3], regs[4], regs[5]]).map_err(
                        |e| match e {
                            HelperError::Memory(f) => RunError::from_fault(at, f),
                            source => RunError::Kfunc {
                                pc: at,
                                name: self.registry.kfunc_name(op.aux).to_string(),
                                source,
                            },
                        },
                    )?;
                }
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
                        pc = op.aux as usize;
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

    #[inline]
    fn call_helper(
        &mut self,
        h: &HelperFn,
        regs: &[u64; 11],
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
