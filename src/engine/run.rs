//! One run on the emulated JIT engine.

use super::code::{
    fill_view, CodeSpace, JitCache, COUNTERS_SIZE, TAIL_CALL_COUNTER, TRACER_RUN_COUNTER,
    VIEWS_OFFSET,
};
use super::host::{serve, Lent};
use super::{
    JitConfig, CODE_BASE, HOST_CALL_BASE, JIT_DATA_BASE, PACKET_LOAD_SLOT, TRACE_CTX_SIZE,
    TRACE_CTX_SLOT,
};
use crate::memory::{Access, Memory, STACK_TOP, TRACE_CTX_BASE};
use crate::vm::{Outcome, ProgId, RunError, Stats, Vm};
use rvbpf_rv64::emu::{self, EmuError, Hart, Memory as EmuMemory, Perms};
use rvbpf_rv64::Reg;

/// Why the emulator stopped a run early.
enum Stop {
    Emu(EmuError),
    Run(RunError, Option<ProgId>),
}

impl From<EmuError> for Stop {
    fn from(e: EmuError) -> Self {
        Stop::Emu(e)
    }
}

/// Runs `prog` compiled with `cfg` from offset 0 of its entry function with
/// a0..a4 = `args`. On failure also returns the program executing then.
pub(crate) fn jit_run(
    vm: &mut Vm,
    prog: ProgId,
    args: [u64; 5],
    cfg: JitConfig,
) -> Result<Outcome, (RunError, ProgId)> {
    let mut space = JitCache::take(vm, cfg);
    let r = super::attach::sync_trampolines(vm, &mut space)
        .and_then(|()| run_in(vm, &mut space, prog, args));
    JitCache::put(vm, cfg, space);
    r
}

fn run_in(
    vm: &mut Vm,
    space: &mut CodeSpace,
    prog: ProgId,
    args: [u64; 5],
) -> Result<Outcome, (RunError, ProgId)> {
    let entry = match &space.images[prog.0 as usize] {
        Ok(img) => space.image_at[prog.0 as usize] + img.entry() as u64,
        Err(e) => {
            let why = format!("the JIT cannot compile this program: {e}");
            return Err((RunError::EngineUnavailable(why), prog));
        }
    };
    let views = views_region(vm, space);
    // JIT frames are not the interpreter's: helpers may touch the whole stack.
    vm.machine.mem.set_stack_floor(crate::memory::STACK_BASE);
    let mut emu = EmuMemory::new();
    let unavailable = |e: emu::MemoryError| (RunError::EngineUnavailable(e.to_string()), prog);
    let code_region = emu
        .add_region(
            "jit-code",
            CODE_BASE,
            Perms::RX,
            std::mem::take(&mut space.code),
        )
        .map_err(unavailable)?;
    // Counters RW (the thunks and trampolines increment them), views
    // read-only: BPF code that forged a view could pick a tail call's jump
    // target. (The host fills the views before lending them.)
    let counters_id = emu
        .add_region(
            "jit-counters",
            JIT_DATA_BASE,
            Perms::RW,
            vec![0; COUNTERS_SIZE as usize],
        )
        .map_err(unavailable)?;
    let views_id = match views.is_empty() {
        true => None,
        false => Some(
            emu.add_region("jit-views", JIT_DATA_BASE + VIEWS_OFFSET, Perms::R, views)
                .map_err(unavailable)?,
        ),
    };
    emu.add_zeroed_region("jit-trace-ctx", TRACE_CTX_BASE, TRACE_CTX_SIZE, Perms::R)
        .map_err(unavailable)?;
    let lent = match Lent::map_all(&mut vm.machine.mem, &mut emu) {
        Ok(l) => l,
        Err(e) => {
            space.code = emu.take_data(code_region);
            return Err((e, prog));
        }
    };
    let mut hart = Hart::new();
    hart.set_host_calls(HOST_CALL_BASE, PACKET_LOAD_SLOT + 1);
    hart.set_budget(vm.insn_budget());
    let mut stats = Stats::default();
    let registry = &vm.registry;
    let machine = &mut vm.machine;
    let sp = &*space;
    let result = hart.call_with_host::<Stop>(&mut emu, entry, STACK_TOP, &args, |slot, h, m| {
        if slot == TRACE_CTX_SLOT {
            h.set_return_value(publish_trace_ctx(h.arg(0), h.arg(1), m)?);
            return Ok(());
        }
        // ra points just past the `jalr` of the call: ra - 2 lies inside it.
        let at = sp.bpf_pc(h.reg(Reg::RA).wrapping_sub(2));
        let pc = at.map_or(0, |a| a.1);
        lent.give_back(&mut machine.mem, m);
        let r = if slot == PACKET_LOAD_SLOT {
            load_packet(h, &mut machine.mem, pc)
        } else {
            serve(slot, h.args(), pc, &sp.views, registry, machine, &mut stats).map(|v| {
                clobber_caller_saved(h);
                h.set_return_value(v);
            })
        };
        lent.lend_again(&mut machine.mem, m)
            .map_err(|e| Stop::Run(e, None))?;
        r.map_err(|e| Stop::Run(e, at.map(|a| ProgId(a.0))))
    });
    lent.give_back(&mut vm.machine.mem, &mut emu);
    let counter = |off| emu.read_u64(JIT_DATA_BASE + off).unwrap_or(0);
    stats.tail_calls = counter(TAIL_CALL_COUNTER);
    stats.tracer_runs = counter(TRACER_RUN_COUNTER);
    drop(emu.take_data(counters_id));
    if let Some(id) = views_id {
        drop(emu.take_data(id));
    }
    space.code = emu.take_data(code_region);
    let c = hart.counters();
    stats.insns_retired = c.instructions;
    stats.loads = c.loads;
    stats.stores = c.stores;
    stats.code_bytes = space.code.len() as u64;
    match result {
        Ok(ret) => Ok(Outcome { ret, stats }),
        Err(Stop::Run(e, at)) => Err((e, at.unwrap_or(prog))),
        Err(Stop::Emu(e)) => Err(emu_error(e, space, &vm.machine.mem, prog)),
    }
}

