//! `rvbpf conformance-plugin`: the bpf_conformance plugin protocol, so the
//! upstream `bpf_conformance_runner --plugin_path rvbpf ...` can drive rvbpf.
//!
//! Protocol (as spoken by bpf_conformance and ubpf's plugin):
//! * stdin: the program as hex bytes (`b7 00 00 00 01 00 00 00 95 ...`);
//! * first argument, unless it starts with `--`: the memory as hex bytes,
//!   passed to the program with r1 = its address and r2 = its length;
//! * options: `--engine NAME` (default: the first engine), `--program HEX`
//!   (program as an argument instead of stdin), `--debug` (ignored);
//! * success: r0 in lowercase hex without prefix and a newline on stdout, exit 0;
//! * failure: a message on stderr, exit 1.

use super::case::{Executor, Rejection, Stage};
use crate::ebpf::asm::object_from_insts;
use crate::ebpf::data_file::parse_hex_bytes;
use crate::ebpf::insn::insns_from_bytes;
use crate::ebpf::inst::decode_program;
use std::io::{Read, Write};

/// Builds the executor for an `--engine` name (`None`: the default engine).
pub type ExecutorFactory = dyn Fn(Option<&str>) -> Result<Box<dyn Executor>, String>;

/// Parsed command line of the plugin.
#[derive(Debug, Default, PartialEq, Eq)]
struct PluginArgs {
    memory: Vec<u8>,
    engine: Option<String>,
    program: Option<String>,
}

fn parse_args(args: &[String]) -> Result<PluginArgs, String> {
    let mut out = PluginArgs::default();
    let mut rest = args;
    if let Some(first) = rest.first() {
        if !first.starts_with("--") {
            out.memory = parse_hex_bytes(first).map_err(|e| format!("memory: {e}"))?;
            rest = &rest[1..];
        }
    }
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--engine" => {
                out.engine = Some(it.next().ok_or("--engine needs a name")?.clone());
            }
            "--program" => {
                out.program = Some(it.next().ok_or("--program needs hex bytes")?.clone());
            }
            "--debug" => {}
            "--elf" => return Err("ELF input is not supported; send raw instructions".into()),
            other => return Err(format!("invalid argument `{other}`")),
        }
    }
    Ok(out)
}

/// Runs the protocol with executors built by `make_exec` (given the
/// `--engine` name, if any). Returns the process exit code.
pub fn plugin_with(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    make_exec: &ExecutorFactory,
) -> i32 {
    let result = (|| -> Result<u64, String> {
        let args = parse_args(args)?;
        let program_hex = match args.program {
            Some(p) => p,
            None => {
                let mut s = String::new();
                stdin
                    .read_to_string(&mut s)
                    .map_err(|e| format!("reading stdin: {e}"))?;
                s
            }
        };
        let bytes = parse_hex_bytes(&program_hex).map_err(|e| format!("program: {e}"))?;
        let insns = insns_from_bytes(&bytes)
            .map_err(|extra| format!("program: {extra} bytes after the last whole instruction"))?;
        let insts =
            decode_program(&insns).map_err(|e| Rejection::new(Stage::Decode, e).to_string())?;
        let object = object_from_insts("stdin", &insts);
        let mut exec = make_exec(args.engine.as_deref())?;
        exec.load(&object).map_err(|r| r.to_string())?;
        let mut mem = args.memory;
        exec.run(&mut mem).map_err(|r| r.to_string())
    })();
    match result {
        Ok(r0) => match writeln!(stdout, "{r0:x}") {
            Ok(()) => 0,
            Err(_) => 1,
        },
        Err(message) => {
            let _ = writeln!(stderr, "{message}");
            1
        }
    }
}

/// Entry point for the CLI: `args` are the arguments after the subcommand.
pub fn plugin_main(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    plugin_with(args, stdin, stdout, stderr, &super::engine::executor_for)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let a = |v: &[&str]| parse_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            a(&["00 01  ff ", "--engine", "interp", "--debug"]).unwrap(),
            PluginArgs {
                memory: vec![0, 1, 0xff],
                engine: Some("interp".into()),
                program: None
            }
        );
        assert_eq!(a(&[]).unwrap(), PluginArgs::default());
        assert!(a(&["--elf"]).is_err());
        assert!(a(&["--bogus"]).is_err());
        assert!(a(&["zz"]).is_err());
        assert!(a(&["--engine"]).is_err());
    }
}
