// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_bpf2bpf_2 (catalogue 4.2): a program that re-enters
// itself through a tail call made in a subprogram. Each tail call replaces
// the subprogram's frame, so the run nests one classifier_0 frame per
// iteration; the budget of 33 must be shared across all of them. Also the
// target object of the fentry/fexit scenarios (catalogue 4.3), which attach
// to subprog_tail.
//
// jmp_table has 1 slot holding classifier_0.
// subprog_tail: if the first packet byte is non-zero tail call key 1 (out of
//   range, always fails), else key 0; return 1.
// classifier_0: count++, return subprog_tail(skb).
// entry: tail call key 0, else return 0.
//
// Expected with 128 zero bytes (first byte 0 -> key 0):
// * run entry -> retval 1, count 33: entry -> c0 is tail call #1, each c0
//   calls subprog_tail which tail-calls c0 again (#2..#33), so c0 runs 33
//   times; in the 33rd c0 the attempt #34 fails, subprog_tail returns 1 and
//   every nested c0/subprog_tail returns that 1.
// * delete key 0, run -> retval 0 (entry's tail call fails).
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
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u8 *first = data;
	int ret = 1;

	// Hide the constant from clang: otherwise it propagates "returns 1"
	// into the callers and drops the subprogram's r0 = 1.
	barrier_var(ret);
	if ((void *)(first + 1) > data_end)
		return ret;
	if (*first)
		bpf_tail_call_static(skb, &jmp_table, 1);
	else
		bpf_tail_call_static(skb, &jmp_table, 0);
	return ret;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count++;
	return subprog_tail(skb);
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
