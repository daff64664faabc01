//! The host tools: finding `qemu-riscv64` and `riscv64-linux-gnu-gcc`,
//! building `native/harness.c` (static, or as a PIE for sandboxed runs),
//! running a batch under qemu.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const QEMU: &str = "qemu-riscv64";
pub const CROSS_CC: &str = "riscv64-linux-gnu-gcc";

/// Paths of the two tools the native run needs.
#[derive(Clone, Debug)]
pub struct Tools {
    pub qemu: PathBuf,
    pub cc: PathBuf,
}

/// An executable file called `name` in a `PATH` directory.
fn in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Both tools, or the names of the missing ones.
pub fn find() -> Result<Tools, Vec<&'static str>> {
    match (in_path(QEMU), in_path(CROSS_CC)) {
        (Some(qemu), Some(cc)) => Ok(Tools { qemu, cc }),
        (qemu, cc) => Err([(QEMU, qemu.is_none()), (CROSS_CC, cc.is_none())]
            .into_iter()
            .filter_map(|(name, missing)| missing.then_some(name))
            .collect()),
    }
}

/// `native/` at the repository root.
pub fn native_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../native")
}

/// A built harness and how to run it.
#[derive(Clone, Debug)]
pub struct Harness {
    pub exe: PathBuf,
    /// `qemu-riscv64 -L` sysroot (dynamically linked PIE builds only).
    pub sysroot: Option<PathBuf>,
    /// Cases run inside the sandbox (`Sandbox::Masked` images, memory and
    /// stack at their VM addresses; see `native/harness.c`).
    pub sandboxed: bool,
}

/// Builds the static harness with `native/build.sh` into `out_dir`.
pub fn build_harness(tools: &Tools, out_dir: &Path) -> Result<Harness, String> {
    let exe = out_dir.join("rvbpf-native-harness");
    build(tools, &[], &exe)?;
    Ok(Harness {
        exe,
        sysroot: None,
        sandboxed: false,
    })
}

/// Builds the harness as a PIE (`build.sh --pie`), which qemu loads above
/// the sandbox range, for sandboxed cases.
pub fn build_sandbox_harness(tools: &Tools, out_dir: &Path) -> Result<Harness, String> {
    let exe = out_dir.join("rvbpf-native-harness-pie");
    build(tools, &["--pie"], &exe)?;
    Ok(Harness {
        exe,
        sysroot: Some(sysroot(tools)?),
        sandboxed: true,
    })
}

/// The cross compiler's target root (holding `lib/libc.so.6` and the
/// dynamic loader), which `qemu-riscv64 -L` needs for a PIE.
fn sysroot(tools: &Tools) -> Result<PathBuf, String> {
    let out = Command::new(&tools.cc)
        .arg("-print-file-name=libc.so.6")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tools.cc.display()))?;
    let libc = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let libc = libc
        .canonicalize()
        .map_err(|e| format!("riscv64 libc.so.6 not found ({}): {e}", libc.display()))?;
    libc.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no sysroot above {}", libc.display()))
}

fn build(tools: &Tools, flags: &[&str], exe: &Path) -> Result<(), String> {
    let script = native_dir().join("build.sh");
    let out = Command::new("sh")
        .arg(&script)
        .args(flags)
        .arg(exe)
        .env("CC", &tools.cc)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Runs the harness on `batch` under qemu with `cpu` (a `-cpu` value);
/// returns its stdout. Exit status 1 (some case failed or mismatched) is
/// not an error here: the caller judges every case from the output.
pub fn run_batch(
    tools: &Tools,
    harness: &Harness,
    cpu: &str,
    batch: &Path,
) -> Result<String, String> {
    let mut qemu = Command::new(&tools.qemu);
    if let Some(root) = &harness.sysroot {
        qemu.arg("-L").arg(root);
    }
    let out = qemu
        .arg("-cpu")
        .arg(cpu)
        .arg(&harness.exe)
        .arg(batch)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tools.qemu.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.code() {
        Some(0 | 1) => Ok(stdout),
        _ => Err(format!(
            "{QEMU} -cpu {cpu} {} {} ended with {}:\nstderr: {}\nstdout tail: {}",
            harness.exe.display(),
            batch.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr),
            stdout.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        )),
    }
}
