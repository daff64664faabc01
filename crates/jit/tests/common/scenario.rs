//! Runs a clang-built object's programs in the emulator: every program of
//! the object compiled into its own image, maps as RW regions (global-data
//! maps initialised from their section bytes), prog arrays as the JIT's
//! prog-array view filled from static initialisers and explicit slots.

use super::emu::{map_addr, world, World};
use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::object::{MapKind, Object};
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_jit::{compile, JitOptions};

pub struct Scenario {
    pub obj: Object,
    pub world: World,
}

/// `slots`: (map name, slot, program name) beyond the static initialisers.
pub fn load(file: &str, opts: &JitOptions, slots: &[(&str, u32, &str)]) -> Scenario {
    let path = format!("{}/../../tests/bpf/{file}", env!("CARGO_MANIFEST_DIR"));
    let obj = load_elf(file, &std::fs::read(&path).unwrap()).unwrap();
    let env = VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| true,
        entry_args: 1,
    };
    let images: Vec<_> = (0..obj.programs.len())
        .map(|i| {
            let prog = verify(&obj, i, &env).unwrap_or_else(|e| panic!("{file}: {e}"));
            compile(&prog, opts).unwrap_or_else(|e| panic!("{file}: {e}"))
        })
        .collect();
    let prog_index = |name: &str| {
        obj.programs
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("{file}: no program {name}"))
    };
    let mut fills = Vec::new();
    for (m, def) in obj.maps.iter().enumerate() {
        for (slot, name) in &def.prog_init {
            fills.push((m as u32, *slot, prog_index(name)));
        }
    }
    for &(map, slot, prog) in slots {
        let (m, _) = obj.map(map).unwrap();
        fills.push((m as u32, slot, prog_index(prog)));
    }
    let refs: Vec<_> = images.iter().collect();
    let mut world = world(&refs, obj.maps.len() as u32, &fills);
    for (m, def) in obj.maps.iter().enumerate() {
        if def.kind == MapKind::ProgArray {
            let view = map_addr(m as u32);
            world.mem.write_u32(view, def.max_entries).unwrap();
        }
        if let Some(g) = &def.global {
            world.mem.write(map_addr(m as u32), &g.initial).unwrap();
        }
    }
    Scenario { obj, world }
}

impl Scenario {
    /// Runs program `name`; no helper other than the tail call is expected.
    pub fn run(&mut self, name: &str) -> u64 {
        let k = self
            .obj
            .programs
            .iter()
            .position(|p| p.name == name)
            .unwrap();
        self.world
            .run(k, &mut |n, _, _| panic!("unexpected helper {n}"))
            .unwrap()
    }

    /// The 32-bit global variable `name`.
    pub fn global(&self, name: &str) -> u32 {
        for (m, def) in self.obj.maps.iter().enumerate() {
            if let Some(v) = def
                .global
                .as_ref()
                .and_then(|g| g.vars.iter().find(|v| v.name == name))
            {
                return self
                    .world
                    .mem
                    .read_u32(map_addr(m as u32) + v.offset as u64)
                    .unwrap();
            }
        }
        panic!("no global {name}")
    }

    /// Empties slot `slot` of prog array `map`.
    pub fn delete(&mut self, map: &str, slot: u32) {
        let (m, _) = self.obj.map(map).unwrap();
        self.world
            .mem
            .write_u64(map_addr(m as u32) + 8 + 8 * slot as u64, 0)
            .unwrap();
    }
}
