// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_bpf2bpf_hierarchy_3 (catalogue 4.5): one subprogram
// tail-calls through whichever prog array it is handed as an argument; two
// arrays point at the same program. The budget is shared by both.
//
// jmp_table0[0] = jmp_table1[0] = classifier_0 (static initialisation).
// subprog_tail(skb, table): tail call table[0], else return 0.
// classifier_0: count++, subprog_tail(skb, &jmp_table0),
//               subprog_tail(skb, &jmp_table1), return count.
// entry: tail call jmp_table0[0], else return 0.
//
// Expected: retval 33 and count 33. entry -(#1)-> c0 [count 1]
// -> subprog_tail(table0) -(#2)-> c0 [2] ... -(#33)-> c0 [33]; from then on
// every subprog_tail call, with table0 or table1 and at every level, fails;
// each c0 returns the global count, which is 33 by the time any of them
// returns. (A counter per frame would retry table1 at every level and not
// finish in practice.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int classifier_0(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table0 SEC(".maps") = {
	.values = {
		[0] = (void *)&classifier_0,
	},
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table1 SEC(".maps") = {
	.values = {
		[0] = (void *)&classifier_0,
	},
};

int count = 0;

// The prog array arrives in a register (R2), not as a constant map load.
static __noinline int subprog_tail(struct __sk_buff *skb, void *table)
{
	int ret = 0;

	barrier_var(ret);
	bpf_tail_call(skb, table, 0);
	return ret;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	int first, second;

	count++;
	first = subprog_tail(skb, &jmp_table0);
	second = subprog_tail(skb, &jmp_table1);
	// Consume the results opaquely so subprog_tail keeps its "r0 = 0".
	barrier_var(first);
	barrier_var(second);
	return count;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table0, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
