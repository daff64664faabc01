// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_bpf2bpf_hierarchy_2 (catalogue 4.5): two subprograms of
// the same program each start a tail-call loop; the first one spends the
// whole budget, so the second one's tail call fails immediately.
//
// jmp_table is initialised statically from the object: slot 0 =
// classifier_0, slot 1 = classifier_1 (no harness updates).
// subprog_tail0: tail call key 0, else return 0.
// subprog_tail1: tail call key 1, else return 0.
// classifier_0: count0++, return subprog_tail0(skb).
// classifier_1: count1++, return subprog_tail1(skb).
// entry: subprog_tail0(skb); subprog_tail1(skb);
//        return (count1 << 16) | count0.
//
// Expected: retval 33, i.e. count0 33 and count1 0. subprog_tail0's chain
// makes tail calls #1..#33 (c0 runs 33 times); afterwards the budget is
// spent, so subprog_tail1's attempt fails and c1 never runs. (A counter per
// frame would give (33 << 16) | 33.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int classifier_0(struct __sk_buff *skb);
int classifier_1(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = {
		[0] = (void *)&classifier_0,
		[1] = (void *)&classifier_1,
	},
};

int count0 = 0;
int count1 = 0;

static __noinline int subprog_tail0(struct __sk_buff *skb)
{
	int ret = 0;

	barrier_var(ret);
	bpf_tail_call_static(skb, &jmp_table, 0);
	return ret;
}

static __noinline int subprog_tail1(struct __sk_buff *skb)
{
	int ret = 0;

	barrier_var(ret);
	bpf_tail_call_static(skb, &jmp_table, 1);
	return ret;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count0++;
	return subprog_tail0(skb);
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	count1++;
	return subprog_tail1(skb);
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	subprog_tail0(skb);
	subprog_tail1(skb);
	return (count1 << 16) | count0;
}

char _license[] SEC("license") = "GPL";
