//! Differential testing support: builds objects from generated [`gen::Spec`]s
//! and runs a program on every engine from the same VM state, comparing
//! everything a run can leave behind against the interpreter (the reference).
#![allow(dead_code)]

pub mod gen;

use gen::{Spec, ARRAY_ENTRIES, ARRAY_VALUE_SIZE, GLOBALS_SIZE, PROG_ARRAY_SLOTS};
use rvbpf::ebpf::asm::assemble_object;
use rvbpf::ebpf::object::{GlobalData, GlobalVar, MapDef, MapKind, Object, ProgKind, Program};
use rvbpf::{Ctx, Engine, GlobalEntry, MapId, ObjectId, ProgId, RunError, Stats, Vm};

/// A raw-ctx program (`ProgKind::Other`: r1 = ctx bytes, r2 = length) named
/// `name` from assembler text; functions are the entry plus every
/// `call local` target.
pub fn raw_program(name: &str, asm: &str) -> Program {
    let obj = assemble_object(name, asm).unwrap_or_else(|e| panic!("{name}: {e}\n{asm}"));
    let mut p = obj.programs.into_iter().next().expect("one program");
    p.name = name.to_string();
    p.kind = ProgKind::Other;
    p.functions[0].name = name.to_string();
    // The entry gets the ctx; subprograms have no BTF prototype, so the
    // verifier infers their arguments from what they read.
    p.functions[0].arg_count = Some(1);
    p
}

fn map_def(name: &str, kind: MapKind, value_size: u32, max_entries: u32) -> MapDef {
    MapDef {
        name: name.into(),
        kind,
        key_size: 4,
        value_size,
        max_entries,
        global: None,
        prog_init: vec![],
    }
}

/// The three maps every object gets, at the indices [`gen`] uses: the prog
/// array, an array map and a `.bss`-like global map of u64 variables.
pub fn standard_maps() -> Vec<MapDef> {
    let vars = (0..GLOBALS_SIZE / 8)
        .map(|i| GlobalVar {
            name: format!("g{i}"),
            offset: 8 * i,
            size: 8,
        })
        .collect();
    vec![
        map_def("jmp_table", MapKind::ProgArray, 4, PROG_ARRAY_SLOTS),
        map_def("arr", MapKind::Array, ARRAY_VALUE_SIZE, ARRAY_ENTRIES),
        MapDef {
            global: Some(GlobalData {
                initial: vec![0; GLOBALS_SIZE as usize],
                read_only: false,
                vars,
            }),
            ..map_def(".bss", MapKind::Array, GLOBALS_SIZE, 1)
        },
    ]
}

/// The object a [`Spec`] describes, and the assembler text of each program
/// (for failure messages).
pub fn build_object(spec: &Spec) -> (Object, Vec<String>) {
    let texts: Vec<String> = (0..spec.programs.len())
        .map(|p| gen::render_program(spec, p))
        .collect();
    let programs = texts
        .iter()
        .enumerate()
        .map(|(p, asm)| raw_program(&gen::func_name(p, 0), asm))
        .collect();
    let obj = Object {
        name: "diff".into(),
        programs,
        maps: standard_maps(),
        kfuncs: vec![],
        kfunc_protos: vec![],
    };
    (obj, texts)
}

/// Loads a spec's object and fills the prog array; returns the object and
/// its programs in order.
pub fn load_spec(vm: &mut Vm, spec: &Spec) -> Result<(ObjectId, Vec<ProgId>), String> {
    let (obj, texts) = build_object(spec);
    let o = vm
        .load_object(obj)
        .map_err(|e| format!("{e}\n{}", texts.join("\n;----\n")))?;
    let progs: Vec<ProgId> = (0..spec.programs.len())
        .map(|p| vm.program(o, &gen::func_name(p, 0)).unwrap())
        .collect();
    let table = vm.map(o, "jmp_table").unwrap();
    for (slot, entry) in spec.slots.iter().enumerate() {
        if let Some(p) = entry {
            let p = progs[*p as usize % progs.len()];
            vm.prog_array_set(table, slot as u32, p).unwrap();
        }
    }
    Ok((o, progs))
}

