//! fentry/fexit attachment. A tracer attaches to every function named
//! `func` in the target object — a program's entry function (by program
//! name) or a subprogram linked into any of its programs (each program
//! carries its own copy, so all copies are traced). The trampoline itself
//! runs in the engines (`interp::trampoline`).
//!
//! Tracing programs cannot themselves be traced (attaching to a program of
//! kind fentry/fexit is refused): Linux allows only limited nesting there and
//! no test needs it; it also guarantees trampolines never nest.

use super::{AttachId, Attachment, Error, ObjectId, ProgId, Vm};
use rvbpf_ebpf::object::ProgKind;

impl Vm {
    /// Attaches tracing program `tracer` (fentry or fexit, from its kind) to
    /// function `func` of object `target`.
    pub fn attach(
        &mut self,
        tracer: ProgId,
        target: ObjectId,
        func: &str,
    ) -> Result<AttachId, Error> {
        let t = self.prog(tracer)?;
        let is_entry = match t.kind {
            ProgKind::Fentry { .. } => true,
            ProgKind::Fexit { .. } => false,
            _ => {
                return Err(Error::Attach {
                    tracer: t.name.clone(),
                    target: func.into(),
                    why: "not an fentry/fexit program",
                })
            }
        };
        let tracer_name = t.name.clone();
        let mut sites = Vec::new();
        for &p in &self.obj(target)?.programs {
            let lp = &self.progs[p.0 as usize];
            if lp.kind.is_tracing() {
                continue;
            }
            for (i, f) in lp.funcs.iter().enumerate() {
                if f.name == func || (i == 0 && lp.name == func) {
                    sites.push((p, i));
                }
            }
        }
        if sites.is_empty() {
            return Err(Error::Attach {
                tracer: tracer_name,
                target: func.into(),
                why: "no such function in a non-tracing program of the target object",
            });
        }
        for &(p, i) in &sites {
            let f = &mut self.progs[p.0 as usize].funcs[i];
            if is_entry {
                f.fentry.push(tracer)
            } else {
                f.fexit.push(tracer)
            }
        }
        self.attachments.push(Some(Attachment { tracer, sites }));
        Ok(AttachId(self.attachments.len() as u32 - 1))
    }

    /// Undoes an [`Vm::attach`].
    pub fn detach(&mut self, id: AttachId) -> Result<(), Error> {
        let a = self
            .attachments
            .get_mut(id.0 as usize)
            .and_then(Option::take)
            .ok_or(Error::NoSuchAttachment(id.0))?;
        for (p, i) in a.sites {
            let f = &mut self.progs[p.0 as usize].funcs[i];
            for list in [&mut f.fentry, &mut f.fexit] {
                if let Some(pos) = list.iter().position(|&t| t == a.tracer) {
                    list.remove(pos);
                    break;
                }
            }
        }
        Ok(())
    }
}
