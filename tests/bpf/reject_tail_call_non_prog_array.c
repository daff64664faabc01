// SPDX-License-Identifier: MIT OR Apache-2.0
// Verifier rejection (catalogue 4.7 verifier_tailcall, rule 3.2): the map
// argument of bpf_tail_call must be a prog array. Here it is a plain ARRAY
// map, so loading must fail (Linux: "expected prog array map for tail call").
// Twin that must load: any tailcall*.o (same code with a prog array).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} not_a_prog_array SEC(".maps");

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &not_a_prog_array, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