/// What one engine's run left behind, in comparable form.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// r0, or the error (any budget exhaustion counts as the same).
    pub result: Result<u64, String>,
    /// Successful tail calls (a semantic count: every engine must agree).
    pub tail_calls: Option<u64>,
    /// Helper calls made (likewise).
    pub helper_calls: Option<u64>,
    pub ctx: Vec<u8>,
    pub packet: Vec<u8>,
    /// Values of the array map, key by key.
    pub array: Vec<Option<Vec<u8>>>,
    pub globals: Vec<GlobalEntry>,
}

fn observe(vm: &Vm, o: ObjectId, arr: MapId, r: &Result<rvbpf::Outcome, RunError>) -> Observed {
    let result = match r {
        Ok(out) => Ok(out.ret),
        Err(RunError::BudgetExhausted { .. }) => Err("budget exhausted".into()),
        Err(e) => Err(e.to_string()),
    };
    Observed {
        result,
        tail_calls: r.as_ref().ok().map(|o| o.stats.tail_calls),
        helper_calls: r.as_ref().ok().map(|o| o.stats.helper_calls),
        ctx: vm.ctx_bytes().to_vec(),
        packet: vm.packet().to_vec(),
        array: (0..ARRAY_ENTRIES)
            .map(|k| vm.map_lookup(arr, &k.to_le_bytes()).unwrap())
            .collect(),
        globals: vm.globals(o).unwrap(),
    }
}

/// One engine that disagreed with the interpreter.
#[derive(Debug)]
pub struct Disagreement {
    pub engine: Engine,
    pub interp: Observed,
    pub other: Observed,
    /// Whether only the catch-all snapshot comparison (other memory, trace
    /// log) found the difference.
    pub snapshot_only: bool,
}

/// The result of running one program on every engine.
#[derive(Debug)]
pub struct Comparison {
    /// What the interpreter (the reference) left behind.
    pub interp: Observed,
    /// The interpreter's counters (for coverage statistics).
    pub interp_stats: Option<Stats>,
    /// Every engine that disagreed with the interpreter.
    pub disagreements: Vec<Disagreement>,
    /// JIT engines actually compared (those reporting `EngineUnavailable`
    /// are skipped; generated programs should never be).
    pub compared: usize,
}

/// Runs `prog` on every engine from the VM's current state and compares
/// each with the interpreter, which runs last so the VM is left in its end
/// state (the next run starts from there).
pub fn run_all(vm: &mut Vm, o: ObjectId, prog: ProgId, ctx: &Ctx) -> Comparison {
    let arr = vm.map(o, "arr").unwrap();
    let start = vm.snapshot();
    let mut others = Vec::new();
    for &e in Engine::all().iter().filter(|&&e| e != Engine::Interp) {
        vm.restore(&start);
        let r = vm.run(prog, ctx, e);
        if matches!(r, Err(RunError::EngineUnavailable(_))) {
            continue;
        }
        others.push((e, observe(vm, o, arr, &r), vm.snapshot()));
    }
    vm.restore(&start);
    let r = vm.run(prog, ctx, Engine::Interp);
    let interp = observe(vm, o, arr, &r);
    let interp_stats = r.as_ref().ok().map(|out| out.stats);
    let interp_end = vm.snapshot();
    let compared = others.len();
    let mut bad = Vec::new();
    for (engine, other, end) in others {
        let same = other == interp;
        let snapshot_same = end.same_results(&interp_end);
        if !same || !snapshot_same {
            bad.push(Disagreement {
                engine,
                interp: interp.clone(),
                other,
                snapshot_only: same,
            });
        }
    }
    Comparison {
        interp,
        interp_stats,
        disagreements: bad,
        compared,
    }
}