/// What a real C helper may do to the registers the psABI does not
/// preserve (t0..t6, a1..a7; a0 carries the result): overwrite them. The
/// emulator's host calls would otherwise keep every register, hiding JIT
/// code that relies on, say, the tail-call count in a6 surviving a helper
/// call — which fails natively (the native engine's dispatcher is real C-ABI
/// code). Each register gets a distinct recognisable value.
fn clobber_caller_saved(h: &mut Hart) {
    let caller_saved = [
        Reg::T0,
        Reg::T1,
        Reg::T2,
        Reg::T3,
        Reg::T4,
        Reg::T5,
        Reg::T6,
        Reg::A1,
        Reg::A2,
        Reg::A3,
        Reg::A4,
        Reg::A5,
        Reg::A6,
        Reg::A7,
    ];
    for (i, r) in caller_saved.into_iter().enumerate() {
        h.set_reg(r, 0xdead_c0de_0000_0000 | i as u64);
    }
}

/// The legacy packet-load routine (`rvbpf_jit::RelocKind::LoadPacket`):
/// offset in t0, size in t2 → a5 = value or 0, t0 = 1 or 0 (out of range);
/// every other register is left alone, as the JIT's lowering relies on.
fn load_packet(h: &mut Hart, mem: &mut Memory, pc: usize) -> Result<(), RunError> {
    let (off, size) = (h.reg(Reg::T0) as i64, h.reg(Reg::T2) as u8);
    let v =
        crate::interp::load_packet_at(mem, size, off).map_err(|f| RunError::from_fault(pc, f))?;
    h.set_reg(Reg::A5, v.unwrap_or(0));
    h.set_reg(Reg::T0, u64::from(v.is_some()));
    Ok(())
}

/// Copies a trampoline's ctx array (`words` u64s at `array`) into the
/// read-only trace-ctx region (host writes ignore permissions).
fn publish_trace_ctx(array: u64, words: u64, m: &mut EmuMemory) -> Result<u64, Stop> {
    let mut buf = vec![0u8; (words.min(TRACE_CTX_SIZE / 8) * 8) as usize];
    let bad = |e: emu::MemoryError| Stop::Run(RunError::EngineUnavailable(e.to_string()), None);
    m.read(array, &mut buf).map_err(bad)?;
    m.write(TRACE_CTX_BASE, &buf).map_err(bad)?;
    Ok(TRACE_CTX_BASE)
}

/// The views region: every prog-array view filled from the runtime's prog
/// arrays (entries are tail-call thunks).
fn views_region(vm: &Vm, space: &CodeSpace) -> Vec<u8> {
    let mut data = vec![0u8; space.views_size as usize];
    let compiled = |p: usize| {
        let ok = space.images.get(p).is_some_and(|i| i.is_ok());
        ok.then(|| space.thunk_at[p])
    };
    for &(map, addr) in &space.views {
        let at = (addr - JIT_DATA_BASE - VIEWS_OFFSET) as usize;
        fill_view(&mut data[at..], &vm.machine.maps, map, compiled);
    }
    data
}

/// Translates an emulator error into the runtime's error, naming the BPF
/// program and pc of the faulting RV64 instruction.
fn emu_error(e: EmuError, space: &CodeSpace, mem: &Memory, prog: ProgId) -> (RunError, ProgId) {
    let locate = |pc: u64| {
        space
            .bpf_pc(pc)
            .map_or((0, prog), |(p, bpf_pc)| (bpf_pc, ProgId(p)))
    };
    match e {
        EmuError::Fault {
            pc,
            addr,
            size,
            access,
        } => {
            let (bpf_pc, p) = locate(pc);
            let size = size as usize;
            let in_trace_ctx = addr.wrapping_sub(TRACE_CTX_BASE) < TRACE_CTX_SIZE;
            let read_only = access == emu::Access::Write
                && (in_trace_ctx
                    || mem.regions().iter().any(|r| {
                        !r.writable
                            && addr >= r.base
                            && addr.wrapping_add(size as u64) <= r.base + r.data.len() as u64
                    }));
            let err = if read_only {
                RunError::ReadOnly {
                    pc: bpf_pc,
                    addr,
                    size,
                }
            } else {
                RunError::OutOfBounds {
                    pc: bpf_pc,
                    addr,
                    size,
                    access: if access == emu::Access::Write {
                        Access::Write
                    } else {
                        Access::Read
                    },
                }
            };
            (err, p)
        }
        EmuError::BudgetExhausted { pc } => {
            let (bpf_pc, p) = locate(pc);
            (RunError::BudgetExhausted { pc: bpf_pc }, p)
        }
        other => (RunError::EngineUnavailable(format!("jit: {other}")), prog),
    }
}
