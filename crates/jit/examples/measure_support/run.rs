//! One measured run in the rv64 emulator: exact instruction/load/store
//! counts from the hart's counters, plus which of those accesses hit the
//! stack region and which code section retired each instruction.
//!
//! Stack attribution is exact, not a base-register guess: the run is traced
//! and the trace replayed over a register file that starts from the state
//! the run started with; every traced register write is applied, and after
//! each host call the file is reset to a snapshot taken when the host call
//! returned (host code is not traced). A load or store then knows its
//! effective address `rs1 + offset`.

use super::common::emu::{World, STACK_BASE, STACK_SIZE};
use super::sections::{Section, SectionMap};
use rvbpf_rv64::emu::{EmuError, Memory, Stop};
use rvbpf_rv64::{decode, Inst, Reg};

/// Largest trace a measured run may produce (runs here are small).
const TRACE_CAPACITY: usize = 1 << 21;
/// Instruction budget of one measured run.
const BUDGET: u64 = 5_000_000;

/// A host-call handler: `(slot number, a0..a7, memory) -> a0`.
pub type Helper<'a> = dyn FnMut(u32, [u64; 8], &mut Memory) -> u64 + 'a;

/// What one run cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// a0 at return.
    pub result: u64,
    /// RV64 instructions retired.
    pub insns: u64,
    pub loads: u64,
    pub stores: u64,
    /// Loads/stores whose address lies in the stack region.
    pub stack_loads: u64,
    pub stack_stores: u64,
    /// Instructions retired per code section (see [`Section`]).
    pub by_section: [u64; Section::COUNT],
}

/// Why a measured run failed.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error("emulator: {0}")]
    Emu(#[from] EmuError),
    #[error("unexpected trap ({what}) at {pc:#x}")]
    Trap { what: &'static str, pc: u64 },
    #[error("trace overflowed ({dropped} entries dropped): run too long to attribute")]
    TraceOverflow { dropped: u64 },
    #[error("instruction at {pc:#x} does not decode: {why}")]
    Decode { pc: u64, why: String },
    #[error("replay counted {replayed} {what}, the hart counted {counted}")]
    ReplayMismatch {
        what: &'static str,
        replayed: u64,
        counted: u64,
    },
}

/// Runs image `k` of `world` from its entry with `args` in a0.. and
/// measures it. `sections` maps code addresses to sections.
pub fn measured_run(
    world: &mut World,
    k: usize,
    args: &[u64],
    sections: &SectionMap,
    helper: &mut Helper,
) -> Result<RunStats, MeasureError> {
    let World { mem, entries, hart } = world;
    let sp = STACK_BASE + STACK_SIZE;
    hart.reset_counters();
    hart.set_budget(BUDGET);
    // a6 holds garbage on entry: the header must initialise it.
    hart.set_reg(Reg::A6, 0xdead_beef);
    hart.call(entries[k], sp, args)?;
    let start = hart.regs();
    hart.enable_trace(TRACE_CAPACITY);
    // (trace length when the host call returned, registers after it)
    let mut resumes: Vec<(usize, [u64; 32])> = Vec::new();
    loop {
        match hart.run(mem)? {
            Stop::HostCall { number } => {
                let v = helper(number, hart.args(), mem);
                hart.set_return_value(v);
                hart.return_from_host_call();
                let len = hart.trace().map_or(0, |t| t.len());
                resumes.push((len, hart.regs()));
            }
            Stop::Returned => break,
            Stop::Ecall { pc } => return Err(MeasureError::Trap { what: "ecall", pc }),
            Stop::Ebreak { pc } => return Err(MeasureError::Trap { what: "ebreak", pc }),
        }
    }
    let trace = hart.take_trace().expect("tracing was enabled above");
    if trace.dropped() > 0 {
        return Err(MeasureError::TraceOverflow {
            dropped: trace.dropped(),
        });
    }
    let counters = hart.counters();
    let mut stats = RunStats {
        result: hart.reg(Reg::A0),
        insns: counters.instructions,
        loads: counters.loads,
        stores: counters.stores,
        ..RunStats::default()
    };
    let (mut loads, mut stores) = (0, 0);
    let mut regs = start;
    let mut resumes = resumes.into_iter().peekable();
    for (i, e) in trace.entries().enumerate() {
        while let Some((_, r)) = resumes.next_if(|(at, _)| *at == i) {
            regs = r;
        }
        stats.by_section[sections.section_at(e.pc) as usize] += 1;
        let bytes = e.bits.to_le_bytes();
        let (inst, _) =
            decode(&bytes[..usize::from(e.len)]).map_err(|why| MeasureError::Decode {
                pc: e.pc,
                why: why.to_string(),
            })?;
        let at = |rs1: Reg, off: i64| regs[usize::from(rs1.index())].wrapping_add(off as u64);
        let in_stack = |a: u64| (STACK_BASE..STACK_BASE + STACK_SIZE).contains(&a);
        let (load, store) = match inst {
            Inst::Load { rs1, offset, .. } => (Some(at(rs1, offset.value())), None),
            Inst::Store { rs1, offset, .. } => (None, Some(at(rs1, offset.value()))),
            Inst::Amo { rs1, .. } => (Some(at(rs1, 0)), Some(at(rs1, 0))),
            Inst::Lr { rs1, .. } => (Some(at(rs1, 0)), None),
            // A failed sc stores nothing (rd = 1 then).
            Inst::Sc { rs1, rd, .. } => {
                let ok = e.write.is_none_or(|(r, v)| r != rd || v == 0);
                (None, ok.then(|| at(rs1, 0)))
            }
            _ => (None, None),
        };
        if let Some(a) = load {
            loads += 1;
            stats.stack_loads += u64::from(in_stack(a));
        }
        if let Some(a) = store {
            stores += 1;
            stats.stack_stores += u64::from(in_stack(a));
        }
        if let Some((r, v)) = e.write {
            regs[usize::from(r.index())] = v;
        }
    }
    for (what, replayed, counted) in [
        ("loads", loads, stats.loads),
        ("stores", stores, stats.stores),
        ("instructions", trace.len() as u64, stats.insns),
    ] {
        if replayed != counted {
            return Err(MeasureError::ReplayMismatch {
                what,
                replayed,
                counted,
            });
        }
    }
    Ok(stats)
}
