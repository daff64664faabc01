#!/bin/sh
# Regenerates tests/data/llvm_mc_table.txt and tests/data/llvm_objdump.txt
# from LLVM 14 (llvm-mc, llvm-objdump must be on PATH). Review the diff.
set -eu
cd "$(dirname "$0")/.."
RV64_BLESS=1 cargo test -p rvbpf-rv64 --test llvm_oracle -- regenerated_
