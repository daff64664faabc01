// Tracing programs for the demonstration: attached to the subprogram
// `next_stage` of demo.o. Each runs with its own tail-call budget and must
// not disturb the traced function's budget.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 entered = 0;
__u64 exited = 0;
__u64 last_stage = 0;
__u64 last_ret = 0;

SEC("fentry/next_stage")
int BPF_PROG(on_entry, struct __sk_buff *skb, __u32 stage)
{
	entered++;
	last_stage = stage;
	return 0;
}

SEC("fexit/next_stage")
int BPF_PROG(on_exit, struct __sk_buff *skb, __u32 stage, int ret)
{
	exited++;
	last_ret = ret;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
