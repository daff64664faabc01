#!/bin/sh
# Builds the native harness.
#
# Usage: native/build.sh [--pie] OUTPUT_PATH
# Environment: CC (default riscv64-linux-gnu-gcc).
#
# Default: a static riscv64 Linux executable, so qemu-riscv64 runs it
# without a riscv64 sysroot. --pie: a dynamically linked position-
# independent executable instead, which qemu loads far above 2^36 (run it
# with `qemu-riscv64 -L SYSROOT`); sandboxed cases need that, because a
# static executable sits at 0x10000, inside the range masked JIT code can
# reach (the toolchain has no static-pie start files).
set -eu
link=-static
if [ "${1:-}" = "--pie" ]; then
    link="-fPIE -pie"
    shift
fi
out=${1:?usage: $0 [--pie] OUTPUT_PATH}
here=$(dirname "$0")
cc=${CC:-riscv64-linux-gnu-gcc}
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2086 # $link is two words on purpose
exec "$cc" $link -O2 -std=c11 -Wall -Wextra -Werror \
    -o "$out" "$here/harness.c" -lm
