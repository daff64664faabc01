// SPDX-License-Identifier: MIT OR Apache-2.0
// Prog-array compatibility (rule 3.4): all programs reachable through one
// prog array must be of the same type as the programs using it, because a
// tail callee inherits the caller's context. `entry` (tc) owns jmp_table.
//
// Expected (runtime check at map update, not a load failure; the object
// must load):
// * inserting classifier_0 (tc) into slot 0 succeeds; run entry -> 0.
// * inserting xdp_prog (xdp) into slot 1 fails; run entry with slot 0
//   deleted -> 2 (the key-1 attempt falls through: the slot stayed empty).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	return 0;
}

SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	return 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	bpf_tail_call_static(skb, &jmp_table, 1);
	return 2;
}

char _license[] SEC("license") = "GPL";
