//! [`Executor`] over the runtime's [`Vm`]: one per [`Engine`], so every
//! engine the runtime exposes runs the suites.

use super::case::{Executor, Rejection, Stage};
use super::helpers::{is_unwind, register_ubpf_helpers};
use crate::ebpf::object::Object;
use crate::vm::{Ctx, CtxLayout, Engine, ProgId, Vm};

/// Instruction budget per run: far above what any suite program needs
/// (the longest loops run a few thousand instructions), low enough that
/// a looping program fails fast.
pub const CONFORMANCE_INSN_BUDGET: u64 = 1_000_000;

/// Runs conformance programs on one engine. Every load starts from a fresh
/// [`Vm`] (the suites' programs are independent; ubpf's VM holds one program).
pub struct VmExecutor {
    engine: Engine,
    loaded: Option<(Vm, ProgId)>,
}

impl VmExecutor {
    pub fn new(engine: Engine) -> VmExecutor {
        VmExecutor {
            engine,
            loaded: None,
        }
    }
}

/// A VM with ubpf's test helpers and the conformance budget.
pub fn conformance_vm() -> Vm {
    let mut vm = Vm::new();
    register_ubpf_helpers(&mut vm);
    vm.set_insn_budget(CONFORMANCE_INSN_BUDGET);
    vm
}

impl Executor for VmExecutor {
    fn name(&self) -> String {
        self.engine.name().to_string()
    }

    fn load(&mut self, object: &Object) -> Result<(), Rejection> {
        self.loaded = None;
        let mut vm = conformance_vm();
        let obj = vm
            .load_object(object.clone())
            .map_err(|e| Rejection::new(Stage::Load, e))?;
        let name = object.programs.first().map_or("main", |p| p.name.as_str());
        let prog = vm
            .program(obj, name)
            .map_err(|e| Rejection::new(Stage::Load, e))?;
        self.loaded = Some((vm, prog));
        Ok(())
    }

    fn run(&mut self, mem: &mut [u8]) -> Result<u64, Rejection> {
        let Some((vm, prog)) = self.loaded.as_mut() else {
            return Err(Rejection::new(Stage::Run, "no program loaded"));
        };
        // ubpf and bpf_conformance pass NULL (r1 = 0) when there is no memory.
        let ctx = Ctx {
            input: mem.to_vec(),
            layout: CtxLayout::RawOrNull,
        };
        match vm.run(*prog, &ctx, self.engine) {
            Ok(outcome) => Ok(outcome.ret),
            Err(e) if is_unwind(&e) => Ok(0),
            Err(e) => Err(Rejection::new(Stage::Run, e)),
        }
    }
}

/// One executor per engine of [`Engine::all`].
pub fn all_executors() -> Vec<Box<dyn Executor>> {
    Engine::all()
        .iter()
        .map(|&e| Box::new(VmExecutor::new(e)) as Box<dyn Executor>)
        .collect()
}

/// The executor for engine `name` (the first engine when `None`).
pub fn executor_for(name: Option<&str>) -> Result<Box<dyn Executor>, String> {
    let engine = match name {
        None => *Engine::all().first().ok_or("no engine available")?,
        Some(n) => Engine::from_name(n).ok_or_else(|| {
            let names: Vec<&str> = Engine::all().iter().map(|e| e.name()).collect();
            format!("unknown engine `{n}` (available: {})", names.join(", "))
        })?,
    };
    Ok(Box::new(VmExecutor::new(engine)))
}
