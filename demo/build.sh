#!/usr/bin/env bash
# Rebuilds the demonstration objects embedded in the rvbpf binary.
set -euo pipefail
cd "$(dirname "$0")"
for c in demo demo_trace; do
  clang -O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c "$c.c" -o "$c.o"
done
