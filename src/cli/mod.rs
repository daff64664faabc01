//! Command-line interface. Each subcommand follows the pipeline:
//! `disasm` (load), `verify` (load + verify), `run` (load, verify, run),
//! `conformance` / `conformance-plugin` (the `.data` suites). With no
//! subcommand, the built-in demonstration runs.
//!
//! Exit codes: 0 success, 1 the input was rejected or a run failed,
//! 2 bad command-line usage. Output goes through [`out!`]/[`outln!`], so a
//! reader that closes the pipe early (`rvbpf disasm x.o | head`) ends the
//! process quietly instead of making `print!` panic.

/// `print!` to stdout; a closed stdout ends the process quietly.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

/// `println!` to stdout; a closed stdout ends the process quietly.
macro_rules! outln {
    () => { $crate::cli::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod demo;
mod inspect;
mod jit;
mod load;
mod run;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// rvbpf: a userspace eBPF runtime with a reference interpreter and a RISC-V 64 JIT.
#[derive(Parser, Debug)]
#[command(name = "rvbpf", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load, verify and run a program (ELF object or BPF assembler text).
    Run(run::RunArgs),
    /// Run bpf_conformance / ubpf `.data` test files (directories recursively).
    Conformance {
        /// Engine to run on (default: every engine).
        #[arg(long)]
        engine: Option<String>,
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// bpf_conformance plugin protocol: program as hex on stdin, memory as a
    /// hex argument; prints r0 in hex.
    #[command(disable_help_flag = true)]
    ConformancePlugin {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print the BPF instructions of an object's programs.
    Disasm {
        object: PathBuf,
        #[arg(long)]
        prog: Option<String>,
    },
    /// Load and verify every program of an object; print its facts.
    Verify { object: PathBuf },
    /// Compile a program to RV64 and print the annotated listing (or write
    /// the raw code with `--emit bin -o FILE`).
    Jit(jit::JitArgs),
    /// Run the built-in demonstration (the default).
    Demo,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        None | Some(Command::Demo) => demo::run(),
        Some(Command::Run(args)) => run::run(&args),
        Some(Command::Conformance { engine, paths }) => {
            inspect::conformance(engine.as_deref(), &paths)
        }
        Some(Command::ConformancePlugin { args }) => {
            let code = rvbpf::conformance::plugin::plugin_main(
                &args,
                &mut std::io::stdin().lock(),
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            );
            return ExitCode::from(code.clamp(0, 255) as u8);
        }
        Some(Command::Disasm { object, prog }) => inspect::disasm(&object, prog.as_deref()),
        Some(Command::Verify { object }) => inspect::verify(&object),
        Some(Command::Jit(args)) => jit::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("rvbpf: error: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Writes to stdout. When the reader has gone (broken pipe) there is
/// nobody left to tell, so the process exits at once with status 0, as a
/// shell pipeline expects; any other write error is reported and exits 1.
pub fn write_stdout(args: std::fmt::Arguments) {
    use std::io::{ErrorKind, Write};
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("rvbpf: error: writing to stdout: {e}");
        std::process::exit(1);
    }
}

/// Errors are reported as one located sentence; the runtime's error types
/// already carry file, section, program and pc.
pub type CliResult = Result<ExitCode, String>;
