// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_2 (catalogue 4.1): tail-call chains and a 3<->4
// ping-pong that pins the limit of exactly 33 successful tail calls.
//
// jmp_table has 5 slots, filled with classifier_0..4:
//   classifier_0: tail call key 1, else return 0
//   classifier_1: tail call key 2, else return 1
//   classifier_2: return 2
//   classifier_3: tail call key 4, else return 3
//   classifier_4: tail call key 3, else return 4
//   entry:        tail call key 0; key 2; key 3; else return 3
//
// Expected:
// * all filled: entry -> c0 -> c1 -> c2 returns 2.
// * delete key 2: entry -> c0 -> c1, whose tail call fails -> 1.
// * delete key 0 too: entry's key-0 and key-2 attempts fail, key 3 goes to
//   c3 (successful tail call #1), c3 -> c4 (#2), c4 -> c3 (#3), ... odd
//   numbers land in c3, so #33 lands in c3; its attempt #34 fails -> 3.
//   (A limit of 32 or 34 would end in c4 and give 4.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 5);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 1);
	return 0;
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 2);
	return 1;
}

SEC("tc")
int classifier_2(struct __sk_buff *skb)
{
	return 2;
}

SEC("tc")
int classifier_3(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 4);
	return 3;
}

SEC("tc")
int classifier_4(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 3);
	return 4;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	bpf_tail_call_static(skb, &jmp_table, 2);
	bpf_tail_call_static(skb, &jmp_table, 3);
	return 3;
}

char _license[] SEC("license") = "GPL";
