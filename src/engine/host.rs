//! The runtime side of a JIT run: lending the runtime's region storage to
//! the emulator (and back around every host call, so helpers see the same
//! bytes through the runtime's `Memory`), and serving host calls with the
//! interpreter's helper and kfunc implementations.

use super::{DISPATCH_SLOT, KFUNC_SLOT0};
use crate::helpers::{HelperEnv, HelperError, HelperFn, Registry};
use crate::maps::{MapId, Maps};
use crate::memory::Memory;
use crate::vm::{Machine, RunError, Stats};
use rvbpf_rv64::emu::{Memory as EmuMemory, Perms, RegionId};

/// Runtime regions currently lent to the emulator: (runtime id, emulator id).
pub(crate) struct Lent {
    pairs: Vec<(usize, RegionId)>,
}

impl Lent {
    /// Adds every non-empty runtime region to `emu` at its VM address, moving
    /// its storage (no copy).
    pub fn map_all(mem: &mut Memory, emu: &mut EmuMemory) -> Result<Lent, RunError> {
        let mut pairs = Vec::new();
        for id in 0..mem.regions().len() {
            let r = mem.region(id);
            if r.data.is_empty() {
                continue;
            }
            let (base, perms) = (r.base, if r.writable { Perms::RW } else { Perms::R });
            let data = mem.take_region_data(id);
            match emu.add_region(format!("{:?}", mem.region(id).kind), base, perms, data) {
                Ok(e) => pairs.push((id, e)),
                Err(e) => return Err(RunError::EngineUnavailable(format!("jit memory map: {e}"))),
            }
        }
        Ok(Lent { pairs })
    }

    /// Moves every lent storage back to the runtime.
    pub fn give_back(&self, mem: &mut Memory, emu: &mut EmuMemory) {
        for &(r, e) in &self.pairs {
            mem.put_region_data(r, emu.take_data(e));
        }
    }

    /// Moves the storage to the emulator again (after a host call).
    pub fn lend_again(&self, mem: &mut Memory, emu: &mut EmuMemory) -> Result<(), RunError> {
        for &(r, e) in &self.pairs {
            let data = mem.take_region_data(r);
            if data.len() as u64 != emu.region(e).size() {
                let why = format!("region {:?} changed size during a helper call", r);
                mem.put_region_data(r, data);
                return Err(RunError::EngineUnavailable(why));
            }
            emu.put_data(e, data)
                .map_err(|e| RunError::EngineUnavailable(e.to_string()))?;
        }
        Ok(())
    }
}

/// What a host-call slot stands for.
enum Callee<'a> {
    Helper(i64, &'a HelperFn),
    Kfunc(u32, &'a HelperFn),
}

/// Serves host call `slot` with arguments `args` (a0..a7) for the code at
/// BPF `pc`. Prog-array view addresses in arguments (`views`: map, view
/// address) are turned back into the runtime's map handles, so helpers see
/// the interpreter's values.
#[allow(clippy::too_many_arguments)]
pub(crate) fn serve(
    slot: u32,
    args: [u64; 8],
    pc: usize,
    views: &[(MapId, u64)],
    registry: &Registry,
    m: &mut Machine,
    stats: &mut Stats,
) -> Result<u64, RunError> {
    let callee = if slot == DISPATCH_SLOT {
        let id = args[5] as i64;
        let h = i32::try_from(id)
            .ok()
            .and_then(|i| registry.helper(i))
            .ok_or(RunError::UnknownHelper { pc, id })?;
        Callee::Helper(id, h)
    } else if slot >= KFUNC_SLOT0 {
        let k = slot - KFUNC_SLOT0;
        let f = registry.kfunc(k).ok_or_else(|| RunError::UnknownKfunc {
            pc,
            name: registry.kfunc_name(k).to_string(),
        })?;
        Callee::Kfunc(k, f)
    } else {
        let id = slot as i64;
        let h = registry
            .helper(slot as i32)
            .ok_or(RunError::UnknownHelper { pc, id })?;
        Callee::Helper(id, h)
    };
    let mut a = [args[0], args[1], args[2], args[3], args[4]];
    for v in &mut a {
        if let Some(&(map, _)) = views.iter().find(|(_, addr)| addr == v) {
            *v = Maps::handle(map);
        }
    }
    let mut env = HelperEnv::new(&mut m.mem, &mut m.maps, &mut m.host);
    match callee {
        Callee::Helper(id, h) => {
            stats.helper_calls += 1;
            h(&mut env, a).map_err(|e| match e {
                HelperError::Memory(f) => RunError::from_fault(pc, f),
                source => RunError::Helper { pc, id, source },
            })
        }
        Callee::Kfunc(k, f) => {
            stats.kfunc_calls += 1;
            f(&mut env, a).map_err(|e| match e {
                HelperError::Memory(f) => RunError::from_fault(pc, f),
                source => RunError::Kfunc {
                    pc,
                    name: registry.kfunc_name(k).to_string(),
                    source,
                },
            })
        }
    }
}
