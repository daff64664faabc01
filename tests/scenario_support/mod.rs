//! Shared harness for the `scenarios_*` tests: loads the fixtures of
//! `tests/bpf/` (see its README.md for the scenario table), wraps the `Vm`
//! calls the scenarios need, and lists the engines every scenario runs on.
//!
//! Every expected value in the scenario files comes from the Linux selftest
//! catalogue or from the reasoning written next to it, never from running
//! rvbpf.
#![allow(dead_code)] // each scenario file uses a different subset

use std::path::PathBuf;

use rvbpf::{Ctx, Engine, MapId, ObjectId, Outcome, ProgId, Vm};

/// `pkt_v4` of the Linux selftests, rebuilt by hand: 54 bytes, so
/// `skb->len` = 54 (hence 108 = 2 × 54, 162 = 3 × 54 in the catalogue).
/// The destination MAC (first 4 bytes included) is zero, which
/// tailcall_bpf2bpf_3 relies on.
#[rustfmt::skip]
pub const PKT_V4: [u8; 54] = [
    // Ethernet: dst 00:00:00:00:00:00, src 00:00:00:00:00:00, type 0x0800 (IPv4)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00,
    // IPv4: version 4, IHL 5, tos 0, total length 40, id 0, DF, ttl 64,
    // protocol 6 (TCP), header checksum 0x26ce, 10.0.0.1 -> 10.0.0.2
    0x45, 0x00, 0x00, 0x28,
    0x00, 0x00, 0x40, 0x00,
    0x40, 0x06, 0x26, 0xce,
    0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    // TCP: port 12345 -> 80, seq 0, ack 0, data offset 5, SYN, window 65535,
    // checksum 0, urgent pointer 0
    0x30, 0x39, 0x00, 0x50,
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0xff, 0xff,
    0x00, 0x00, 0x00, 0x00,
];

/// The other selftest input: 128 zero bytes (`skb->len` = 128, first byte 0).
pub const ZERO128: [u8; 128] = [0; 128];

/// Every engine the runtime offers; each scenario runs once per engine, so
/// engines added later (the JIT) run every scenario automatically.
pub fn engines() -> Vec<Engine> {
    Engine::all().to_vec()
}

/// Path of a fixture object, e.g. `fixture("tailcall1")`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bpf")
        .join(format!("{name}.o"))
}

/// One loaded fixture object inside its own `Vm`, run on one engine.
pub struct Scenario {
    pub vm: Vm,
    pub obj: ObjectId,
    pub engine: Engine,
}

impl Scenario {
    /// Loads `tests/bpf/<name>.o` into a fresh `Vm`.
    pub fn load(name: &str, engine: Engine) -> Scenario {
        Scenario::load_into(Vm::new(), name, engine)
    }

    /// Loads `tests/bpf/<name>.o` into a prepared `Vm` (e.g. with kfuncs).
    pub fn load_into(mut vm: Vm, name: &str, engine: Engine) -> Scenario {
        let obj = vm
            .load_elf_file(fixture(name))
            .unwrap_or_else(|e| panic!("loading {name}.o: {e}"));
        Scenario { vm, obj, engine }
    }

    /// Loads another object into the same `Vm` (tracing objects, targets).
    pub fn load_more(&mut self, name: &str) -> ObjectId {
        self.vm
            .load_elf_file(fixture(name))
            .unwrap_or_else(|e| panic!("loading {name}.o: {e}"))
    }

    pub fn prog(&self, name: &str) -> ProgId {
        self.prog_in(self.obj, name)
    }

    pub fn prog_in(&self, obj: ObjectId, name: &str) -> ProgId {
        self.vm
            .program(obj, name)
            .unwrap_or_else(|e| panic!("program {name}: {e}"))
    }

    pub fn map(&self, name: &str) -> MapId {
        self.map_in(self.obj, name)
    }

    pub fn map_in(&self, obj: ObjectId, name: &str) -> MapId {
        self.vm
            .map(obj, name)
            .unwrap_or_else(|e| panic!("map {name}: {e}"))
    }

    /// Puts program `prog` (of the main object) into slot `key` of `jmp_table`.
    pub fn set_slot(&mut self, key: u32, prog: &str) {
        let (m, p) = (self.map("jmp_table"), self.prog(prog));
        self.vm
            .prog_array_set(m, key, p)
            .unwrap_or_else(|e| panic!("slot {key} = {prog}: {e}"));
    }

    /// Fills `jmp_table` slot i with `progs[i]`.
    pub fn fill(&mut self, progs: &[&str]) {
        for (key, prog) in progs.iter().enumerate() {
            self.set_slot(key as u32, prog);
        }
    }

    /// Deletes `key` from `jmp_table`; false if the slot was already empty
    /// (Linux: ENOENT).
    pub fn try_delete(&mut self, key: u32) -> bool {
        let m = self.map("jmp_table");
        self.vm.map_delete(m, &key.to_le_bytes()).is_ok()
    }

    /// Deletes a populated key of `jmp_table`.
    pub fn delete(&mut self, key: u32) {
        let m = self.map("jmp_table");
        self.vm
            .map_delete(m, &key.to_le_bytes())
            .unwrap_or_else(|e| panic!("delete key {key}: {e}"));
    }

    /// Runs `prog` of the main object on a copy of `input`; returns the
    /// low 32 bits of R0 (what Linux's test_run reports as retval).
    pub fn run(&mut self, prog: &str, input: &[u8]) -> u32 {
        let p = self.prog(prog);
        self.run_id(p, input)
    }

    pub fn run_id(&mut self, prog: ProgId, input: &[u8]) -> u32 {
        self.run_outcome_id(prog, input).ret as u32
    }

    /// Like [`Scenario::run`], with the run's statistics (tail calls made).
    pub fn run_outcome(&mut self, prog: &str, input: &[u8]) -> Outcome {
        let p = self.prog(prog);
        self.run_outcome_id(p, input)
    }

    pub fn run_outcome_id(&mut self, prog: ProgId, input: &[u8]) -> Outcome {
        self.vm
            .run_located(prog, &Ctx::new(input), self.engine)
            .unwrap_or_else(|e| panic!("run on {}: {e}", self.engine))
    }

    /// A `.bss`/`.data` global of the main object.
    pub fn global(&self, name: &str) -> u64 {
        self.global_in(self.obj, name)
    }

    pub fn global_in(&self, obj: ObjectId, name: &str) -> u64 {
        let value = self
            .vm
            .global(obj, name)
            .unwrap_or_else(|e| panic!("global {name}: {e}"));
        value
            .as_int()
            .unwrap_or_else(|| panic!("global {name} is not an integer"))
    }

    pub fn set_global(&mut self, name: &str, value: u64) {
        let obj = self.obj;
        self.vm
            .set_global(obj, name, value)
            .unwrap_or_else(|e| panic!("set {name}: {e}"));
    }

    /// Attaches every fentry/fexit program of `tracer` to function `func`
    /// of `target`.
    pub fn attach_all(&mut self, tracer: ObjectId, target: ObjectId, func: &str) {
        let progs = self.vm.programs(tracer).expect("tracer object");
        for (name, p) in progs {
            self.vm
                .attach(p, target, func)
                .unwrap_or_else(|e| panic!("attach {name} to {func}: {e}"));
        }
    }
}
