//! Shared by `benches/compile.rs` and `examples/compile_speed.rs`: the
//! generated program ([`program`]) and one [`Compiler`] per JIT measured.
//!
//! What one "compile" covers differs by engine, because it is what each
//! engine's API offers:
//!
//! * rvbpf: `rvbpf_jit::compile` of an already verified program to an
//!   `Image` (bytes + relocations). Pure: no memory is mapped.
//! * rbpf: `EbpfVmRaw::jit_compile`: allocates one page, `mprotect`s it and
//!   emits x86-64 into it. That page is rbpf's whole code buffer (a fixed
//!   4 KiB, its `NUM_PAGES = 1`), so rbpf can only compile a few hundred
//!   instructions; it is measured on [`SMALL_SLOTS`], never on 100k.
//! * solana-sbpf: `Executable::jit_compile` with the production `Config`
//!   defaults (SBPF v3, instruction meter, address translation, constant
//!   sanitisation and no-op insertion on): `mmap`s a buffer, emits x86-64,
//!   `mprotect`s it read+exec.
//!
//! Verification and loading are outside the timed part for every engine.

#![allow(dead_code)] // each of the two users uses a different subset

pub mod program;

use rvbpf_ebpf::asm::assemble_object;
use rvbpf_ebpf::insn::insns_to_bytes;
use rvbpf_ebpf::inst::Inst;
use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv};
use rvbpf_jit::{compile, Image, JitOptions, TccScheme};
use rvbpf_rv64::Target;

/// Instruction slots of the large program (the target is stated for 100k).
pub const LARGE_SLOTS: usize = 100_000;
/// Instruction slots of the small program, sized so rbpf's one-page code
/// buffer holds its x86-64 code (rbpf panics on overflow, so every bench
/// or example run checks it).
pub const SMALL_SLOTS: usize = 300;
/// Seed of the generated programs.
pub const SEED: u64 = 0x5eed_c0de_2026;

/// One generated program, in every form the engines take.
pub struct Workload {
    /// Instruction slots (what ns/insn divides by).
    pub slots: usize,
    /// Raw little-endian instruction bytes (rbpf, sbpf).
    pub bytes: Vec<u8>,
    /// rvbpf's verified form.
    pub verified: VerifiedProgram,
}

impl Workload {
    /// Generates, assembles and verifies a program of about `slots` slots.
    pub fn new(slots: usize) -> Workload {
        let generated = program::generate(slots, SEED);
        let obj = assemble_object("compile_bench", &generated.asm)
            .unwrap_or_else(|e| panic!("generated program does not assemble: {e}"));
        let insns = &obj.programs[0].insns;
        assert_eq!(insns.len(), generated.slots, "slot count of the generator");
        let env = VerifyEnv {
            helper_known: &|_| false,
            kfunc_known: &|_| false,
            entry_args: 1,
        };
        let verified = verify(&obj, 0, &env)
            .unwrap_or_else(|e| panic!("generated program does not verify: {e}"));
        Workload {
            slots: insns.len(),
            bytes: insns_to_bytes(insns),
            verified,
        }
    }
}

/// Conditional jumps of `workload` whose target lies beyond the ±4 KiB reach
/// of a RISC-V conditional branch in rvbpf's code for `target`, and all
/// conditional jumps: shows that the program exercises branch relaxation.
pub fn far_conditional_jumps(workload: &Workload, target: &str) -> (usize, usize) {
    let image = Rvbpf::new(workload, target).image();
    let mut far = 0;
    let mut all = 0;
    for (pc, inst) in workload.verified.insts().iter().enumerate() {
        if let Inst::Jump { off, .. } = *inst {
            all += 1;
            let to = (pc as i64 + 1 + off as i64) as usize;
            let distance = image.pc_map[to] as i64 - image.pc_map[pc] as i64;
            if distance.abs() >= 4096 {
                far += 1;
            }
        }
    }
    (far, all)
}

/// One JIT, ready to compile a fixed program again and again.
pub trait Compiler {
    /// Compiles once; returns the machine-code size in bytes (so the work
    /// cannot be optimised away, and for the report).
    fn compile_once(&mut self) -> usize;
}

