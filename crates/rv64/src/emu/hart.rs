//! The hart: architectural state, run control, host calls and counters.
//!
//! A run executes until something needs the host's attention: a host call
//! (the pc entered the host-call slots), a return to the host (the pc reached
//! the return sentinel), `ecall`/`ebreak`, or an error. The host services
//! the stop and calls `run` again:
//!
//! ```text
//!   host ──call(entry, sp, args)──▶ guest code ──jal slot k──▶ Stop::HostCall{k}
//!    ▲                                  ▲                           │
//!    │                                  └──return_from_host_call()──┘ (pc = ra)
//!    └───────── Stop::Returned ◀── ret to sentinel (ra set by `call`)
//! ```

use super::counters::Counters;
use super::decoded::Decoded;
use super::error::EmuError;
use super::exec::{run_region, Exit};
use super::memory::Memory;
use super::trace::Trace;
use crate::reg::Reg;

/// Default return sentinel used by [`Hart::call`]: far from any sensible
/// mapping, 4-aligned so it is also a valid `jalr` target.
pub const DEFAULT_RETURN_ADDRESS: u64 = 0xffff_ffff_ffff_f000;

/// Why [`Hart::run`] returned control to the host without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stop {
    /// The pc entered host-call slot `number`. Arguments are in `a0..a7`;
    /// set `a0` and call [`Hart::return_from_host_call`] to resume at `ra`.
    HostCall {
        /// Slot index: `(pc - base) / 4`.
        number: u32,
    },
    /// The pc reached the return sentinel: the function started by
    /// [`Hart::call`] returned; its result is in `a0`.
    Returned,
    /// An `ecall` at `pc` retired; the hart's pc is already past it.
    Ecall {
        /// Address of the `ecall`.
        pc: u64,
    },
    /// An `ebreak` at `pc` retired; the hart's pc is already past it.
    Ebreak {
        /// Address of the `ebreak`.
        pc: u64,
    },
}

/// The reserved host-call address range: `slots` entries of 4 bytes from
/// `base`. It must not overlap an executable region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostCalls {
    /// Address of slot 0 (4-aligned recommended).
    pub base: u64,
    /// Number of slots.
    pub slots: u32,
}

impl HostCalls {
    /// Address of slot `number` (what generated code jumps to).
    pub fn slot_address(&self, number: u32) -> u64 {
        self.base.wrapping_add(u64::from(number) * 4)
    }

    fn slot_at(&self, pc: u64) -> Option<u32> {
        let off = pc.wrapping_sub(self.base);
        (off & 3 == 0 && off / 4 < u64::from(self.slots)).then_some((off / 4) as u32)
    }
}

/// One RV64IMAC + Zba/Zbb user-mode hart.
#[derive(Debug, Clone)]
pub struct Hart {
    /// `x0..x31` (`x0` always 0).
    pub(crate) regs: [u64; 32],
    pub(crate) pc: u64,
    pub(crate) counters: Counters,
    /// Instructions still allowed before `BudgetExhausted`.
    pub(crate) budget: u64,
    /// Address reserved by the last `lr`, cleared by `sc` and by stores
    /// overlapping it.
    pub(crate) reservation: Option<u64>,
    host_calls: Option<HostCalls>,
    return_address: u64,
    pub(crate) trace: Option<Trace>,
}

impl Default for Hart {
    fn default() -> Self {
        Self::new()
    }
}

impl Hart {
    /// A hart with all registers zero, pc 0, unlimited budget, no host-call
    /// slots and [`DEFAULT_RETURN_ADDRESS`] as return sentinel.
    pub fn new() -> Self {
        Hart {
            regs: [0; 32],
            pc: 0,
            counters: Counters::default(),
            budget: u64::MAX,
            reservation: None,
            host_calls: None,
            return_address: DEFAULT_RETURN_ADDRESS,
            trace: None,
        }
    }

    /// Value of register `r` (`x0` reads 0).
    pub fn reg(&self, r: Reg) -> u64 {
        self.regs[usize::from(r.index())]
    }

