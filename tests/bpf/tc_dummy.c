// SPDX-License-Identifier: MIT OR Apache-2.0
// Target object for tailcall_bpf2bpf_hierarchy_fentry_entry (catalogue 4.5):
// a tc program `entry` that only returns 1. The fentry program of
// tailcall_bpf2bpf_hierarchy_fentry.o is attached to it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int entry(struct __sk_buff *skb)
{
	return 1;
}

char _license[] SEC("license") = "GPL";
