//! `rvbpf disasm`, `rvbpf verify` and `rvbpf conformance`.

use super::load::read_object;
use super::CliResult;
use rvbpf::Vm;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Prints each program (or the one named) with pcs and resolved targets.
pub fn disasm(path: &Path, prog: Option<&str>) -> CliResult {
    let obj = read_object(path)?;
    let mut shown = 0;
    for p in obj
        .programs
        .iter()
        .filter(|p| prog.is_none_or(|n| n == p.name))
    {
        let text = rvbpf::ebpf::disasm::listing(p, Some(&obj))
            .map_err(|e| format!("{}: program `{}`: {e}", obj.name, p.name))?;
        outln!("program {} (section {}):", p.name, p.section);
        out!("{text}");
        shown += 1;
    }
    if shown == 0 {
        return Err(format!("{}: no program `{}`", obj.name, prog.unwrap_or("")));
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the object into a `Vm` (which verifies every program against the
/// runtime's helpers and kfuncs) and prints the verifier's facts.
pub fn verify(path: &Path) -> CliResult {
    let mut vm = Vm::new();
    let obj = vm
        .load_object(read_object(path)?)
        .map_err(|e| e.to_string())?;
    for (name, prog) in vm.programs(obj).map_err(|e| e.to_string())? {
        let v = vm.verified_program(prog).map_err(|e| e.to_string())?;
        outln!(
            "program {name} (section {}): ok, {} insns",
            v.section(),
            v.insns().len()
        );
        for f in v.functions() {
            outln!(
                "  fn {:<24} pcs {:>4}..{:<4} stack {:>3} B, {} args{}{}",
                f.name,
                f.start,
                f.end,
                f.stack_depth,
                f.arg_count,
                if f.has_tail_call { ", tail call" } else { "" },
                if f.tail_call_reachable && !f.has_tail_call {
                    ", tail-call reachable"
                } else {
                    ""
                },
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `.data` files; prints one line per failure and the summary line.
pub fn conformance(engine: Option<&str>, paths: &[PathBuf]) -> CliResult {
    let exec = rvbpf::conformance::engine::executor_for(engine)?;
    let mut executors = vec![exec];
    if engine.is_none() {
        executors = rvbpf::conformance::engine::all_executors();
    }
    let summary = rvbpf::conformance::run(paths, &mut executors).map_err(|e| e.to_string())?;
    outln!("{summary}");
    Ok(if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
