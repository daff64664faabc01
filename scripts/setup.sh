#!/usr/bin/env bash
# Installs the tools rvbpf's tests and fixture scripts use, when missing:
#   llvm (llvm-mc, llvm-objdump)   oracles for the RV64 encoder and printer
#   clang + libbpf-dev             rebuild the committed BPF objects
#   qemu-user + riscv64 cross gcc  run JIT images natively under qemu-riscv64
#   rustc-web + rust-web-src       a rustc with std sources, to cross-build rvbpf
#   + libc6-dev-riscv64-cross      for riscv64 Linux (scripts/cross-riscv64.sh;
#                                  the native engine, tests/native_qemu.rs)
# Rust itself (cargo, rustfmt, clippy) is expected to be installed already.
set -euo pipefail
missing=()
command -v llvm-mc >/dev/null || missing+=(llvm)
command -v clang >/dev/null || missing+=(clang)
[ -e /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)
command -v qemu-riscv64 >/dev/null || missing+=(qemu-user)
command -v riscv64-linux-gnu-gcc >/dev/null || missing+=(gcc-riscv64-linux-gnu)
[ -x /usr/bin/rustc ] || missing+=(rustc-web)
[ -e /usr/lib/rustlib/src/rust/library/std/Cargo.toml ] || missing+=(rust-web-src)
[ -e /usr/riscv64-linux-gnu/include/stdio.h ] || missing+=(libc6-dev-riscv64-cross)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
