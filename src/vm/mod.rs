//! The [`Vm`]: loads objects (verifying every program), owns maps, VM memory
//! and the helper registry, attaches fentry/fexit tracers, and runs programs
//! on any [`Engine`]. Reusable across runs without reallocating (benches).
//!
//! Adding an engine: add an [`Engine`] variant (and list it in
//! [`Engine::all`] when available on the host), dispatch to it in
//! [`Vm::run`]. It runs against the same `Machine` (memory regions at the
//! addresses of [`crate::memory`], maps, host state) and calls the same
//! [`HelperFn`]s through a [`HelperEnv`]; map handles are
//! [`Maps::handle`], global addresses `MAPS_BASE + id * MAP_STRIDE + off`;
//! it must reproduce the interpreter's [`Outcome`] and [`RunError`]s,
//! including the tail-call and trampoline model documented in
//! [`crate::interp`].
//!
//! ```
//! use rvbpf::{Vm, Ctx, Engine};
//! use rvbpf::ebpf::inst::{encode_program, Inst, AluOp, Operand, Reg};
//! use rvbpf::ebpf::object::{Object, Program, FuncInfo, ProgKind};
//!
//! // r0 = 42; exit
//! let insns = encode_program(&[
//!     Inst::Alu { is64: true, op: AluOp::Mov, dst: Reg::R0, src: Operand::Imm(42) },
//!     Inst::Exit,
//! ]);
//! let prog = Program {
//!     name: "answer".into(), section: "raw".into(), kind: ProgKind::Other, insns,
//!     functions: vec![FuncInfo { name: "answer".into(), start: 0, arg_count: Some(1), ..Default::default() }],
//! };
//! let mut vm = Vm::new();
//! let obj = vm.load_object(Object { name: "doc".into(), programs: vec![prog], ..Default::default() }).unwrap();
//! let p = vm.program(obj, "answer").unwrap();
//! for &engine in Engine::all() {
//!     assert_eq!(vm.run(p, &Ctx::empty(), engine).unwrap().ret, 42);
//! }
//! ```

// `Error` carries the verifier's full diagnosis inline so callers can match
// on it (`Error::Rejected { reason: RejectReason::Verifier(..), .. }`); it is
// only built on the cold load/lookup paths, so its size does not matter.
#![allow(clippy::result_large_err)]

mod attach;
mod ctx;
mod error;
mod globals;
mod load;
mod snapshot;
mod verify;

pub use ctx::{
    Ctx, CtxLayout, SK_BUFF_DATA, SK_BUFF_DATA_END, SK_BUFF_LEN, SK_BUFF_SIZE, XDP_MD_SIZE,
};
pub use error::{Error, RejectReason, RunError};
pub use globals::{GlobalEntry, GlobalValue};
pub use load::LoadOptions;
pub use snapshot::Snapshot;
pub(crate) use verify::verified_program;

use crate::engine::{JitCache, JitConfig};
use crate::helpers::{HelperEnv, HelperError, HelperFn, HostState, Registry};
use crate::interp::decode::Op;
use crate::maps::{MapId, Maps, ProgArrayHandle, BPF_ANY};
use crate::memory::{Memory, REGION_CTX, REGION_PACKET};
use rvbpf_ebpf::object::{MapKind, Object, ProgKind};
use rvbpf_jit::{Sandbox, TccScheme};
use std::fmt;
use std::sync::Arc;

/// A loaded object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub u32);
/// A loaded program (global across objects; prog-array slots hold these).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProgId(pub u32);
/// One `attach` call (undo with [`Vm::detach`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachId(pub u32);

/// A (key, value) pair of a map, as raw bytes.
pub type MapEntry = (Vec<u8>, Vec<u8>);

/// Successful tail calls allowed per top-level run (Linux `MAX_TAIL_CALL_CNT`).
pub const MAX_TAIL_CALLS: u32 = 33;
/// Default instruction budget of one run.
pub const DEFAULT_INSN_BUDGET: u64 = 10_000_000;

