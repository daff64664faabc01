#!/bin/sh
# Builds the native harness: a static riscv64 Linux executable, so
# qemu-riscv64 runs it without a riscv64 sysroot.
#
# Usage: native/build.sh OUTPUT_PATH
# Environment: CC (default riscv64-linux-gnu-gcc).
set -eu
out=${1:?usage: $0 OUTPUT_PATH}
here=$(dirname "$0")
cc=${CC:-riscv64-linux-gnu-gcc}
mkdir -p "$(dirname "$out")"
exec "$cc" -static -O2 -std=c11 -Wall -Wextra -Werror \
    -o "$out" "$here/harness.c" -lm
