//! The JIT side: clang's BPF object → loader → verifier → `rvbpf_jit`.

use super::{KernelError, BPF_OBJECT};
use rvbpf_ebpf::elf::load_elf;
use rvbpf_ebpf::verifier::{verify, VerifyEnv};
use rvbpf_jit::{
    compile as jit_compile, compile_baseline, Image, JitOptions, Sandbox, TccScheme, Tier,
};
use rvbpf_rv64::Target;

/// Compiles the BPF program `kernel` (section `raw/<kernel>`) for `target`.
/// The entry gets two initialised arguments (r1 = buffer, r2 = length); no
/// helper or kfunc exists, so a kernel that needs one fails verification.
pub fn compile(kernel: &str, target: Target) -> Result<Image, KernelError> {
    compile_with(kernel, target, Sandbox::None)
}

/// [`compile`] with a choice of memory confinement.
pub fn compile_with(kernel: &str, target: Target, sandbox: Sandbox) -> Result<Image, KernelError> {
    compile_tier(kernel, target, sandbox, Tier::Optimizing)
}

/// [`compile_with`] by the given compiler tier.
pub fn compile_tier(
    kernel: &str,
    target: Target,
    sandbox: Sandbox,
    tier: Tier,
) -> Result<Image, KernelError> {
    let obj = load_elf("kernels.bpf.o", BPF_OBJECT)?;
    let index = obj
        .programs
        .iter()
        .position(|p| p.name == kernel)
        .ok_or_else(|| KernelError::NoProgram(kernel.to_string()))?;
    let env = VerifyEnv {
        helper_known: &|_| false,
        kfunc_known: &|_| false,
        entry_args: 2,
    };
    let verified = verify(&obj, index, &env)?;
    let opts = JitOptions {
        target,
        tcc: TccScheme::default(),
        sandbox,
    };
    let image = match tier {
        Tier::Optimizing => jit_compile(&verified, &opts)?,
        Tier::Baseline => compile_baseline(&verified, &opts)?,
    };
    if !image.relocs.is_empty() {
        return Err(KernelError::Relocations(kernel.to_string()));
    }
    Ok(image)
}
