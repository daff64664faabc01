//! rvbpf's reference interpreter, driven through the public [`Vm`] API the
//! way an embedder would: load once, then `run` the same program again and
//! again on a reused VM.

use rvbpf::ebpf::asm::assemble_object;
use rvbpf::{Ctx, Engine, ProgId, Vm};

/// A loaded program plus its input.
pub struct Ours {
    vm: Vm,
    prog: ProgId,
    ctx: Ctx,
}

impl Ours {
    /// Assembles, verifies and loads `asm`; the input becomes a raw ctx
    /// (`r1` = its address, `r2` = its length).
    pub fn new(name: &str, asm: &str, input: &[u8], insn_budget: u64) -> Result<Ours, String> {
        let obj = assemble_object(name, asm).map_err(|e| format!("{name}: {e}"))?;
        let mut vm = Vm::new();
        vm.set_insn_budget(insn_budget);
        let id = vm.load_object(obj).map_err(|e| format!("{name}: {e}"))?;
        let prog = vm.program(id, "main").map_err(|e| format!("{name}: {e}"))?;
        Ok(Ours {
            vm,
            prog,
            ctx: Ctx::raw(input),
        })
    }

    /// One run: `(r0, instructions executed)`.
    pub fn run(&mut self) -> (u64, u64) {
        match self.vm.run(self.prog, &self.ctx, Engine::Interp) {
            Ok(out) => (out.ret, out.stats.insns_executed),
            Err(e) => panic!("rvbpf run failed: {e}"),
        }
    }
}