/// An execution engine. Every engine gives the same [`Outcome`] for the
/// same program and input; the interpreter defines the semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// The reference interpreter.
    Interp,
    /// The RV64 JIT, its code run in the rv64 emulator ([`crate::engine`]).
    Jit(JitConfig),
    /// The RV64 JIT, its code called directly: riscv64 Linux only
    /// ([`crate::engine::NATIVE_AVAILABLE`]; elsewhere a run fails with
    /// [`RunError::EngineUnavailable`]). Always compiled with
    /// [`Sandbox::Masked`] whatever the configuration says
    /// (`src/engine/native/mod.rs`).
    Native(JitConfig),
}

const fn native(target: rvbpf_rv64::Target, tcc: TccScheme) -> Engine {
    Engine::Native(JitConfig {
        target,
        tcc,
        sandbox: Sandbox::Masked,
        tier: rvbpf_jit::Tier::Optimizing,
    })
}

/// The native engines [`Engine::all`] lists on riscv64 Linux: rv64gc with
/// every tail-call scheme and rv64g (every RV64GC CPU runs both), then the
/// same with Zba/Zbb, listed only when the CPU runs them (probed once, see
/// `engine::native_supports`).
const NATIVE_ENGINES: [Engine; 8] = {
    use crate::engine::TARGETS as T;
    use TccScheme::{Ptr, Reg, Stack};
    [
        native(T[1], Reg),
        native(T[1], Stack),
        native(T[1], Ptr),
        native(T[0], Reg),
        native(T[3], Reg),
        native(T[3], Stack),
        native(T[3], Ptr),
        native(T[2], Reg),
    ]
};

/// Names of [`NATIVE_ENGINES`], in the same order.
const NATIVE_NAMES: [&str; 8] = [
    "native-rv64gc-reg",
    "native-rv64gc-stack",
    "native-rv64gc-ptr",
    "native-rv64g-reg",
    "native-rv64gc_zba_zbb-reg",
    "native-rv64gc_zba_zbb-stack",
    "native-rv64gc_zba_zbb-ptr",
    "native-rv64g_zba_zbb-reg",
];

/// [`ALL_ENGINES`] then the [`NATIVE_ENGINES`] this CPU runs: every engine
/// on riscv64 Linux.
#[cfg(all(target_arch = "riscv64", target_os = "linux"))]
fn host_engines() -> &'static [Engine] {
    static HOST_ENGINES: std::sync::OnceLock<Vec<Engine>> = std::sync::OnceLock::new();
    HOST_ENGINES.get_or_init(|| {
        let native = NATIVE_ENGINES.iter().copied().filter(|e| match e {
            Engine::Native(cfg) => crate::engine::native_supports(cfg.target),
            _ => false,
        });
        ALL_ENGINES.iter().copied().chain(native).collect()
    })
}

const fn jit(target: rvbpf_rv64::Target, tcc: TccScheme) -> Engine {
    Engine::Jit(JitConfig {
        target,
        tcc,
        sandbox: Sandbox::None,
        tier: rvbpf_jit::Tier::Optimizing,
    })
}

/// Every engine, in [`Engine::all`] order.
const ALL_ENGINES: [Engine; 15] = {
    use crate::engine::TARGETS as T;
    use TccScheme::{Ptr, Reg, Stack};
    [
        Engine::Interp,
        jit(T[0], Reg),
        jit(T[0], Stack),
        jit(T[0], Ptr),
        jit(T[1], Reg),
        jit(T[1], Stack),
        jit(T[1], Ptr),
        jit(T[2], Reg),
        jit(T[2], Stack),
        jit(T[2], Ptr),
        jit(T[3], Reg),
        jit(T[3], Stack),
        jit(T[3], Ptr),
        Engine::Jit(JitConfig {
            target: T[1],
            tcc: Reg,
            sandbox: Sandbox::Masked,
            tier: rvbpf_jit::Tier::Optimizing,
        }),
        Engine::Jit(JitConfig {
            target: T[1],
            tcc: Reg,
            sandbox: Sandbox::None,
            tier: rvbpf_jit::Tier::Baseline,
        }),
    ]
};

/// Names of [`ALL_ENGINES`], in the same order.
const ENGINE_NAMES: [&str; 15] = [
    "interp",
    "jit-rv64g-reg",
    "jit-rv64g-stack",
    "jit-rv64g-ptr",
    "jit-rv64gc-reg",
    "jit-rv64gc-stack",
    "jit-rv64gc-ptr",
    "jit-rv64g_zba_zbb-reg",
    "jit-rv64g_zba_zbb-stack",
    "jit-rv64g_zba_zbb-ptr",
    "jit-rv64gc_zba_zbb-reg",
    "jit-rv64gc_zba_zbb-stack",
    "jit-rv64gc_zba_zbb-ptr",
    "jit-rv64gc-reg-masked",
    "jit-baseline",
];

