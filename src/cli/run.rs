//! `rvbpf run`: load an object (plus tracing objects), verify, run, report.

use super::load::read_object;
use super::CliResult;
use clap::Args;
use rvbpf::{Ctx, Engine, GlobalValue, ObjectId, Outcome, ProgId, Stats, Vm};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// ELF object (clang -target bpf) or BPF assembler text.
    pub object: PathBuf,
    /// Program to run (needed when the object has several).
    #[arg(long)]
    pub prog: Option<String>,
    /// Engine: `interp`, `jit` (rv64gc, reg scheme) or `jit-<target>-<tcc>`,
    /// e.g. `jit-rv64g_zba_zbb-ptr`.
    #[arg(long, default_value = "interp")]
    pub engine: String,
    /// Put program PROG into slot KEY of prog array MAP (repeatable).
    #[arg(long = "tail-call", value_name = "MAP:KEY=PROG")]
    pub tail_calls: Vec<String>,
    /// Load OBJECT and attach each of its fentry/F and fexit/F programs to
    /// the function F of the main object (repeatable).
    #[arg(long, value_name = "OBJECT")]
    pub attach: Vec<PathBuf>,
    /// Input bytes in hex (packet for tc/xdp programs, raw ctx otherwise).
    #[arg(long, conflicts_with = "ctx")]
    pub ctx_hex: Option<String>,
    /// Input bytes from a file.
    #[arg(long)]
    pub ctx: Option<PathBuf>,
    /// Run N times, keeping map state; reports the last return value and
    /// statistics summed over all runs.
    #[arg(long, default_value_t = 1)]
    pub repeat: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RunArgs) -> CliResult {
    let engine = Engine::from_name(&args.engine).ok_or_else(|| {
        let names: Vec<_> = Engine::all().iter().map(|e| e.name()).collect();
        format!(
            "unknown engine `{}` (available: {})",
            args.engine,
            names.join(", ")
        )
    })?;
    let input = read_input(args)?;
    let mut vm = Vm::new();
    let main_obj = load(&mut vm, &args.object)?;
    let prog = choose_program(&vm, main_obj, args.prog.as_deref())?;
    for spec in &args.tail_calls {
        set_tail_call(&vm, main_obj, spec)?;
    }
    let mut objects = vec![main_obj];
    for path in &args.attach {
        let tracer_obj = load(&mut vm, path)?;
        attach_all(&mut vm, tracer_obj, main_obj)?;
        objects.push(tracer_obj);
    }

    let ctx = Ctx::new(input);
    let mut total = Stats::default();
    let mut last: Option<Outcome> = None;
    for _ in 0..args.repeat.max(1) {
        let out = vm
            .run_located(prog, &ctx, engine)
            .map_err(|e| e.to_string())?;
        add_stats(&mut total, &out.stats);
        last = Some(out);
    }
    let ret = last.map_or(0, |o| o.ret);
    if args.json {
        outln!(
            "{}",
            json_report(
                !matches!(engine, Engine::Interp),
                &vm,
                &objects,
                ret,
                &total,
                args.repeat.max(1)
            )?
        );
    } else {
        out!("{}", vm.trace_log());
        outln!("return: {ret} ({ret:#x})");
        if total.insns_retired > 0 {
            outln!(
                "rv64: {} code bytes, {} insns retired, {} loads, {} stores",
                total.code_bytes,
                total.insns_retired,
                total.loads,
                total.stores
            );
        }
        outln!(
            "stats: {} insns, {} helper calls, {} kfunc calls, {} bpf2bpf calls, {} tail calls, {} tracer runs",
            total.insns_executed, total.helper_calls, total.kfunc_calls, total.bpf2bpf_calls, total.tail_calls, total.tracer_runs
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read_input(args: &RunArgs) -> Result<Vec<u8>, String> {
    if let Some(hex) = &args.ctx_hex {
        return parse_hex(hex).ok_or_else(|| format!("--ctx-hex: `{hex}` is not hex bytes"));
    }
    if let Some(path) = &args.ctx {
        return std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    }
    Ok(Vec::new())
}

/// Hex digits, optionally separated by whitespace, `0x` prefix allowed.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    let digits: String = s
        .strip_prefix("0x")
        .unwrap_or(s)
        .split_whitespace()
        .collect();
    rvbpf::ebpf::data_file::parse_hex_bytes(&digits).ok()
}

pub fn load(vm: &mut Vm, path: &Path) -> Result<ObjectId, String> {
    let obj = read_object(path)?;
    vm.load_object(obj).map_err(|e| e.to_string())
}

/// The named program, or the only non-tracing program of the object.
pub fn choose_program(vm: &Vm, obj: ObjectId, name: Option<&str>) -> Result<ProgId, String> {
    if let Some(name) = name {
        return vm.program(obj, name).map_err(|e| e.to_string());
    }
    let progs = vm.programs(obj).map_err(|e| e.to_string())?;
    let runnable: Vec<_> = progs
        .iter()
        .filter(|(_, id)| {
            vm.program_info(*id)
                .map(|(_, k)| !k.is_tracing())
                .unwrap_or(false)
        })
        .collect();
    match runnable.as_slice() {
        [(_, id)] => Ok(*id),
        [] => Err("the object has no runnable program".into()),
        many => {
            let names: Vec<_> = many.iter().map(|(n, _)| n.as_str()).collect();
            Err(format!(
                "the object has several programs; choose one with --prog ({})",
                names.join(", ")
            ))
        }
    }
}

/// `MAP:KEY=PROG`.
fn set_tail_call(vm: &Vm, obj: ObjectId, spec: &str) -> Result<(), String> {
    let bad = || format!("--tail-call `{spec}`: expected MAP:KEY=PROG");
    let (map, rest) = spec.split_once(':').ok_or_else(bad)?;
    let (key, prog) = rest.split_once('=').ok_or_else(bad)?;
    let key: u32 = key.trim().parse().map_err(|_| bad())?;
    let map = vm.map(obj, map.trim()).map_err(|e| e.to_string())?;
    let prog = vm.program(obj, prog.trim()).map_err(|e| e.to_string())?;
    vm.prog_array_set(map, key, prog)
        .map_err(|e| format!("--tail-call `{spec}`: {e}"))
}

/// Attaches every fentry/fexit program of `tracer_obj` to `target_obj`.
pub fn attach_all(
    vm: &mut Vm,
    tracer_obj: ObjectId,
    target_obj: ObjectId,
) -> Result<usize, String> {
    let mut n = 0;
    for (name, id) in vm.programs(tracer_obj).map_err(|e| e.to_string())? {
        let (_, kind) = vm.program_info(id).map_err(|e| e.to_string())?;
        let target = match kind {
            rvbpf::ebpf::object::ProgKind::Fentry { target }
            | rvbpf::ebpf::object::ProgKind::Fexit { target } => target.clone(),
            _ => continue,
        };
        vm.attach(id, target_obj, &target)
            .map_err(|e| format!("attaching `{name}`: {e}"))?;
        n += 1;
    }
    if n == 0 {
        return Err("--attach: the object has no fentry/ or fexit/ programs".into());
    }
    Ok(n)
}

pub fn add_stats(total: &mut Stats, s: &Stats) {
    total.insns_executed += s.insns_executed;
    total.helper_calls += s.helper_calls;
    total.kfunc_calls += s.kfunc_calls;
    total.tail_calls += s.tail_calls;
    total.bpf2bpf_calls += s.bpf2bpf_calls;
    total.tracer_runs += s.tracer_runs;
    total.insns_retired += s.insns_retired;
    total.loads += s.loads;
    total.stores += s.stores;
    // The code is the same on every run: not summed.
    total.code_bytes = s.code_bytes;
}

fn json_report(
    jit: bool,
    vm: &Vm,
    objects: &[ObjectId],
    ret: u64,
    s: &Stats,
    runs: u64,
) -> Result<Value, String> {
    let mut globals = Map::new();
    for &obj in objects {
        let name = vm.object(obj).map_err(|e| e.to_string())?.name.clone();
        let mut vars = Map::new();
        for g in vm.globals(obj).map_err(|e| e.to_string())? {
            let v = match g.value {
                GlobalValue::Int(v) => json!(v),
                GlobalValue::Bytes(b) => {
                    json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>())
                }
            };
            vars.insert(g.name, v);
        }
        globals.insert(name, Value::Object(vars));
    }
    let mut stats = json!({
        "runs": runs,
        "insns_executed": s.insns_executed,
        "helper_calls": s.helper_calls,
        "kfunc_calls": s.kfunc_calls,
        "bpf2bpf_calls": s.bpf2bpf_calls,
        "tail_calls": s.tail_calls,
        "tracer_runs": s.tracer_runs,
    });
    if jit {
        // RV64 counters of the emulated JIT engine (exact).
        stats["code_bytes"] = json!(s.code_bytes);
        stats["insns_retired"] = json!(s.insns_retired);
        stats["loads"] = json!(s.loads);
        stats["stores"] = json!(s.stores);
    }
    Ok(json!({ "return": ret, "globals": globals, "stats": stats }))
}
