// SPDX-License-Identifier: MIT OR Apache-2.0
// Verifier rule 3.1 (combined stack): the stack sizes of all frames along a
// call chain are added up and must not exceed 512 bytes (MAX_BPF_STACK).
// entry uses 256 bytes and calls stack_a (192 bytes), which calls stack_b
// (128 bytes) -- exact sizes, see stack_use.h; no tail calls involved.
// Total 576 bytes > 512: loading must fail (Linux: "combined stack size of 3 calls is 576. Too large").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "stack_use.h"

static __noinline int stack_b(__u32 x)
{
	USE_STACK(128);
	return x + 2;
}

static __noinline int stack_a(__u32 x)
{
	USE_STACK(192);
	return stack_b(x) + 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	USE_STACK(256);
	return stack_a(skb->len);
}

char _license[] SEC("license") = "GPL";
