// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_5 (catalogue 4.1): one tail-call site whose key is a
// constant on every path but a different constant per path. A runtime must
// not treat the site as "known constant key" (no single direct target).
//
// jmp_table has 3 slots; classifier_N returns N. entry maps the global
// selector to a key: 1234 -> 1, 5678 -> 2, anything else -> 0; then makes a
// single tail call with that key, else returns 3.
//
// Expected (selector values 1111, 1234, 5678 select keys 0, 1, 2):
// * for (i, sel) in [(0,1111),(1,1234),(2,5678)]: selector = sel, run -> i.
// * for the same pairs: delete key i, selector = sel, run -> 3.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

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
	__u32 key;

	if (selector == 1234)
		key = 1;
	else if (selector == 5678)
		key = 2;
	else
		key = 0;
	// Keep a single call site: stop clang from duplicating the call into
	// each branch with a constant key.
	barrier_var(key);
	bpf_tail_call(skb, &jmp_table, key);
	return 3;
}

char _license[] SEC("license") = "GPL";
