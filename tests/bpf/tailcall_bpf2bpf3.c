// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_bpf2bpf_3 (catalogue 4.2): tail calls from subprograms
// that use a non-trivial amount of stack (caller frame + subprogram frame
// stay below the 256-byte limit for tail-calling subprograms).
//
// Stack use (exact, see stack_use.h): entry, classifier_0, classifier_1 zero
// 128-byte arrays; subprog_tail (static) and subprog_tail2 (global) zero
// 64-byte arrays.
// jmp_table has 2 slots: classifier_0, classifier_1.
// entry: return subprog_tail(skb)        (128 + 64 = 192 bytes < 256)
// subprog_tail: tail call key 0, else return len * 2
// classifier_0: return subprog_tail2(skb)
// subprog_tail2: if the first 32-bit word or first 16-bit half-word of the
//   packet is non-zero, tail call key 10 (out of range), else key 1;
//   then return len
// classifier_1: return len * 3
//
// Expected with pkt_v4 (54 bytes; its first 4 bytes, the destination MAC,
// are zero, so subprog_tail2 uses key 1):
// * both slots filled: entry -> subprog_tail -> c0 -> subprog_tail2 -> c1
//   -> 54 * 3 = 162.
// * delete key 1: subprog_tail2's tail call fails, it returns len -> 54.
// * delete key 0 too: subprog_tail's tail call fails -> 54 * 2 = 108.
// Extra (ours): with a packet whose first byte is non-zero and both slots
// filled, subprog_tail2 takes the out-of-range key 10 and returns len.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "stack_use.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	USE_STACK(64);
	bpf_tail_call_static(skb, &jmp_table, 0);
	return skb->len * 2;
}

__noinline int subprog_tail2(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	USE_STACK(64);

	if (data + 4 > data_end)
		return skb->len;
	if (*(__u32 *)data || *(__u16 *)data)
		bpf_tail_call_static(skb, &jmp_table, 10);
	else
		bpf_tail_call_static(skb, &jmp_table, 1);
	return skb->len;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	USE_STACK(128);
	return subprog_tail2(skb);
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	USE_STACK(128);
	return skb->len * 3;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	USE_STACK(128);
	return subprog_tail(skb);
}

char _license[] SEC("license") = "GPL";
