// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_4 (catalogue 4.1): the key comes from a global that the
// harness sets between runs, so the tail call is indirect.
//
// jmp_table has 3 slots; classifier_N returns N. entry tail-calls key
// `selector`, else returns 3.
//
// Expected:
// * for i in 0..3: selector = i, run -> i.
// * for i in 0..3: delete key i, selector = i, run -> 3.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

// Written by the harness (global, so the compiler cannot assume its value).
int selector = 0;

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

SEC("tc")
int classifier_2(struct __sk_buff *skb)
{
	return 2;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, selector);
	return 3;
}

char _license[] SEC("license") = "GPL";
