// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf_hierarchy1 (selftests.md 3.16, tailcalls/tailcall_bpf2bpf_hierarchy_1,
 * since 6.12 (unverified)).
 *
 * entry counts its runs and calls subprog_tail twice; subprog_tail tail-calls
 * slot 0, which holds entry itself. With one counter shared by the whole run
 * (modern kernels) entry runs 34 times. With the 5.10/6.1 by-value counter
 * every call starts its own chain from the caller's count: N(c) = 1 + 2 N(c + 1),
 * N(33) = 1, so 2^34 - 1 runs of entry before the test run returns, in
 * practice a stalled CPU (selftests.md 2). hierarchy1_ramp.bpf.c runs the same
 * entry from a high starting count so the arithmetic finishes on those kernels.
 *
 * The newest upstream entry first calls bpf_strtoul only to clobber registers
 * and stack; tc programs cannot call it on 5.10, and it changes no expected
 * value, so it is left out.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);

int count = 0;

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	int ret = 0;

	bpf_tail_call_static(skb, &jmp_table, 0);
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	int ret = 1;

	count++;
	USED(subprog_tail(skb));
	USED(subprog_tail(skb));
	OPAQUE(ret);
	return ret;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
