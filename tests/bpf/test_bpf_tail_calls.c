// SPDX-License-Identifier: MIT OR Apache-2.0
// The tail-call tests #0..#9 of Linux lib/test_bpf.c (catalogue 4.8),
// rewritten as ordinary C programs.
//
// Linux builds these as raw instruction arrays that bypass the verifier and
// run with R1 = NULL (#0..#5) or R1 = &state (#6..#9). rvbpf verifies every
// program, and a verifier does not let a context pointer be used as a
// number, so here R1 always points to a u32 `state` word in the run's
// context buffer (4 bytes, initially 0) and the running value of #0..#3 is
// kept in that word instead of in R1. Chain structure and results are the
// same. These programs use section "test_bpf" (no packet context).
//
// tail_call_table has 11 slots (one per test plus slot 10, always empty),
// initialised statically: slot i = tail_call_i. A test's "own index + off"
// targets are written as constants.
//
// | #  | program      | what it does                                  | expected         |
// | 0  | tail_call_0  | return state + 1                              | ret 1            |
// | 1  | tail_call_1  | state += 2, tail call #0, else return -1      | ret 3            |
// | 2  | tail_call_2  | state += 3, tail call #1, else return -1      | ret 6            |
// | 3  | tail_call_3  | state += 4, tail call #2, else return -1      | ret 10           |
// | 4  | tail_call_4  | stores 1, 2 to a 32-byte stack, reads back    | ret 0            |
// | 5  | tail_call_5  | fills its 16-byte stack, tail call #4         | ret 0            |
// | 6  | tail_call_6  | state += 1, tail call itself, return 0        | state 34 per run |
// | 7  | tail_call_7  | #6 plus helper/kfunc calls before the tail call | state 34 per run |
// | 8  | tail_call_8  | state += 1, tail call slot 10 (empty)         | state 1 per run  |
// | 9  | tail_call_9  | state += 1, tail call slot 11 (out of range)  | state 1 per run  |
//
// For #0..#5 the state starts at 0 every run (ret 1 = 0 + 1; 3 = 2 + 1;
// 6 = 3 + 2 + 1; 10 = 4 + 3 + 2 + 1). For #6..#9 the harness keeps the same
// state across 1000 runs, as Linux does: 34 per run for #6/#7 (the first
// entry plus 33 successful tail calls; the 34th attempt falls through), so
// 34 * 1000 = 34000; 1 per run for #8/#9, so 1000.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NTESTS 10

// Registered by the runtime's tests: clobbers as many registers as it can.
extern void rvbpf_test_clobber(void) __ksym;

#define DECLARE_TEST(n) int tail_call_##n(__u32 *state)
DECLARE_TEST(0);
DECLARE_TEST(1);
DECLARE_TEST(2);
DECLARE_TEST(3);
DECLARE_TEST(4);
DECLARE_TEST(5);
DECLARE_TEST(6);
DECLARE_TEST(7);
DECLARE_TEST(8);
DECLARE_TEST(9);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NTESTS + 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} tail_call_table SEC(".maps") = {
	.values = {
		[0] = (void *)&tail_call_0,
		[1] = (void *)&tail_call_1,
		[2] = (void *)&tail_call_2,
		[3] = (void *)&tail_call_3,
		[4] = (void *)&tail_call_4,
		[5] = (void *)&tail_call_5,
		[6] = (void *)&tail_call_6,
		[7] = (void *)&tail_call_7,
		[8] = (void *)&tail_call_8,
		[9] = (void *)&tail_call_9,
		// [NTESTS] stays empty.
	},
};

// #0 "Tail call leaf".
SEC("test_bpf")
int tail_call_0(__u32 *state)
{
	return *state + 1;
}

// #1 "Tail call 2".
SEC("test_bpf")
int tail_call_1(__u32 *state)
{
	*state += 2;
	bpf_tail_call_static(state, &tail_call_table, 0);
	return -1;
}

// #2 "Tail call 3".
SEC("test_bpf")
int tail_call_2(__u32 *state)
{
	*state += 3;
	bpf_tail_call_static(state, &tail_call_table, 1);
	return -1;
}

// #3 "Tail call 4".
SEC("test_bpf")
int tail_call_3(__u32 *state)
{
	*state += 4;
	bpf_tail_call_static(state, &tail_call_table, 2);
	return -1;
}

// #4 "Tail call load/store leaf": a 32-byte stack; values stored must read
// back unchanged. Returns 0 when they do, 1 otherwise.
SEC("test_bpf")
int tail_call_4(__u32 *state)
{
	volatile __u64 slots[4];

	slots[0] = 1;
	slots[1] = 2;
	slots[2] = 3;
	slots[3] = 4;
	if (slots[0] != 1 || slots[1] != 2 || slots[2] != 3 || slots[3] != 4)
		return 1;
	return 0;
}

// #5 "Tail call load/store": uses its own 16-byte stack, then tail-calls
// #4, which must get a usable frame of its own.
SEC("test_bpf")
int tail_call_5(__u32 *state)
{
	volatile __u64 slots[2];

	slots[0] = 0x5555555555555555ULL;
	slots[1] = 0xaaaaaaaaaaaaaaaaULL;
	(void)slots[1];
	bpf_tail_call_static(state, &tail_call_table, 4);
	return -1;
}

// #6 "Tail call error path, max count reached".
SEC("test_bpf")
int tail_call_6(__u32 *state)
{
	*state += 1;
	bpf_tail_call_static(state, &tail_call_table, 6);
	return 0;
}

// #7 "Tail call count preserved across function calls": like #6, but the
// context pointer is spilled to the stack and several helpers and a
// register-clobbering kfunc run before the tail call. A runtime that keeps
// the tail-call counter in a caller-saved register must preserve it.
SEC("test_bpf")
int tail_call_7(__u32 *state)
{
	__u32 *volatile spilled = state;

	bpf_get_smp_processor_id();
	bpf_ktime_get_ns();
	bpf_get_prandom_u32();
	rvbpf_test_clobber();
	state = spilled;
	*state += 1;
	bpf_tail_call_static(state, &tail_call_table, 7);
	return 0;
}

// #8 "Tail call error path, NULL target".
SEC("test_bpf")
int tail_call_8(__u32 *state)
{
	*state += 1;
	bpf_tail_call_static(state, &tail_call_table, NTESTS);
	return 0;
}

// #9 "Tail call error path, index out of range".
SEC("test_bpf")
int tail_call_9(__u32 *state)
{
	*state += 1;
	bpf_tail_call_static(state, &tail_call_table, NTESTS + 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
