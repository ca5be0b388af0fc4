// SPDX-License-Identifier: MIT
/*
 * verifier_tailcall_stack240: verifier_tailcall "tail call from subprog with 240 bytes of
 * caller stack" (selftests.md 4.4; newer kernels): a tc program stores 8 bytes at
 * r10 - 240, so its stack depth is 240, and calls a subprogram that tail-calls.
 * The 256-byte rule counts the caller frames above a tail-calling subprogram;
 * 5.10 rounds each frame up to 32 bytes, so 240 counts as 256 and the load
 * fails with "tail_calls are not allowed when call stack of previous frames is
 * 256 bytes. Too large". Kernels that round JIT-ed frames to 16 (about 6.9,
 * unverified) accept 240 and still reject 256.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);

static __noinline __attribute__((used)) int subprog_tail(struct __sk_buff *skb)
{
	int ret = 0;

	bpf_tail_call_static(skb, &jmp_table, 0);
	OPAQUE(ret);
	return ret;
}

/* In assembly so that the store lands at exactly r10 - 240. */
SEC("tc")
__attribute__((naked)) void caller_stack_240(void)
{
	asm volatile("r2 = 1;"
		     "*(u64 *)(r10 - 240) = r2;"
		     "call subprog_tail;"
		     "r0 = 0;"
		     "exit;"
		     ::: "memory");
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