    /// Sets register `r`; writes to `x0` are ignored.
    pub fn set_reg(&mut self, r: Reg, value: u64) {
        if !r.is_zero() {
            self.regs[usize::from(r.index())] = value;
        }
    }

    /// All 32 integer registers, `x0` first.
    pub fn regs(&self) -> [u64; 32] {
        self.regs
    }

    /// The pc of the next instruction.
    pub fn pc(&self) -> u64 {
        self.pc
    }

    /// Sets the pc of the next instruction.
    pub fn set_pc(&mut self, pc: u64) {
        self.pc = pc;
    }

    /// Counters accumulated since creation or the last reset.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Zeroes the counters.
    pub fn reset_counters(&mut self) {
        self.counters = Counters::default();
    }

    /// Allows at most `instructions` more instructions before
    /// [`EmuError::BudgetExhausted`]; the budget is consumed across runs.
    pub fn set_budget(&mut self, instructions: u64) {
        self.budget = instructions;
    }

    /// Instructions still allowed.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Reserves `slots` host-call entries of 4 bytes at `base`.
    pub fn set_host_calls(&mut self, base: u64, slots: u32) {
        self.host_calls = Some(HostCalls { base, slots });
    }

    /// The configured host-call range.
    pub fn host_calls(&self) -> Option<HostCalls> {
        self.host_calls
    }

    /// Changes the address whose execution means "return to the host".
    pub fn set_return_address(&mut self, addr: u64) {
        self.return_address = addr;
    }

    /// The return sentinel.
    pub fn return_address(&self) -> u64 {
        self.return_address
    }

    /// Prepares a call of `entry` from the host: `a0..` = `args` (at most 8,
    /// extra ones are an error), `sp` = `sp`, `ra` = the return sentinel,
    /// pc = `entry`, no reservation. Follow with [`run`](Self::run), or use
    /// [`call_with_host`](Self::call_with_host).
    pub fn call(&mut self, entry: u64, sp: u64, args: &[u64]) -> Result<(), EmuError> {
        if args.len() > 8 {
            return Err(EmuError::TooManyArguments { count: args.len() });
        }
        for (i, &arg) in args.iter().enumerate() {
            self.regs[usize::from(Reg::A0.index()) + i] = arg;
        }
        self.regs[usize::from(Reg::SP.index())] = sp;
        self.regs[usize::from(Reg::RA.index())] = self.return_address;
        self.pc = entry;
        self.reservation = None;
        Ok(())
    }

    /// Host-call argument `i`: register `a0 + i`.
    ///
    /// # Panics
    /// If `i >= 8` (the RISC-V calling convention passes at most eight
    /// integer arguments in registers).
    pub fn arg(&self, i: usize) -> u64 {
        assert!(i < 8, "argument register a{i} does not exist");
        self.regs[usize::from(Reg::A0.index()) + i]
    }

    /// All eight argument registers `a0..a7`.
    pub fn args(&self) -> [u64; 8] {
        let a0 = usize::from(Reg::A0.index());
        let mut out = [0; 8];
        out.copy_from_slice(&self.regs[a0..a0 + 8]);
        out
    }

    /// Sets `a0`, the return value of a host call.
    pub fn set_return_value(&mut self, value: u64) {
        self.regs[usize::from(Reg::A0.index())] = value;
    }

    /// Resumes after a host call: pc = `ra`, like the `ret` the slot stands for.
    pub fn return_from_host_call(&mut self) {
        self.pc = self.regs[usize::from(Reg::RA.index())] & !1;
    }

    /// Starts recording a trace of the last `capacity` retired instructions.
    pub fn enable_trace(&mut self, capacity: usize) {
        self.trace = Some(Trace::with_capacity(capacity));
    }

    /// Stops tracing and returns what was recorded.
    pub fn take_trace(&mut self) -> Option<Trace> {
        self.trace.take()
    }

    /// The trace recorded so far, if tracing is on.
    pub fn trace(&self) -> Option<&Trace> {
        self.trace.as_ref()
    }