/// rvbpf's JIT for one target (optimizing, or the baseline tier).
pub struct Rvbpf<'a> {
    prog: &'a VerifiedProgram,
    opts: JitOptions,
    baseline: bool,
}

impl<'a> Rvbpf<'a> {
    /// `target` is an ISA string such as `rv64gc`.
    pub fn new(workload: &'a Workload, target: &str) -> Rvbpf<'a> {
        let target: Target = target
            .parse()
            .unwrap_or_else(|_| panic!("bad target {target}"));
        Rvbpf {
            prog: &workload.verified,
            opts: JitOptions {
                target,
                tcc: TccScheme::Reg,
                ..JitOptions::default()
            },
            baseline: false,
        }
    }

    /// The baseline tier (`compile_baseline`) for `target`.
    pub fn baseline(workload: &'a Workload, target: &str) -> Rvbpf<'a> {
        Rvbpf {
            baseline: true,
            ..Rvbpf::new(workload, target)
        }
    }
}

impl Rvbpf<'_> {
    fn image(&self) -> Image {
        if self.baseline {
            return rvbpf_jit::compile_baseline(self.prog, &self.opts).expect("rvbpf baseline");
        }
        compile(self.prog, &self.opts).expect("rvbpf JIT")
    }
}

impl Compiler for Rvbpf<'_> {
    fn compile_once(&mut self) -> usize {
        self.image().text_len
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Rbpf, Sbpf};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Compiler, Workload};
    use solana_sbpf::elf::Executable;
    use solana_sbpf::memory_region::MemoryMapping;
    use solana_sbpf::program::{BuiltinProgram, FunctionRegistry, SBPFVersion};
    use solana_sbpf::verifier::RequisiteVerifier;
    use solana_sbpf::vm::{Config, ContextObject};
    use std::ptr::NonNull;
    use std::sync::Arc;

    /// rbpf's x86-64 JIT (`EbpfVmRaw`: r1 = packet pointer).
    pub struct Rbpf<'a> {
        vm: rbpf::EbpfVmRaw<'a>,
    }

    impl<'a> Rbpf<'a> {
        /// Loads (and runs rbpf's verifier on) the workload's bytes.
        pub fn new(workload: &'a Workload) -> Rbpf<'a> {
            let vm = rbpf::EbpfVmRaw::new(Some(&workload.bytes)).expect("rbpf load");
            Rbpf { vm }
        }
    }

    impl Compiler for Rbpf<'_> {
        fn compile_once(&mut self) -> usize {
            self.vm.jit_compile().expect("rbpf JIT");
            // rbpf does not expose the code length; its buffer is one page.
            4096
        }
    }

    const VERSION: SBPFVersion = SBPFVersion::V3;

    /// The context type SBPF's `Executable` is generic over. Compilation
    /// never asks it anything; nothing here is ever run.
    struct NoContext;

    impl ContextObject for NoContext {
        fn consume(&mut self, _amount: u64) {}
        fn get_remaining(&self) -> u64 {
            0
        }
        fn active_mapping_ptr(&mut self) -> NonNull<MemoryMapping> {
            unreachable!("compile-only context: no program is executed")
        }
    }

    /// solana-sbpf's x86-64 JIT, SBPF v3, production `Config` defaults.
    pub struct Sbpf {
        exe: Executable<NoContext>,
    }

    impl Sbpf {
        /// Loads and verifies (SBPF's `RequisiteVerifier`) the workload.
        pub fn new(workload: &Workload) -> Sbpf {
            let config = Config {
                enabled_sbpf_versions: VERSION..=VERSION,
                ..Config::default()
            };
            let loader = Arc::new(BuiltinProgram::new_loader(config));
            let exe = Executable::from_text_bytes(
                &workload.bytes,
                loader,
                VERSION,
                FunctionRegistry::default(),
            )
            .expect("sbpf load");
            exe.verify::<RequisiteVerifier>().expect("sbpf verify");
            Sbpf { exe }
        }
    }

    impl Compiler for Sbpf {
        fn compile_once(&mut self) -> usize {
            self.exe.jit_compile().expect("sbpf JIT");
            self.exe
                .get_compiled_program()
                .map_or(0, |p| p.machine_code_length())
        }
    }
}
