// The built-in demonstration of `rvbpf` (run with no arguments).
//
// A packet pipeline whose stages are chained with tail calls made from a
// bpf2bpf subprogram, so calls and tail calls mix:
//
//   entry ──call──▶ next_stage(0) ──tail call──▶ parse
//   parse ──call──▶ next_stage(1) ──tail call──▶ filter
//   filter ─call──▶ next_stage(2) ──tail call──▶ count
//   count ──call──▶ next_stage(2) ──tail call──▶ count ... (loops on itself)
//
// One run has a budget of 33 successful tail calls, shared by every frame:
// #1 parse, #2 filter, #3..#33 count (31 visits). The 34th attempt fails,
// so the innermost next_stage returns its stage number (2), every frame
// returns it upward, and entry returns 100 + 2 = 102. next_stage runs 34 times.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int parse(struct __sk_buff *skb);
int filter(struct __sk_buff *skb);
int count(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} stages SEC(".maps") = {
	.values = { [0] = (void *)&parse, [1] = (void *)&filter, [2] = (void *)&count },
};

__u64 visits_parse = 0;
__u64 visits_filter = 0;
__u64 visits_count = 0;
__u32 hops = 0;

static __attribute__((noinline)) int next_stage(struct __sk_buff *skb, __u32 stage)
{
	/* volatile: keeps clang from assuming the call returns `stage`; after a
	 * successful tail call the caller gets the tail-called program's r0. */
	volatile int fallback = stage;

	hops++;
	bpf_tail_call(skb, &stages, stage);
	return fallback; /* only reached when the tail call fails */
}

SEC("tc")
int parse(struct __sk_buff *skb)
{
	visits_parse++;
	bpf_printk("parse: packet of %d bytes", skb->len);
	return next_stage(skb, 1);
}

SEC("tc")
int filter(struct __sk_buff *skb)
{
	visits_filter++;
	bpf_printk("filter: accepted");
	return next_stage(skb, 2);
}

SEC("tc")
int count(struct __sk_buff *skb)
{
	visits_count++;
	return next_stage(skb, 2);
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	return 100 + next_stage(skb, 0);
}

char LICENSE[] SEC("license") = "GPL";
