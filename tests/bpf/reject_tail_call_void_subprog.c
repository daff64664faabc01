// SPDX-License-Identifier: MIT OR Apache-2.0
// Verifier rejection (rule 3.2): a subprogram (not the entry function) that
// contains a tail call must return an int according to its BTF prototype,
// because the tail callee's return value becomes the subprogram's return
// value. subprog_tail here is `void`, so loading must fail (Linux:
// "tail_call is only allowed in functions that return 'int'").
// Twin that must load: tailcall_bpf2bpf1.o (int-returning subprog_tail).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

static __noinline void subprog_tail(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	// Set r0 anyway, so the only defect is the BTF return type (not an
	// uninitialised r0 at exit).
	asm volatile("r0 = 0" ::: "r0");
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	subprog_tail(skb);
	return 0;
}

char _license[] SEC("license") = "GPL";
