#!/usr/bin/env bash
# Cross-builds (and with `run`/`test`, runs under qemu-riscv64) rvbpf for
# riscv64 Linux, where the native JIT engine (`--engine native`) is compiled in.
#
#   scripts/cross-riscv64.sh build --release --bin rvbpf
#   scripts/cross-riscv64.sh run --release -- conformance --engine native ../shared/bpf_conformance_tests
#   scripts/cross-riscv64.sh test --release --test runtime_helpers
#   scripts/cross-riscv64.sh clippy -p rvbpf --lib --bins --tests -- -D warnings
#
# clippy has no Debian build: `clippy` uses rustup's toolchain instead, whose
# std sources come from `rustup component add rust-src`.
#
# rustup here only ships x86_64's std, so std is rebuilt from source
# (-Zbuild-std) with Debian's rustc-web and its library sources (packages
# rustc-web, rust-web-src; scripts/setup.sh installs them), linked with the
# riscv64 cross gcc and run by qemu-user. RUSTC_BOOTSTRAP=1 lets the stable
# compiler accept -Zbuild-std. Target dir: $CARGO_TARGET_DIR, or
# target/riscv64 inside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTC_WEB=${RUSTC_WEB:-/usr/bin/rustc}
if [ ! -x "$RUSTC_WEB" ] || ! command -v qemu-riscv64 >/dev/null \
  || ! command -v riscv64-linux-gnu-gcc >/dev/null; then
  echo "cross-riscv64: needs $RUSTC_WEB (rustc-web), rust-web-src, riscv64-linux-gnu-gcc and qemu-riscv64; run scripts/setup.sh" >&2
  exit 2
fi
if [ $# -lt 1 ]; then
  echo "usage: scripts/cross-riscv64.sh CARGO-COMMAND [ARGS...]" >&2
  exit 2
fi
cmd=$1
shift
export RUSTC_BOOTSTRAP=1
if [ "$cmd" = clippy ]; then
  unset RUSTC
else
  export RUSTC="$RUSTC_WEB"
fi
export CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_LINKER=riscv64-linux-gnu-gcc
export CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUNNER="qemu-riscv64 -L /usr/riscv64-linux-gnu"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/riscv64}"
exec cargo "$cmd" -Zbuild-std=std,panic_abort --target riscv64gc-unknown-linux-gnu "$@"
