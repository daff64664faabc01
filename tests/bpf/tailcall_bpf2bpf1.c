// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_bpf2bpf_1 (catalogue 4.2): a tail call made from inside a
// bpf2bpf subprogram replaces only the subprogram's frame; the tail callee's
// return value becomes the subprogram's return value.
//
// jmp_table has 2 slots: classifier_0 returns 0, classifier_1 returns 1.
// subprog_tail: tail call key 0, else return skb->len * 2.
// entry: tail call key 1, else return subprog_tail(skb).
//
// Expected with pkt_v4 (54 bytes):
// * both slots filled: entry -> c1 -> 1.
// * delete key 1: entry's tail call fails, subprog_tail tail-calls c0,
//   whose 0 is returned by subprog_tail and then by entry -> 0.
// * delete key 0 too: subprog_tail's tail call fails -> 54 * 2 = 108.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	return 0;
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	return 1;
}

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return skb->len * 2;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 1);
	return subprog_tail(skb);
}

char _license[] SEC("license") = "GPL";
