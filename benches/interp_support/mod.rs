//! Shared by the `interp` bench and the `interp_speed` example: the
//! benchmark programs and one runner per interpreter (rvbpf, rbpf,
//! solana-sbpf), checked against each other before anything is timed.

pub mod ours;
pub mod programs;
pub mod theirs_rbpf;
pub mod theirs_sbpf;

use ours::Ours;
use programs::Workload;
use rvbpf::ebpf::asm::assemble_object;
use rvbpf::ebpf::insn::insns_to_bytes;
use theirs_rbpf::Rbpf;
use theirs_sbpf::Sbpf;

/// Instruction budget of every run on the metered engines (rvbpf, SBPF):
/// far above the longest workload, so it never ends a run.
pub const INSN_BUDGET: u64 = 1 << 40;

/// A workload assembled to raw eBPF bytes.
pub struct Program {
    pub workload: Workload,
    pub code: Vec<u8>,
}

impl Program {
    pub fn new(workload: Workload) -> Program {
        let obj = assemble_object(workload.name, &workload.asm)
            .unwrap_or_else(|e| panic!("{}: {e}", workload.name));
        let code = insns_to_bytes(&obj.programs[0].insns);
        Program { workload, code }
    }

    pub fn name(&self) -> &'static str {
        self.workload.name
    }

    /// Loads the program on every engine and runs it once on each,
    /// panicking unless all three return the Rust model's result and the two
    /// metered engines count the same number of instructions — so no
    /// engine can post a fast time for a wrong (or shorter) computation.
    pub fn engines(&self) -> Engines<'_> {
        let w = &self.workload;
        let mut ours =
            Ours::new(w.name, &w.asm, &w.input, INSN_BUDGET).unwrap_or_else(|e| panic!("{e}"));
        let rbpf = Rbpf::new(&self.code, &w.input).unwrap_or_else(|e| panic!("{}: {e}", w.name));
        let mut sbpf = Sbpf::new(&self.code, &w.input, INSN_BUDGET)
            .unwrap_or_else(|e| panic!("{}: {e}", w.name));
        let (ours_r0, ours_insns) = ours.run();
        let rbpf_r0 = rbpf.run();
        let (sbpf_r0, sbpf_insns) = sbpf.run();
        for (engine, r0) in [("rvbpf", ours_r0), ("rbpf", rbpf_r0), ("sbpf", sbpf_r0)] {
            assert_eq!(
                r0, w.expected,
                "{}: {engine} returned {r0:#x}, the Rust model {:#x}",
                w.name, w.expected
            );
        }
        assert_eq!(
            ours_insns, sbpf_insns,
            "{}: rvbpf and sbpf executed different instruction counts",
            w.name
        );
        Engines {
            ours,
            rbpf,
            sbpf,
            insns: ours_insns,
        }
    }
}

/// The three interpreters, each loaded with the same program.
pub struct Engines<'a> {
    pub ours: Ours,
    pub rbpf: Rbpf<'a>,
    pub sbpf: Sbpf,
    /// Instructions one run executes.
    pub insns: u64,
}

/// Every workload, assembled.
pub fn programs() -> Vec<Program> {
    programs::all().into_iter().map(Program::new).collect()
}
