// SPDX-License-Identifier: MIT OR Apache-2.0
// Verifier rule 3.1 (tail calls + bpf2bpf): when a subprogram that contains
// a tail call is entered, the frames above it may use at most 255 bytes of
// stack, because each tail call keeps the callers' frames alive (up to 33
// times). entry uses 256 bytes (exact, see stack_use.h) and calls
// subprog_tail (no stack), which tail-calls slot 0. The combined size stays
// below 512, so only the tail-call rule can decide.
// 256 bytes: loading must fail (Linux: "tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "stack_use.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return skb->len;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	USE_STACK(256);
	return subprog_tail(skb);
}

char _license[] SEC("license") = "GPL";