impl Engine {
    /// Every engine available on this host (iterate it in run tests): the
    /// interpreter, then the JIT for each target (rv64g, rv64gc,
    /// rv64g_zba_zbb, rv64gc_zba_zbb) x each tail-call scheme (reg, stack,
    /// ptr), then `jit-rv64gc-reg-masked`: rv64gc, reg, with
    /// [`Sandbox::Masked`] address masking (its results must equal the
    /// others'), then `jit-baseline`: rv64gc, reg, compiled by the baseline
    /// tier (`rvbpf_jit::compile_baseline`, falling back to the optimizing
    /// JIT for what it does not support); on riscv64 Linux then the native
    /// engines (`native-rv64gc-{reg,stack,ptr}`, `native-rv64g-reg`, and
    /// the same with `_zba_zbb` when the CPU has Zba and Zbb).
    pub fn all() -> &'static [Engine] {
        #[cfg(all(target_arch = "riscv64", target_os = "linux"))]
        return host_engines();
        #[cfg(not(all(target_arch = "riscv64", target_os = "linux")))]
        &ALL_ENGINES
    }
    /// Short name (CLI and test output): `interp`, `jit-<target>-<scheme>`,
    /// `jit-<target>-<scheme>-masked` for masked code (`jit-custom` for a
    /// configuration outside [`Engine::all`]).
    /// `native-<target>-<scheme>` for the native engine (`native-custom`).
    pub fn name(self) -> &'static str {
        if let Engine::Native(_) = self {
            return NATIVE_ENGINES
                .iter()
                .position(|&e| e == self)
                .map_or("native-custom", |i| NATIVE_NAMES[i]);
        }
        ALL_ENGINES
            .iter()
            .position(|&e| e == self)
            .map_or("jit-custom", |i| ENGINE_NAMES[i])
    }
    /// Parses a [`Engine::name`] (native names on every host; they run on
    /// riscv64 Linux only). Plain `native` is `native-rv64gc-reg`; plain
    /// `jit` is the default JIT configuration, run natively on riscv64
    /// Linux and in the emulator elsewhere.
    pub fn from_name(name: &str) -> Option<Engine> {
        match name {
            "jit" if crate::engine::NATIVE_AVAILABLE => Some(NATIVE_ENGINES[0]),
            "jit" => Some(Engine::Jit(JitConfig::default())),
            "native" => Some(NATIVE_ENGINES[0]),
            _ => ALL_ENGINES
                .iter()
                .chain(&NATIVE_ENGINES)
                .copied()
                .find(|e| e.name() == name),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Counters of one run (tracers included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// BPF instructions executed (interpreter only: 0 on the JIT, whose
    /// budget and count are in RV64 instructions, see `insns_retired`).
    pub insns_executed: u64,
    pub helper_calls: u64,
    pub kfunc_calls: u64,
    /// Successful tail calls (all budgets together).
    pub tail_calls: u64,
    /// bpf2bpf calls, traced or not (interpreter only: 0 on the JIT).
    pub bpf2bpf_calls: u64,
    /// fentry/fexit program invocations.
    pub tracer_runs: u64,
    /// JIT only (0 on the interpreter): bytes of linked code in the run's
    /// code region (all loaded programs plus tail-call thunks).
    pub code_bytes: u64,
    /// JIT only: RV64 instructions retired.
    pub insns_retired: u64,
    /// JIT only: RV64 data loads.
    pub loads: u64,
    /// JIT only: RV64 data stores.
    pub stores: u64,
}

/// Result of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// r0 at the final exit (all 64 bits).
    pub ret: u64,
    pub stats: Stats,
}

/// One function of a loaded program, with its tracers.
#[derive(Clone, Debug)]
pub(crate) struct FuncMeta {
    pub name: String,
    pub start: usize,
    /// Bytes of BPF stack the function's frame gets (multiple of 8).
    pub stack_size: u64,
    /// Arguments a trampoline passes to tracers.
    pub arg_count: u8,
    pub fentry: Vec<ProgId>,
    pub fexit: Vec<ProgId>,
}

impl FuncMeta {
    #[inline]
    pub fn traced(&self) -> bool {
        !self.fentry.is_empty() || !self.fexit.is_empty()
    }
}

/// A verified, pre-decoded program.
#[derive(Clone, Debug)]
pub(crate) struct LoadedProg {
    pub object: ObjectId,
    pub name: String,
    pub kind: ProgKind,
    pub code: Vec<Op>,
    pub funcs: Vec<FuncMeta>,
}

#[derive(Clone, Debug)]
pub(crate) struct LoadedObject {
    pub object: Object,
    pub programs: Vec<ProgId>,
    pub maps: Vec<MapId>,
}

#[derive(Clone, Debug)]
struct Attachment {
    tracer: ProgId,
    sites: Vec<(ProgId, usize)>,
}

/// The mutable state every engine runs against.
#[derive(Clone, Debug, Default)]
pub(crate) struct Machine {
    pub mem: Memory,
    pub maps: Maps,
    pub host: HostState,
}

/// The runtime.
#[derive(Debug)]
pub struct Vm {
    pub(crate) machine: Machine,
    pub(crate) registry: Registry,
    pub(crate) progs: Vec<LoadedProg>,
    objects: Vec<LoadedObject>,
    attachments: Vec<Option<Attachment>>,
    insn_budget: u64,
    /// Interpreter frame stack, kept to avoid reallocating per run.
    pub(crate) frames: Vec<crate::interp::Frame>,
    last_fault: Option<ProgId>,
    /// Compiled code per JIT configuration (built lazily).
    pub(crate) jit: JitCache,
}

impl Default for Vm {
    fn default() -> Self {
        Self::new()
    }
}

impl Vm {
    /// A VM with the built-in helpers and no objects.
    pub fn new() -> Vm {
        Vm {
            machine: Machine::default(),
            registry: Registry::with_builtins(),
            progs: Vec::new(),
            objects: Vec::new(),
            attachments: Vec::new(),
            insn_budget: DEFAULT_INSN_BUDGET,
            frames: Vec::new(),
            last_fault: None,
            jit: JitCache::default(),
        }
    }

    /// Instructions one run may execute before failing with `BudgetExhausted`:
    /// BPF instructions on the interpreter, RV64 instructions on the JIT.
    pub fn set_insn_budget(&mut self, n: u64) {
        self.insn_budget = n;
    }
    pub fn insn_budget(&self) -> u64 {
        self.insn_budget
    }
    /// Seed of the per-run deterministic PRNG (`bpf_get_prandom_u32`).
    pub fn set_prandom_seed(&mut self, seed: u64) {
        self.machine.host.seed = seed;
    }

    /// Registers (or replaces) helper number `id` (0..=0xffff, not 12). Must
    /// happen before loading objects that call it.
    pub fn register_helper<F>(&mut self, id: i32, f: F) -> bool
    where
        F: Fn(&mut HelperEnv<'_>, [u64; 5]) -> Result<u64, HelperError> + Send + Sync + 'static,
    {
        self.registry.register_helper(id, Arc::new(f))
    }

    /// Registers (or replaces) a kfunc, callable from objects declaring
    /// `extern ... name(...) __ksym`. Arguments arrive as raw registers (see
    /// [`crate::helpers`] for the 32-bit argument convention).
    pub fn register_kfunc<F>(&mut self, name: &str, f: F)
    where
        F: Fn(&mut HelperEnv<'_>, [u64; 5]) -> Result<u64, HelperError> + Send + Sync + 'static,
    {
        let f: HelperFn = Arc::new(f);
        self.registry.register_kfunc(name, f);
    }

    fn obj(&self, id: ObjectId) -> Result<&LoadedObject, Error> {
        self.objects
            .get(id.0 as usize)
            .ok_or(Error::NoSuchObject(id.0))
    }

    pub(crate) fn prog(&self, id: ProgId) -> Result<&LoadedProg, Error> {
        self.progs
            .get(id.0 as usize)
            .ok_or(Error::NoSuchProgramId(id.0))
    }

    /// The object as loaded (name, programs, map definitions).
    pub fn object(&self, id: ObjectId) -> Result<&Object, Error> {
        Ok(&self.obj(id)?.object)
    }

    /// Program `name` of object `obj`.
    pub fn program(&self, obj: ObjectId, name: &str) -> Result<ProgId, Error> {
        let o = self.obj(obj)?;
        o.programs
            .iter()
            .copied()
            .find(|&p| self.progs[p.0 as usize].name == name)
            .ok_or_else(|| Error::NoSuchProgram {
                object: o.object.name.clone(),
                name: name.to_string(),
            })
    }

    /// All programs of an object, in object order.
    pub fn programs(&self, obj: ObjectId) -> Result<Vec<(String, ProgId)>, Error> {
        Ok(self
            .obj(obj)?
            .programs
            .iter()
            .map(|&p| (self.progs[p.0 as usize].name.clone(), p))
            .collect())
    }

    /// Name and kind of a program.
    pub fn program_info(&self, prog: ProgId) -> Result<(&str, &ProgKind), Error> {
        let p = self.prog(prog)?;
        Ok((&p.name, &p.kind))
    }

    /// Map `name` of object `obj` (global-data maps are named after their section).
    pub fn map(&self, obj: ObjectId, name: &str) -> Result<MapId, Error> {
        let o = self.obj(obj)?;
        o.object
            .maps
            .iter()
            .position(|m| m.name == name)
            .map(|i| o.maps[i])
            .ok_or_else(|| Error::NoSuchMap {
                object: o.object.name.clone(),
                name: name.to_string(),
            })
    }

    /// Puts `prog` into slot `key` of prog array `map`.
    pub fn prog_array_set(&self, map: MapId, key: u32, prog: ProgId) -> Result<(), Error> {
        self.prog(prog)?;
        let h = self.prog_array_handle(map)?;
        Ok(h.set_prog(key, prog)?)
    }

    /// A thread-safe handle on a prog array's slots (see [`crate::maps::prog_array`]).
    pub fn prog_array_handle(&self, map: MapId) -> Result<ProgArrayHandle, Error> {
        self.machine.maps.prog_array(map).map_err(|e| match e {
            crate::maps::MapError::Unsupported { .. } => Error::NotAProgArray(map.0),
            e => Error::Map(e),
        })
    }

    /// `bpf_map_update_elem(map, key, value, BPF_ANY)` from the host. For a
    /// prog array, `value` is a [`ProgId`] as u32 little-endian.
    pub fn map_update(&mut self, map: MapId, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.map_update_flags(map, key, value, BPF_ANY)
    }

    /// Like [`Vm::map_update`] with explicit `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST` flags.
    pub fn map_update_flags(
        &mut self,
        map: MapId,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), Error> {
        if self.machine.maps.prog_array(map).is_ok() && value.len() == 4 {
            self.prog(ProgId(u32::from_le_bytes([
                value[0], value[1], value[2], value[3],
            ])))?;
        }
        let Machine { mem, maps, .. } = &mut self.machine;
        Ok(maps.update(mem, map, key, value, flags)?)
    }

    /// A copy of the value under `key` (`None` if absent).
    pub fn map_lookup(&self, map: MapId, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .machine
            .maps
            .lookup_bytes(&self.machine.mem, map, key)?)
    }

    /// Every (key, value) pair of a map, in key order (for dumps such as `--json`).
    pub fn map_entries(&self, map: MapId) -> Result<Vec<MapEntry>, Error> {
        let maps = &self.machine.maps;
        let mut out = Vec::new();
        for key in maps.keys(map)? {
            if let Some(v) = maps.lookup_bytes(&self.machine.mem, map, &key)? {
                out.push((key, v));
            }
        }
        Ok(out)
    }

    /// Name, kind, key size, value size and max entries of a map.
    pub fn map_info(&self, map: MapId) -> Result<(&str, MapKind, u32, u32, u32), Error> {
        let m = self.machine.maps.get(map)?;
        Ok((&m.name, m.kind, m.key_size, m.value_size, m.max_entries))
    }

    /// Deletes `key` (`MapError::NotFound` if absent, like ENOENT).
    pub fn map_delete(&mut self, map: MapId, key: &[u8]) -> Result<(), Error> {
        Ok(self.machine.maps.delete(map, key)?)
    }

    /// Text written by `bpf_trace_printk` since the last [`Vm::clear_trace_log`].
    pub fn trace_log(&self) -> &str {
        &self.machine.host.trace_log
    }
    pub fn clear_trace_log(&mut self) {
        self.machine.host.trace_log.clear();
    }

    /// The packet bytes after the last run (tc/xdp programs may rewrite them).
    pub fn packet(&self) -> &[u8] {
        &self.machine.mem.region(REGION_PACKET).data
    }
    /// The ctx bytes after the last run.
    pub fn ctx_bytes(&self) -> &[u8] {
        &self.machine.mem.region(REGION_CTX).data
    }
    /// VM memory (for engines and inspection).
    pub fn memory(&self) -> &Memory {
        &self.machine.mem
    }

    /// Runs `prog` on `ctx` with `engine`. The ctx is built from the input
    /// according to the program kind (see [`Ctx`]); r1 = ctx address, and
    /// for raw ctxs r2 = input length.
    pub fn run(&mut self, prog: ProgId, ctx: &Ctx, engine: Engine) -> Result<Outcome, RunError> {
        let kind = &self
            .progs
            .get(prog.0 as usize)
            .ok_or(RunError::NoSuchProgram(prog.0))?
            .kind;
        let args = ctx::install(&mut self.machine.mem, kind, ctx)?;
        self.machine.host.begin_run();
        self.last_fault = None;
        let r = match engine {
            Engine::Interp => crate::interp::run(self, prog, args),
            Engine::Jit(cfg) => crate::engine::run::jit_run(self, prog, args, cfg),
            Engine::Native(cfg) => crate::engine::native_run(self, prog, args, cfg),
        };
        r.map_err(|(e, at)| {
            self.last_fault = Some(at);
            e
        })
    }

    /// The verifier's full output for loaded program `prog` (per-function
    /// facts; the JIT's input), checked against this VM's helpers and kfuncs
    /// with the same entry convention the VM loaded it with.
    pub fn verified_program(
        &self,
        prog: ProgId,
    ) -> Result<rvbpf_ebpf::verifier::VerifiedProgram, Error> {
        let p = self.prog(prog)?;
        let (obj, index) = self.program_source(prog.0 as usize);
        verified_program(obj, index, &self.registry).map_err(|reason| Error::Rejected {
            object: obj.name.clone(),
            program: p.name.clone(),
            reason,
        })
    }

    /// The object and index inside it of loaded program `p` (JIT compiles
    /// from the object).
    pub(crate) fn program_source(&self, p: usize) -> (&Object, usize) {
        let o = &self.objects[self.progs[p].object.0 as usize];
        let index = o.programs.iter().position(|q| q.0 as usize == p);
        (&o.object, index.unwrap_or(0))
    }

    /// The VM map ids of program `p`'s object, in object order.
    pub(crate) fn program_maps(&self, p: usize) -> &[MapId] {
        &self.objects[self.progs[p].object.0 as usize].maps
    }

    /// The registry id of kfunc `i` of program `p`'s object.
    pub(crate) fn program_kfunc_id(&self, p: usize, i: u32) -> Option<u32> {
        let (obj, _) = self.program_source(p);
        let name = obj.kfuncs.get(i as usize)?;
        (0..)
            .take_while(|&k| self.registry.kfunc_name(k) != "?")
            .find(|&k| self.registry.kfunc_name(k) == name)
    }

    /// The program that was executing when the last run failed (a tail-called
    /// or tracing program may differ from the one `run` started).
    pub fn last_fault_program(&self) -> Option<ProgId> {
        self.last_fault
    }

    /// Like [`Vm::run`], but the error names the object and the program that
    /// was executing when it failed.
    pub fn run_located(
        &mut self,
        prog: ProgId,
        ctx: &Ctx,
        engine: Engine,
    ) -> Result<Outcome, Error> {
        self.run(prog, ctx, engine).map_err(|source| {
            let at = self.last_fault.unwrap_or(prog);
            let (object, program) = match self.progs.get(at.0 as usize) {
                Some(p) => (
                    self.objects[p.object.0 as usize].object.name.clone(),
                    p.name.clone(),
                ),
                None => (String::from("?"), format!("#{}", prog.0)),
            };
            Error::Run {
                object,
                program,
                source,
            }
        })
    }
}
