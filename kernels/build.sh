#!/usr/bin/env bash
# Rebuilds the committed kernel objects from kernels.c with one clang (14),
# -O2 on every side, so native and BPF code come from the same optimiser:
#
#   kernels.bpf.o             BPF, one program per kernel in "raw/<name>"
#   kernels.rv64gc.o          native RV64GC
#   kernels.rv64gc_zba_zbb.o  native RV64GC + Zba + Zbb
#
# Native objects use -mno-relax so the assembler resolves intra-section
# branches and calls itself; what is left (pc-relative constant-pool loads)
# is resolved by the measurement harness's small linker
# (crates/jit/benches/kernels_support/native.rs).
set -euo pipefail
cd "$(dirname "$0")"
clang -O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu \
  -c kernels.c -o kernels.bpf.o
for march in rv64gc rv64gc_zba_zbb; do
  clang -O2 --target=riscv64-unknown-linux-gnu -march="$march" -mabi=lp64d \
    -mno-relax -ffreestanding -fno-builtin -nostdlib \
    -c kernels.c -o "kernels.$march.o"
done
