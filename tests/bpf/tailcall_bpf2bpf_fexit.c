// SPDX-License-Identifier: MIT OR Apache-2.0
// Tracing object for the fexit scenarios (catalogue 4.3 and 4.5): an fexit
// program on `subprog_tail` (argument skb, then the return value) that
// counts how often it fires. Attached like tailcall_bpf2bpf_fentry.o.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

int count = 0;

SEC("fexit/subprog_tail")
int BPF_PROG(fexit, struct __sk_buff *skb, int ret)
{
	count++;
	return 0;
}

char _license[] SEC("license") = "GPL";
