//! The `rvbpf` command: a thin layer over the runtime (see `cli/`).
#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
