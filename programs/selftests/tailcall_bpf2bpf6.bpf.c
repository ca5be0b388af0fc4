// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf6 (selftests.md 3.11, tailcalls/tailcall_bpf2bpf_6, since 5.19).
 *
 * The counter's place when the caller's stack depth is not a multiple of 8:
 * entry has a 1-byte stack (a zeroed volatile byte), so before calling
 * subprog_tail the JIT must read the count at rbp - round_up(1, 8) - 8. The
 * original 5.10 JIT read rbp - 1 - 8, so the subprogram got a count made of
 * stack garbage and its tail call could fail (retval 1, done 0). Fixed in
 * 5.19 and in 5.10.y (so in 5.10.223): classifier_0 runs, done 1, retval 0.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);

int done = 0;

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	done = 1;
	return 0;
}

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	/* On the stack so the subprogram has a frame and clang cannot fold the 1. */
	volatile int ret = 1;

	bpf_tail_call_static(skb, &jmp_table, 0);
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile char arr[1] __attribute__((unused)) = {};

	return subprog_tail(skb);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
