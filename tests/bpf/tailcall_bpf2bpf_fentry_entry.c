// SPDX-License-Identifier: MIT OR Apache-2.0
// Tracing object for tailcall_bpf2bpf_fentry_entry (catalogue 4.3): an
// fentry program on the *program entry* classifier_0 of
// tailcall_bpf2bpf2.o, which the harness runs directly (not via entry).
//
// Expected: retval 1, target count 34 (the direct run of classifier_0 plus
// 33 successful tail calls back into it), this object's count 1: a tail
// call enters its callee past the attach point, so fentry fires only for
// the direct entry.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

int count = 0;

SEC("fentry/classifier_0")
int BPF_PROG(fentry_entry, struct __sk_buff *skb)
{
	count++;
	return 0;
}

char _license[] SEC("license") = "GPL";
