// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_1 (catalogue 4.1): plain tail calls, several call sites
// per key, no subprograms.
//
// jmp_table has 3 slots; classifier_N returns N. entry tries key 0 four
// times, then key 1 four times, then key 2 four times, and returns 3 when
// every attempt fell through. Every call site is a separate instruction
// sequence, so a runtime that patches/caches call sites must handle all.
//
// Expected (harness in tests/scenarios_tailcall.rs):
// * slots 0..2 = classifier_0..2. For i in 0..3: run -> i (the first
//   populated key wins; keys < i were deleted), then delete key i.
// * all deleted: run -> 3 (every tail call falls through).
// * refill normally: run -> 0.
// * refill reversed (slot i = classifier_{2-i}): for i in 0..3: run -> 2-i,
//   delete key i. Then run -> 3.
// * deleting keys 0..2 again fails (not found); run -> 3.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
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

SEC("tc")
int classifier_2(struct __sk_buff *skb)
{
	return 2;
}

// Four separate call sites for the same constant key.
#define TRY_FOUR_TIMES(skb, key)                          \
	do {                                              \
		bpf_tail_call_static(skb, &jmp_table, key); \
		bpf_tail_call_static(skb, &jmp_table, key); \
		bpf_tail_call_static(skb, &jmp_table, key); \
		bpf_tail_call_static(skb, &jmp_table, key); \
	} while (0)

SEC("tc")
int entry(struct __sk_buff *skb)
{
	TRY_FOUR_TIMES(skb, 0);
	TRY_FOUR_TIMES(skb, 1);
	TRY_FOUR_TIMES(skb, 2);
	return 3;
}

char _license[] SEC("license") = "GPL";
