// SPDX-License-Identifier: MIT OR Apache-2.0
// USE_STACK(n): give the current function exactly n bytes of BPF stack
// (n a multiple of 8), all written. Handing the buffer's address to an
// empty asm makes it escape, so clang can neither shrink the array nor drop
// the zeroing stores; clang expands the memset into n/8 u64 stores.
#ifndef RVBPF_TESTS_STACK_USE_H
#define RVBPF_TESTS_STACK_USE_H

#define USE_STACK(n)                                        \
	char stack_buf[n];                                  \
	__builtin_memset(stack_buf, 0, n);                  \
	asm volatile("" ::"r"(stack_buf) : "memory")

#endif
