//! Loading objects: verify every program, create (or reuse) maps, pre-decode
//! the programs, apply static prog-array initialisation.

use super::verify::{self, FuncFacts};
use super::{Error, FuncMeta, LoadedObject, LoadedProg, ObjectId, ProgId, RejectReason, Vm};
use crate::interp::decode::{self, DecodeEnv};
use crate::maps::{MapId, ProgClass};
use rvbpf_ebpf::insn::pseudo;
use rvbpf_ebpf::object::Object;
use std::path::Path;

/// Options of [`Vm::load_object_with`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Maps of the object (by name) that must reuse an existing map instead of
    /// creating one — like libbpf's `bpf_map__reuse_fd` / pinned maps. The
    /// existing map must have the same kind, key size, value size and max entries.
    pub reuse_maps: Vec<(String, MapId)>,
}

impl Vm {
    /// Loads an object: verifies every program (tracing programs too),
    /// creates its maps, applies static prog-array initialisation.
    pub fn load_object(&mut self, obj: Object) -> Result<ObjectId, Error> {
        self.load_object_with(obj, &LoadOptions::default())
    }

    /// Reads and loads a BPF ELF object file.
    pub fn load_elf_file(&mut self, path: impl AsRef<Path>) -> Result<ObjectId, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.load_elf_bytes(&name, &bytes)
    }

    /// Loads a BPF ELF object from memory; `name` appears in error messages.
    pub fn load_elf_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<ObjectId, Error> {
        let obj = rvbpf_ebpf::elf::load_elf(name, bytes)?;
        self.load_object(obj)
    }

    /// [`Vm::load_object`] with options (map reuse).
    pub fn load_object_with(&mut self, obj: Object, opts: &LoadOptions) -> Result<ObjectId, Error> {
        // 1. Verify everything before creating any state.
        let mut facts: Vec<Vec<FuncFacts>> = Vec::with_capacity(obj.programs.len());
        for (i, p) in obj.programs.iter().enumerate() {
            let f = verify::verify(&obj, i, &self.registry).map_err(|reason| Error::Rejected {
                object: obj.name.clone(),
                program: p.name.clone(),
                reason,
            })?;
            facts.push(f);
        }
        // 2. Maps.
        let mut map_ids = Vec::with_capacity(obj.maps.len());
        for def in &obj.maps {
            let id = match opts.reuse_maps.iter().find(|(n, _)| *n == def.name) {
                Some(&(_, id)) => {
                    let m = self.machine.maps.get(id)?;
                    let why = if m.kind != def.kind {
                        Some("different kind")
                    } else if m.key_size != def.key_size || m.max_entries != def.max_entries {
                        Some("different key size or max_entries")
                    } else if m.value_size != def.value_size {
                        Some("different value size")
                    } else {
                        None
                    };
                    if let Some(why) = why {
                        return Err(Error::MapReuse {
                            object: obj.name.clone(),
                            map: def.name.clone(),
                            reused: id.0,
                            why,
                        });
                    }
                    id
                }
                None => {
                    let machine = &mut self.machine;
                    machine
                        .maps
                        .create(&mut machine.mem, def)
                        .map_err(|source| Error::MapCreate {
                            object: obj.name.clone(),
                            map: def.name.clone(),
                            source,
                        })?
                }
            };
            map_ids.push(id);
        }
        // 3. Pre-decode programs.
        let obj_id = ObjectId(self.objects.len() as u32);
        let first_prog = self.progs.len();
        let mut loaded = Vec::with_capacity(obj.programs.len());
        for (p, f) in obj.programs.iter().zip(&facts) {
            let starts: Vec<usize> = f.iter().map(|f| f.start).collect();
            let mut env = DecodeEnv {
                map_ids: &map_ids,
                maps: &self.machine.maps,
                kfunc_names: &obj.kfuncs,
                kfunc_protos: &obj.kfunc_protos,
                registry: &mut self.registry,
                func_starts: &starts,
            };
            let code = decode::decode(&p.insns, &mut env).map_err(|e| Error::Rejected {
                object: obj.name.clone(),
                program: p.name.clone(),
                reason: e.into(),
            })?;
            let funcs = f
                .iter()
                .map(|f| FuncMeta {
                    name: f.name.clone(),
                    start: f.start,
                    stack_size: (f.stack_depth as u64).next_multiple_of(8),
                    arg_count: f.arg_count,
                    fentry: Vec::new(),
                    fexit: Vec::new(),
                })
                .collect();
            loaded.push(LoadedProg {
                object: obj_id,
                name: p.name.clone(),
                kind: p.kind.clone(),
                code,
                funcs,
            });
        }
        // 4. Prog arrays used by these programs take their class (Linux
        //    `bpf_check_tail_call`): a program whose class differs from an
        //    array's owner is rejected.
        for (i, (p, lp)) in obj.programs.iter().zip(&loaded).enumerate() {
            let class = ProgClass::of(&lp.kind);
            for insn in p
                .insns
                .iter()
                .filter(|i| i.is_lddw() && i.src == pseudo::MAP_FD)
            {
                let Some(&map) = map_ids.get(insn.imm as usize) else {
                    continue;
                };
                if let Ok(h) = self.machine.maps.prog_array(map) {
                    h.claim_for(class, (first_prog + i) as u32)
                        .map_err(|e| Error::Rejected {
                            object: obj.name.clone(),
                            program: p.name.clone(),
                            reason: RejectReason::ProgArray(e),
                        })?;
                }
            }
        }
        // 5. Register the programs and the object.
        {
            let mut classes = self
                .machine
                .maps
                .prog_classes
                .write()
                .unwrap_or_else(|p| p.into_inner());
            classes.extend(loaded.iter().map(|lp| ProgClass::of(&lp.kind)));
        }
        self.progs.extend(loaded);
        self.objects.push(LoadedObject {
            programs: (first_prog..self.progs.len())
                .map(|i| ProgId(i as u32))
                .collect(),
            maps: map_ids.clone(),
            object: obj,
        });
        // 6. Static prog-array initialisation (libbpf does it right after load;
        //    a failure leaves the object loaded and reports which slot failed).
        let obj = &self.objects[obj_id.0 as usize].object;
        for (def, &id) in obj.maps.iter().zip(&map_ids) {
            for (slot, name) in &def.prog_init {
                let init_err = || Error::ProgInit {
                    object: obj.name.clone(),
                    map: def.name.clone(),
                    slot: *slot,
                    program: name.clone(),
                };
                let i = obj
                    .programs
                    .iter()
                    .position(|p| p.name == *name)
                    .ok_or_else(init_err)?;
                self.machine
                    .maps
                    .prog_array(id)?
                    .set_prog(*slot, ProgId((first_prog + i) as u32))?;
            }
        }
        Ok(obj_id)
    }
}