    /// Calls `entry` and runs until it returns, passing every host call to
    /// `host(number, hart, memory)` (which reads arguments with [`arg`](Self::arg)
    /// and sets the result with [`set_return_value`](Self::set_return_value)).
    /// Returns `a0`. `ecall`/`ebreak` end the call with
    /// [`EmuError::UnhandledTrap`].
    pub fn call_with_host<E: From<EmuError>>(
        &mut self,
        mem: &mut Memory,
        entry: u64,
        sp: u64,
        args: &[u64],
        mut host: impl FnMut(u32, &mut Hart, &mut Memory) -> Result<(), E>,
    ) -> Result<u64, E> {
        self.call(entry, sp, args)?;
        loop {
            match self.run(mem)? {
                Stop::HostCall { number } => {
                    host(number, self, mem)?;
                    self.return_from_host_call();
                }
                Stop::Returned => return Ok(self.arg(0)),
                Stop::Ecall { pc } => {
                    return Err(EmuError::UnhandledTrap { pc, ebreak: false }.into())
                }
                Stop::Ebreak { pc } => {
                    return Err(EmuError::UnhandledTrap { pc, ebreak: true }.into())
                }
            }
        }
    }

    /// Runs from the current pc until a [`Stop`] or an error.
    pub fn run(&mut self, mem: &mut Memory) -> Result<Stop, EmuError> {
        self.check_stop_addresses(mem)?;
        if self.trace.is_some() {
            self.run_loop::<true>(mem)
        } else {
            self.run_loop::<false>(mem)
        }
    }

    /// `STEP` runs instruction by instruction (tracing); otherwise chains
    /// run whole and only a budget shortfall drops into step mode.
    fn run_loop<const STEP: bool>(&mut self, mem: &mut Memory) -> Result<Stop, EmuError> {
        loop {
            let pc = self.pc;
            if pc == self.return_address {
                return Ok(Stop::Returned);
            }
            if let Some(number) = self.host_calls.and_then(|h| h.slot_at(pc)) {
                self.counters.host_calls += 1;
                return Ok(Stop::HostCall { number });
            }
            let region = match mem.exec_region_at(pc) {
                Some(region) if pc & 1 == 0 => region,
                _ => {
                    return Err(EmuError::Fault {
                        pc,
                        addr: pc,
                        size: 2,
                        access: super::error::Access::Execute,
                    })
                }
            };
            // The decoded-instruction cache is moved out of the region while
            // it runs, so the executor can mutate memory and cache freely.
            let r = mem.region_mut(region);
            let base = r.base();
            let parcels = r.size().div_ceil(2) as usize;
            let mut ops = std::mem::take(&mut r.decoded);
            if ops.len() != parcels {
                ops = vec![Decoded::NOT_DECODED; parcels];
            }
            let mut exit = run_region::<STEP>(self, mem, region, base, &mut ops);
            if let Exit::NeedStep = exit {
                exit = run_region::<true>(self, mem, region, base, &mut ops);
            }
            mem.region_mut(region).decoded = ops;
            match exit {
                Exit::LeftRegion => continue,
                Exit::Stop(stop) => return Ok(stop),
                Exit::Error(e) => return Err(e),
                Exit::NeedStep => unreachable!("step mode charges one instruction at a time"),
            }
        }
    }

    /// Host-call slots and the return sentinel are only noticed when the pc
    /// leaves executable memory, so they must not lie inside it.
    fn check_stop_addresses(&self, mem: &Memory) -> Result<(), EmuError> {
        let conflict = |addr: u64, len: u64| {
            mem.regions()
                .iter()
                .find(|r| r.perms().exec && addr < r.end() && r.base() < addr.saturating_add(len))
                .map(|r| EmuError::StopAddressInCode {
                    addr,
                    region: r.name().to_string(),
                })
        };
        if let Some(e) = conflict(self.return_address, 1) {
            return Err(e);
        }
        if let Some(h) = self.host_calls {
            if let Some(e) = conflict(h.base, u64::from(h.slots) * 4) {
                return Err(e);
            }
        }
        Ok(())
    }
}
