// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_3 (catalogue 4.1): a program tail-calling itself through
// a constant key until the budget is spent.
//
// jmp_table has 1 slot holding classifier_0. classifier_0: count++, tail
// call key 0, else return 1. entry: tail call key 0, else return 0.
//
// Expected:
// * run entry -> retval 1, count 33: entry -> c0 is successful tail call #1,
//   then c0 -> c0 #2..#33, so c0 runs 33 times; its 34th attempt falls
//   through and c0 returns 1.
// * delete key 0, run -> retval 0 (entry's tail call fails).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

int count = 0;

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count++;
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
