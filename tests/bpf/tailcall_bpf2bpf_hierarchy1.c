// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_bpf2bpf_hierarchy_1 (catalogue 4.5), also the target of
// the hierarchy_fentry / _fexit / _fentry_fexit scenarios: the tail-call
// budget is ONE counter per top-level run, shared by every bpf2bpf frame.
//
// jmp_table has 1 slot, which the harness fills with `entry` itself.
// subprog_tail: tail call key 0, else return 0.
// entry: count++, subprog_tail(skb) twice, return 1.
//
// Expected:
// * run entry -> retval 1, count 34: the first entry plus one entry per
//   successful tail call (33). Once the budget is spent, every pending
//   subprog_tail call (the second call at each level included) falls
//   through and returns 0, each entry instance returns 1. With a counter
//   per frame, each level would start 2 new chains and the run would not
//   finish.
// * delete key 0, run again -> retval 1, count 35 (.bss is not reset; this
//   run makes no tail call).
// * with fentry and/or fexit on subprog_tail: each entry instance calls
//   subprog_tail twice, so 34 * 2 = 68 firings in the first run and
//   35 * 2 = 70 cumulative after the second run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

int count = 0;

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	int ret = 0;

	barrier_var(ret); // keep "return 0" inside the subprogram
	bpf_tail_call_static(skb, &jmp_table, 0);
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	int ret = 1, first, second;

	count++;
	first = subprog_tail(skb);
	second = subprog_tail(skb);
	// Consume the results opaquely: if they were unused, clang would drop
	// subprog_tail's "r0 = 0" and leave r0 unset at its exit.
	barrier_var(first);
	barrier_var(second);
	barrier_var(ret);
	return ret;
}

char _license[] SEC("license") = "GPL";
