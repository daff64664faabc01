//! LLVM 14's `llvm-mc` and `llvm-objdump` as an independent disassembler.

use std::io::Write;
use std::process::{Command, Stdio};

pub fn tool_available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run(cmd: &mut Command, stdin: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `llvm-objdump -d` of raw bytes (wrapped in an object by `llvm-mc`), as
/// `addr: bytes | text` lines.
pub fn llvm_objdump(bytes: &[u8], tag: &str) -> Vec<String> {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rvbpf-jit-{}-{tag}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = dir.join("t.o");
    let asm: String = bytes.iter().map(|b| format!(".byte {b:#04x}\n")).collect();
    run(
        Command::new("llvm-mc")
            .args(["-triple=riscv64", "-filetype=obj", "-o"])
            .arg(&obj),
        &asm,
    );
    let out = run(
        Command::new("llvm-objdump")
            .args(["-d", "--mattr=+m,+a,+c,+zba,+zbb"])
            .arg(&obj),
        "",
    );
    std::fs::remove_dir_all(&dir).ok();
    out.lines()
        .filter_map(|line| {
            let (addr, rest) = line.split_once(':')?;
            let addr = addr.trim();
            if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let (hex, text) = rest.split_once('\t')?;
            let mut text = text.replace('\t', " ");
            if let Some(cut) = text.rfind(" <").filter(|_| text.ends_with('>')) {
                text.truncate(cut);
            }
            let addr = u64::from_str_radix(addr, 16).ok()?;
            Some(format!("{addr:x}: {} | {}", hex.trim(), text.trim()))
        })
        .collect()
}
