// SPDX-License-Identifier: MIT OR Apache-2.0
// Tracing object for the fentry scenarios (catalogue 4.3 and 4.5): an fentry
// program on `subprog_tail` that counts how often it fires. Attached to the
// subprog_tail of tailcall_bpf2bpf2.o (tailcall_bpf2bpf_fentry,
// _fentry_fexit) and of tailcall_bpf2bpf_hierarchy1.o (hierarchy_fentry,
// hierarchy_fentry_fexit). The expected counts are in those targets' headers
// and in tests/bpf/README.md.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

int count = 0;

SEC("fentry/subprog_tail")
int BPF_PROG(fentry, struct __sk_buff *skb)
{
	count++;
	return 0;
}

char _license[] SEC("license") = "GPL";
