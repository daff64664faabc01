// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_bpf2bpf_6 (catalogue 4.2): the caller of a tail-calling
// subprogram has a stack size that is not a multiple of 8 (a 1-byte array).
// A runtime that keeps tail-call state next to the BPF stack must not
// miscompute its offset in that case (the x86 bug fixed by ff672c67ee76).
//
// jmp_table has 1 slot holding classifier_0.
// entry: 1-byte volatile stack array, return subprog_tail(skb)
// subprog_tail: ret = 1 (hidden from the optimiser), tail call key 0,
//   else return ret
// classifier_0: done = 1, return 0
//
// Expected: run entry -> retval 0 (classifier_0 replaced subprog_tail, so
// its 0 is what entry returns), done 1.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

int done = 0;

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	volatile int ret = 1;

	bpf_tail_call_static(skb, &jmp_table, 0);
	return ret;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	done = 1;
	return 0;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile char odd_sized[1] = {};

	(void)odd_sized[0];
	return subprog_tail(skb);
}

char _license[] SEC("license") = "GPL";
