// SPDX-License-Identifier: MIT OR Apache-2.0
// Verifier rule 3.1 (call depth): a chain of bpf2bpf calls with
// 9 frames (entry + 8 nested calls): one more than MAX_CALL_FRAMES = 8, loading must fail (Linux: "the call stack of 9 frames is too deep").
// Each depth_K adds K to the result so no call can be folded away.
// If run (only the 8-frame twin loads): retval = len + 1 + 2 + ... + 8.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline int depth_8(__u32 x)
{
	return x + 8;
}

static __noinline int depth_7(__u32 x)
{
	return depth_8(x) + 7;
}

static __noinline int depth_6(__u32 x)
{
	return depth_7(x) + 6;
}

static __noinline int depth_5(__u32 x)
{
	return depth_6(x) + 5;
}

static __noinline int depth_4(__u32 x)
{
	return depth_5(x) + 4;
}

static __noinline int depth_3(__u32 x)
{
	return depth_4(x) + 3;
}

static __noinline int depth_2(__u32 x)
{
	return depth_3(x) + 2;
}

static __noinline int depth_1(__u32 x)
{
	return depth_2(x) + 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	return depth_1(skb->len); // frame 1 of 9
}

char _license[] SEC("license") = "GPL";
