//! The built-in demonstration (`rvbpf` with no arguments): the objects of
//! `demo/` (see `demo/demo.c` for the flow) embedded in the binary.

use super::run::attach_all;
use super::CliResult;
use rvbpf::{Ctx, Engine, GlobalValue, ObjectId, Vm};
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

pub fn run() -> CliResult {
    println!("rvbpf demonstration: a tail-call pipeline driven from a bpf2bpf subprogram,");
    println!("traced by fentry/fexit programs attached to that subprogram.\n");
    println!("  entry -call-> next_stage(0) -tail call-> parse -call-> next_stage(1) -tail call-> filter");
    println!("  filter -call-> next_stage(2) -tail call-> count -call-> next_stage(2) -tail call-> count ...\n");
    for &engine in Engine::all() {
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

        println!("== engine: {engine}");
        for line in vm.trace_log().lines() {
            println!("  trace_printk: {line}");
        }
        println!(
            "  entry returned {} (100 + the stage where the 34th tail call failed)",
            out.ret
        );
        let g = |obj: ObjectId, name: &str| match vm.global(obj, name) {
            Ok(GlobalValue::Int(v)) => v.to_string(),
            Ok(GlobalValue::Bytes(b)) => format!("{b:02x?}"),
            Err(e) => format!("<{e}>"),
        };
        println!(
            "  stage visits: parse {}, filter {}, count {}   next_stage calls: {}",
            g(main, "visits_parse"),
            g(main, "visits_filter"),
            g(main, "visits_count"),
            g(main, "hops")
        );
        println!(
            "  tracer: fentry fired {}, fexit fired {}, last stage {}, last return {}",
            g(tracer, "entered"),
            g(tracer, "exited"),
            g(tracer, "last_stage"),
            g(tracer, "last_ret")
        );
        let s = out.stats;
        println!(
            "  stats: {} tail calls (budget 33), {} bpf2bpf calls, {} helper calls, {} tracer runs, {} insns\n",
            s.tail_calls, s.bpf2bpf_calls, s.helper_calls, s.tracer_runs, s.insns_executed
        );
    }
    println!(
        "Try: rvbpf run demo/demo.o --prog entry --ctx-hex 00 --attach demo/demo_trace.o --json"
    );
    Ok(ExitCode::SUCCESS)
}
