// SPDX-License-Identifier: MIT OR Apache-2.0
// Ours, not a Linux selftest: failed tail calls must not consume the budget
// (spec section 1.4 / takeaway 2: count only successful transfers, as
// x86-64/arm64 since 2024 and the interpreter since 2026 do).
//
// jmp_table has 2 slots: slot 0 = classifier_0, slot 1 stays empty.
// classifier_0: count++, tail call key 1 (empty: fails), tail call key 0,
//               else return 1.
// entry: tail call key 1 (fails), tail call key 0, else return 0.
//
// Expected: retval 1, count 33, 33 successful tail calls (entry -> c0 is #1,
// c0 -> c0 #2..#33). If each failed attempt on the empty slot also used up
// budget, attempts would alternate fail/succeed from the start, the k-th c0
// run would need attempt 2k <= 33, and c0 would run only 16 times.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

int count = 0;

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count++;
	bpf_tail_call_static(skb, &jmp_table, 1);
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 1);
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
