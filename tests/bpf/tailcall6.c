// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_6 (catalogue 4.1): tailcall_3 with a key read from a
// global (`which`, always 0) so the tail call cannot be treated as a
// constant-key (direct) call.
//
// Expected: run -> retval 1, count 33 (entry -> c0 is #1, c0 -> c0 #2..#33,
// the 34th attempt fails, c0 returns 1). Delete key 0, run -> retval 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

int count = 0;
int which = 0;

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count++;
	bpf_tail_call(skb, &jmp_table, which);
	return 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, which);
	return 0;
}

char _license[] SEC("license") = "GPL";
