// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenarios tailcall_bpf2bpf_4 (noise = 0) and tailcall_bpf2bpf_5
// (noise = 1), catalogue 4.2: a chain of tail calls made from three
// different subprograms, the last one looping on itself. Every tail call
// replaces a subprogram frame, so frames pile up; the budget is shared.
//
// jmp_table has 3 slots: classifier_0, classifier_1, classifier_2.
// subprog_tail:   tail call key 0, else return len
// subprog_tail_1: tail call key 1, else return len * 2
// subprog_tail_2: if noise, look up nop_table (an extra helper call that a
//                 runtime may have to patch around); tail call key 2, else
//                 return len * 3
// classifier_0: return subprog_tail_1(skb)
// classifier_1: return subprog_tail_2(skb)
// classifier_2: count++, return subprog_tail_2(skb)
// entry:        return subprog_tail(skb)
//
// Expected with pkt_v4 (54 bytes), the harness first setting count = 0 and
// noise = 0 or 1: entry -(#1)-> c0 -(#2)-> c1 -(#3)-> c2 [count 1]
// -(#4)-> c2 [count 2] ... -(#33)-> c2 [count 31]; attempt #34 fails,
// subprog_tail_2 returns 54 * 3 = 162, which every frame passes back.
// So retval 162 and count 31 (= 33 - 2 tail calls made before c2), for
// both noise values.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} nop_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

int count = 0;
int noise = 0;

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return skb->len;
}

static __noinline int subprog_tail_1(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 1);
	return skb->len * 2;
}

static __noinline int subprog_tail_2(struct __sk_buff *skb)
{
	if (noise) {
		__u32 key = 0;

		bpf_map_lookup_elem(&nop_table, &key);
	}
	bpf_tail_call_static(skb, &jmp_table, 2);
	return skb->len * 3;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	return subprog_tail_1(skb);
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	return subprog_tail_2(skb);
}

SEC("tc")
int classifier_2(struct __sk_buff *skb)
{
	count++;
	return subprog_tail_2(skb);
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	return subprog_tail(skb);
}

char _license[] SEC("license") = "GPL";
