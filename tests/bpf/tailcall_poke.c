// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_poke (catalogue 4.4), as a userspace concurrency test:
// one thread keeps rewriting slot 0 of jmp_table (call1, call2, call1, ...)
// while other threads load fresh instances of this object / compile `test`
// and run it.
//
// The Linux original uses fentry programs on a kernel function and a pinned
// map; we have neither, so call1/call2/test are tc programs sharing one prog
// array. Linux only checks that every load succeeds; we additionally give
// call1 and call2 distinct return values so each run of `test` can be
// checked.
//
// jmp_table has 1 slot. call1 returns 1, call2 returns 2.
// test: constant-key tail call to slot 0, else return 0.
//
// Expected: every load succeeds (10 of them in the Linux test), no crash or
// deadlock; every run of `test` returns 1 or 2 while a program is in the
// slot (0 only if the slot is empty).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

SEC("tc")
int call1(struct __sk_buff *skb)
{
	return 1;
}

SEC("tc")
int call2(struct __sk_buff *skb)
{
	return 2;
}

SEC("tc")
int test(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
