// SPDX-License-Identifier: MIT OR Apache-2.0
// Scenario tailcall_bpf2bpf_hierarchy_fentry_entry (catalogue 4.5): a
// tracing program, run from a trampoline, that itself mixes bpf2bpf calls
// and tail calls. Attached as fentry to `entry` of tc_dummy.o.
//
// jmp_table (this object's own) has 1 slot, which the harness fills with
// the fentry program `fentry` itself.
// subprog_tail(ctx): tail call key 0 with the tracing ctx, else return 0.
// fentry: dirties registers and stack, count++, subprog_tail(ctx) twice,
//         return 0.
//
// Expected, running tc_dummy's entry (the fentry fires once, on direct
// entry):
// * retval 1 (the dummy's), count 34: the trampoline gives the tracing
//   program a fresh budget; the fentry instance plus 33 tail calls back
//   into it, shared across its subprog_tail calls (as in hierarchy_1).
// * delete key 0, run again -> retval 1, count 35.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

int count = 0;

static __noinline int subprog_tail(void *ctx)
{
	int ret = 0;

	barrier_var(ret);
	bpf_tail_call_static(ctx, &jmp_table, 0);
	return ret;
}

SEC("fentry/entry")
int BPF_PROG(fentry, struct __sk_buff *skb)
{
	// Leave junk in stack slots and callee-saved registers, so a runtime
	// that parks tail-call state there is caught.
	volatile __u64 junk[4];
	int first, second;

	junk[0] = -1;
	junk[1] = 33;
	junk[2] = 34;
	junk[3] = -1;
	asm volatile("r6 = -1\n\tr7 = 33\n\tr8 = 34\n\tr9 = -1"
		     ::: "r6", "r7", "r8", "r9");
	count++;
	first = subprog_tail(ctx);
	second = subprog_tail(ctx);
	barrier_var(first);
	barrier_var(second);
	return 0;
}

char _license[] SEC("license") = "GPL";
