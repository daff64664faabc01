//! LLVM's `llvm-mc` and `llvm-objdump` as independent oracles for the
//! encoder and the printer (feature `llvm-oracle`; used by this crate's and
//! the JIT's tests), and the normalised listing-line format both sides are
//! compared in.
//!
//! The tools are run as child processes; every function panics with the
//! tool's stderr when a tool fails, since a test is the only caller.
//! [`available`] lets a test skip when LLVM is not installed.

use std::io::Write;
use std::process::{Command, Stdio};

/// `--mattr` for the full modelled ISA, without and with C.
pub const MATTR_NO_C: &str = "+m,+a,+zba,+zbb";
pub const MATTR_C: &str = "+m,+a,+c,+zba,+zbb";

/// Is `tool` on PATH and runnable?
pub fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn run(cmd: &mut Command, stdin: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn llvm tool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "{cmd:?} failed:\n{stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Assembles one instruction per line with `llvm-mc -show-encoding` and
/// returns each line's bytes, in order.
pub fn llvm_mc_encodings(lines: &[String], mattr: &str) -> Vec<Vec<u8>> {
    let out = run(
        Command::new("llvm-mc").args([
            "-triple=riscv64",
            &format!("-mattr={mattr}"),
            "-show-encoding",
        ]),
        &lines.join("\n"),
    );
    let encodings: Vec<Vec<u8>> = out
        .lines()
        .filter_map(|l| l.split_once("# encoding: [").map(|(_, rest)| rest))
        .map(|rest| {
            rest.trim_end_matches(']')
                .split(',')
                .map(|b| u8::from_str_radix(b.trim().trim_start_matches("0x"), 16).unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        encodings.len(),
        lines.len(),
        "llvm-mc output does not line up:\n{out}"
    );
    encodings
}

/// Disassembles raw bytes with `llvm-objdump -d` (after wrapping them in an
/// object file with `llvm-mc`), returning normalised listing lines.
pub fn llvm_objdump(bytes: &[u8]) -> Vec<String> {
    // One directory per call: tests run in parallel threads of one process,
    // and each call removes its directory when done.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rv64-oracle-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = dir.join("raw.o");
    let asm: String = bytes.iter().map(|b| format!(".byte {b:#04x}\n")).collect();
    run(
        Command::new("llvm-mc")
            .args(["-triple=riscv64", "-filetype=obj", "-o"])
            .arg(&obj),
        &asm,
    );
    let out = run(
        Command::new("llvm-objdump")
            .args(["-d", &format!("--mattr={MATTR_C}")])
            .arg(&obj),
        "",
    );
    std::fs::remove_dir_all(&dir).ok();
    out.lines().filter_map(normalise_objdump_line).collect()
}

/// `"      2a: 7d 75        \tlui\ta0, 1048575 <sym>"` -> `"2a: 7d 75 | lui a0, 1048575"`.
fn normalise_objdump_line(line: &str) -> Option<String> {
    let (addr, rest) = line.split_once(':')?;
    let addr = addr.trim();
    if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let (bytes, text) = rest.split_once('\t')?;
    let mut text = text.replace('\t', " ");
    if let Some(cut) = text.rfind(" <").filter(|_| text.ends_with('>')) {
        text.truncate(cut);
    }
    Some(listing_line(
        u64::from_str_radix(addr, 16).ok()?,
        bytes.trim(),
        text.trim(),
    ))
}

/// One line of the committed listing format.
pub fn listing_line(addr: u64, hex_bytes: &str, text: &str) -> String {
    format!("{addr:x}: {hex_bytes} | {text}")
}

/// Bytes as `"13 05 15 00"`.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
