// SPDX-License-Identifier: MIT OR Apache-2.0
// Verifier rule 3.1 (combined stack): the stack sizes of all frames along a
// call chain are added up and must not exceed 512 bytes (MAX_BPF_STACK).
// entry uses 128 bytes and calls stack_a (64 bytes), which calls stack_b
// (64 bytes) -- exact sizes, see stack_use.h; no tail calls involved.
// Total 256 bytes (also <= 512 after rounding each frame up to 32): must load; run with pkt_v4 -> 54 + 1 + 2 = 57.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "stack_use.h"

static __noinline int stack_b(__u32 x)
{
	USE_STACK(64);
	return x + 2;
}

static __noinline int stack_a(__u32 x)
{
	USE_STACK(64);
	return stack_b(x) + 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	USE_STACK(128);
	return stack_a(skb->len);
}

char _license[] SEC("license") = "GPL";
