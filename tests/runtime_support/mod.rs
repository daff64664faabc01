//! Shared builders for the runtime/interpreter tests: programs from assembler
//! text, map definitions, and a runner that checks every engine agrees.
#![allow(dead_code)]

use rvbpf::ebpf::asm::assemble_object;
use rvbpf::ebpf::object::{GlobalData, GlobalVar, MapDef, MapKind, Object, ProgKind, Program};
use rvbpf::{Ctx, Engine, Outcome, ProgId, RunError, Vm};

/// A program named `name` of kind `kind` from assembler text. Functions are
/// the entry plus every `call local` label; `args` sets argument counts by
/// function name.
pub fn prog(name: &str, kind: ProgKind, asm: &str, args: &[(&str, u8)]) -> Program {
    let obj = assemble_object(name, asm).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut p = obj.programs.into_iter().next().expect("one program");
    p.name = name.to_string();
    p.kind = kind;
    p.functions[0].name = name.to_string();
    for f in &mut p.functions {
        f.arg_count = args
            .iter()
            .find(|(n, _)| *n == f.name)
            .map(|&(_, c)| c)
            .or(Some(1));
    }
    p
}

/// A tc program (ctx = `__sk_buff`).
pub fn tc(name: &str, asm: &str) -> Program {
    prog(name, ProgKind::SchedCls, asm, &[])
}

/// A raw program (ctx = the input bytes, r2 = length).
pub fn raw(name: &str, asm: &str) -> Program {
    prog(name, ProgKind::Other, asm, &[])
}

pub fn object(name: &str, programs: Vec<Program>, maps: Vec<MapDef>) -> Object {
    Object {
        name: name.into(),
        programs,
        maps,
        kfuncs: vec![],
        kfunc_protos: vec![],
    }
}

pub fn map(name: &str, kind: MapKind, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef {
        name: name.into(),
        kind,
        key_size,
        value_size,
        max_entries,
        global: None,
        prog_init: vec![],
    }
}

pub fn prog_array(name: &str, max_entries: u32) -> MapDef {
    map(name, MapKind::ProgArray, 4, 4, max_entries)
}

/// A `.bss`-like global-data map whose variables are consecutive u64s.
pub fn bss(name: &str, vars: &[&str]) -> MapDef {
    global_section(name, vec![0; 8 * vars.len()], vars, false)
}

/// A global-data map of u64 variables with the given initial bytes.
pub fn global_section(name: &str, initial: Vec<u8>, vars: &[&str], read_only: bool) -> MapDef {
    let vars = vars
        .iter()
        .enumerate()
        .map(|(i, v)| GlobalVar {
            name: v.to_string(),
            offset: 8 * i as u32,
            size: 8,
        })
        .collect();
    MapDef {
        name: name.into(),
        kind: MapKind::Array,
        key_size: 4,
        value_size: initial.len() as u32,
        max_entries: 1,
        global: Some(GlobalData {
            initial,
            read_only,
            vars,
        }),
        prog_init: vec![],
    }
}

/// Runs on every engine, asserts they agree, returns the interpreter's outcome.
pub fn run(vm: &mut Vm, p: ProgId, ctx: &Ctx) -> Outcome {
    try_run(vm, p, ctx).unwrap_or_else(|e| panic!("run failed: {e}"))
}

/// Like [`run`] but returns the error (which every engine must agree on too).
///
/// Every engine starts from the same VM state (a [`rvbpf::vm::Snapshot`])
/// and must leave the same memory, maps and trace log as the interpreter,
/// which runs last: afterwards the VM holds its end state, so callers see
/// the effects of exactly one run. Engine-specific differences
/// that are not semantics are tolerated: the budget is counted in each
/// engine's own instructions (any `BudgetExhausted` agrees with any other).
/// An engine that cannot run a program (`EngineUnavailable`) fails the test
/// like any other disagreement.
pub fn try_run(vm: &mut Vm, p: ProgId, ctx: &Ctx) -> Result<Outcome, RunError> {
    let start = vm.snapshot();
    let mut others = Vec::new();
    for &e in Engine::all().iter().filter(|&&e| e != Engine::Interp) {
        vm.restore(&start);
        let r = vm.run(p, ctx, e);
        let end = r.is_ok().then(|| vm.snapshot());
        others.push((e, r, end));
    }
    // The interpreter runs last, so the VM keeps its end state (and its
    // `last_fault_program`).
    vm.restore(&start);
    let first = vm.run(p, ctx, Engine::Interp);
    let end = vm.snapshot();
    for (e, r, their_end) in others {
        match (&r, &first) {
            (Err(RunError::BudgetExhausted { .. }), Err(RunError::BudgetExhausted { .. })) => {}
            _ => {
                assert_eq!(
                    r.as_ref().map(|o| o.ret),
                    first.as_ref().map(|o| o.ret),
                    "engine {e} disagrees"
                );
                if let Some(their_end) = their_end {
                    assert!(
                        their_end.same_results(&end),
                        "engine {e} leaves different memory, maps or trace log"
                    );
                }
            }
        }
    }
    first
}

/// Loads a single raw program from assembler text and returns its id.
pub fn load_raw(vm: &mut Vm, asm: &str) -> ProgId {
    let o = vm
        .load_object(object("t", vec![raw("t", asm)], vec![]))
        .unwrap_or_else(|e| panic!("{e}"));
    vm.program(o, "t").unwrap()
}

/// Runs a raw program with no input; returns r0.
pub fn eval(asm: &str) -> u64 {
    let mut vm = Vm::new();
    let p = load_raw(&mut vm, asm);
    run(&mut vm, p, &Ctx::empty()).ret
}
