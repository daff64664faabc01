//! The built-in demonstration (`rvbpf` with no arguments): the objects of
//! `demo/` (see `demo/demo.c` for the flow) embedded in the binary, run on
//! the interpreter and on every JIT configuration.

use super::run::attach_all;
use super::CliResult;
use rvbpf::{Ctx, Engine, GlobalValue, ObjectId, Outcome, Vm};
use std::process::ExitCode;

const DEMO_OBJECT: &[u8] = include_bytes!("../../demo/demo.o");
const DEMO_TRACER: &[u8] = include_bytes!("../../demo/demo_trace.o");

/// A 54-byte Ethernet + IPv4 + TCP packet (all header fields zero but the
/// EtherType 0x0800, IHL/version 0x45 and protocol 6).
fn packet() -> Vec<u8> {
    let mut p = vec![0u8; 54];
    p[12] = 0x08;
    p[14] = 0x45;
    p[23] = 6;
    p
}

/// Loads both objects, attaches the tracers and runs `entry` once.
fn run_demo(engine: Engine) -> Result<(Vm, ObjectId, ObjectId, Outcome), String> {
    let mut vm = Vm::new();
    let main = vm
        .load_elf_bytes("demo.o", DEMO_OBJECT)
        .map_err(|e| e.to_string())?;
    let tracer = vm
        .load_elf_bytes("demo_trace.o", DEMO_TRACER)
        .map_err(|e| e.to_string())?;
    attach_all(&mut vm, tracer, main)?;
    let entry = vm.program(main, "entry").map_err(|e| e.to_string())?;
    let out = vm
        .run_located(entry, &Ctx::new(packet()), engine)
        .map_err(|e| e.to_string())?;
    Ok((vm, main, tracer, out))
}

/// What one run did: the trace log, the return value and the counters.
fn report(engine: Engine, vm: &Vm, main: ObjectId, tracer: ObjectId, out: &Outcome) {
    outln!("== engine: {engine}");
    for line in vm.trace_log().lines() {
        outln!("  trace_printk: {line}");
    }
    outln!(
        "  entry returned {} (100 + the stage where the 34th tail call failed)",
        out.ret
    );
    let g = |obj: ObjectId, name: &str| match vm.global(obj, name) {
        Ok(GlobalValue::Int(v)) => v.to_string(),
        Ok(GlobalValue::Bytes(b)) => format!("{b:02x?}"),
        Err(e) => format!("<{e}>"),
    };
    outln!(
        "  stage visits: parse {}, filter {}, count {}   next_stage calls: {}",
        g(main, "visits_parse"),
        g(main, "visits_filter"),
        g(main, "visits_count"),
        g(main, "hops")
    );
    outln!(
        "  tracer: fentry fired {}, fexit fired {}, last stage {}, last return {}",
        g(tracer, "entered"),
        g(tracer, "exited"),
        g(tracer, "last_stage"),
        g(tracer, "last_ret")
    );
    let s = out.stats;
    out!(
        "  stats: {} tail calls (budget 33), {} helper calls, {} tracer runs",
        s.tail_calls,
        s.helper_calls,
        s.tracer_runs
    );
    if s.insns_retired > 0 {
        outln!(
            ", rv64: {} code bytes, {} insns retired, {} loads, {} stores\n",
            s.code_bytes,
            s.insns_retired,
            s.loads,
            s.stores
        );
    } else {
        outln!(
            ", {} BPF insns, {} bpf2bpf calls\n",
            s.insns_executed,
            s.bpf2bpf_calls
        );
    }
}

pub fn run() -> CliResult {
    outln!("rvbpf demonstration: a tail-call pipeline driven from a bpf2bpf subprogram,");
    outln!("traced by fentry/fexit programs attached to that subprogram.\n");
    outln!("  entry -call-> next_stage(0) -tail call-> parse -call-> next_stage(1) -tail call-> filter");
    outln!("  filter -call-> next_stage(2) -tail call-> count -call-> next_stage(2) -tail call-> count ...\n");

    // Full report on the interpreter (the reference) and the default JIT.
    let default_jit = Engine::from_name("jit").ok_or("no JIT engine")?;
    let mut reference = None;
    for engine in [Engine::Interp, default_jit] {
        let (vm, main, tracer, out) = run_demo(engine)?;
        report(engine, &vm, main, tracer, &out);
        reference.get_or_insert(out.ret);
    }

    // Every JIT configuration side by side: same answer, different cost.
    outln!("== every JIT configuration (target x tail-call counter scheme), emulated RV64");
    if rvbpf::engine::NATIVE_AVAILABLE {
        outln!("   then run natively (masked; the emulator's counters are 0 there)");
    }
    outln!(
        "  {:<28} {:>6} {:>11} {:>11} {:>7} {:>7}",
        "engine",
        "return",
        "code bytes",
        "rv64 insns",
        "loads",
        "stores"
    );
    let mut all_agree = true;
    for &engine in Engine::all()
        .iter()
        .filter(|e| !matches!(e, Engine::Interp))
    {
        let (_, _, _, out) = run_demo(engine)?;
        let s = out.stats;
        let agrees = Some(out.ret) == reference;
        all_agree &= agrees;
        outln!(
            "  {:<28} {:>6} {:>11} {:>11} {:>7} {:>7}{}",
            engine.name(),
            out.ret,
            s.code_bytes,
            s.insns_retired,
            s.loads,
            s.stores,
            if agrees {
                ""
            } else {
                "  <-- differs from the interpreter"
            }
        );
    }
    outln!();
    outln!(
        "Try: rvbpf run demo/demo.o --prog entry --engine jit --attach demo/demo_trace.o --json"
    );
    outln!("     rvbpf jit demo/demo.o --prog next_stage --tcc ptr");
    Ok(if all_agree {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
