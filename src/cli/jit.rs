//! `rvbpf jit`: compile one program and show what it became.

use super::load::read_object;
use super::CliResult;
use clap::{Args, ValueEnum};
use rvbpf::rv64::Target;
use rvbpf::Vm;
use rvbpf_jit::{compile, compile_baseline, JitOptions, Sandbox, TccScheme};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct JitArgs {
    /// ELF object or BPF assembler text.
    pub object: PathBuf,
    /// Program to compile (needed when the object has several).
    #[arg(long)]
    pub prog: Option<String>,
    /// rv64g, rv64gc, optionally with _zba, _zbb or _zba_zbb.
    #[arg(long, default_value = "rv64gc")]
    pub target: String,
    /// Tail-call counter scheme.
    #[arg(long, value_enum, default_value_t = Tcc::Reg)]
    pub tcc: Tcc,
    /// Memory confinement: `none`, or `masked` (address-masking SFI for
    /// native execution, see rvbpf_jit::Sandbox).
    #[arg(long, value_enum, default_value_t = SandboxArg::None)]
    pub sandbox: SandboxArg,
    /// Compiler tier: `optimizing` (default), or `baseline` (fast to compile,
    /// slower code; `reg` scheme and no sandbox only).
    #[arg(long, value_enum, default_value_t = TierArg::Optimizing)]
    pub tier: TierArg,
    /// `listing` (default) or `bin` (raw code and literal pool, unrelocated).
    #[arg(long, value_enum, default_value_t = Emit::Listing)]
    pub emit: Emit,
    /// Output file for `--emit bin`.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Tcc {
    Reg,
    Stack,
    Ptr,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SandboxArg {
    None,
    Masked,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TierArg {
    Optimizing,
    Baseline,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Emit {
    Listing,
    Bin,
}

pub fn run(args: &JitArgs) -> CliResult {
    let target = Target::parse(&args.target).map_err(|e| format!("--target: {e}"))?;
    let tcc = match args.tcc {
        Tcc::Reg => TccScheme::Reg,
        Tcc::Stack => TccScheme::Stack,
        Tcc::Ptr => TccScheme::Ptr,
    };
    let mut vm = Vm::new();
    let id = vm
        .load_object(read_object(&args.object)?)
        .map_err(|e| e.to_string())?;
    let prog = super::run::choose_program(&vm, id, args.prog.as_deref())?;
    let verified = vm.verified_program(prog).map_err(|e| e.to_string())?;
    let (object, name) = (verified.object_name(), verified.name());
    let opts = JitOptions {
        target,
        tcc,
        sandbox: match args.sandbox {
            SandboxArg::None => Sandbox::None,
            SandboxArg::Masked => Sandbox::Masked,
        },
    };
    // No silent fallback here: the listing must be of the tier asked for.
    let image = match args.tier {
        TierArg::Optimizing => compile(&verified, &opts),
        TierArg::Baseline => compile_baseline(&verified, &opts),
    }
    .map_err(|e| format!("{object}: {e}"))?;
    match args.emit {
        Emit::Listing => {
            outln!(
                "; {} `{}`: target {target}, tcc {:?}, sandbox {:?}, tier {:?}, {} code bytes ({} text), tail-call entry at +{}",
                object,
                name,
                tcc,
                args.sandbox,
                args.tier,
                image.code.len(),
                image.text_len,
                rvbpf_jit::TAIL_CALL_ENTRY_OFFSET
            );
            out!("{}", image.listing());
        }
        Emit::Bin => {
            let out = args.output.as_ref().ok_or("--emit bin needs -o FILE")?;
            std::fs::write(out, &image.code).map_err(|e| format!("{}: {e}", out.display()))?;
            eprintln!("wrote {} bytes to {}", image.code.len(), out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
