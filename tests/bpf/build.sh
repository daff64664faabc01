#!/bin/sh
# Rebuilds every BPF fixture in this directory: tests/bpf/X.c -> tests/bpf/X.o.
# The .o files are committed so the Rust tests need no clang; rerun this after
# editing a .c file and commit both. Requires clang (14+) and libbpf-dev.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
for src in *.c; do
	obj="${src%.c}.o"
	echo "CC  $obj"
	"$CLANG" -O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu \
		-Wall -Werror -c "$src" -o "$obj"
done
