// SPDX-License-Identifier: MIT
/*
 * hierarchy1_ramp: not an upstream test. The arithmetic of
 * tailcall_bpf2bpf_hierarchy_1 (selftests.md 2 and 3.16/3.17) from a high
 * starting count, so that it finishes on kernels with the by-value counter.
 *
 * entry and subprog_tail are those of
 * tailcall_bpf2bpf_hierarchy_fentry_fexit.bpf.c (hierarchy1 plus the
 * fentry/fexit counters). `ramp` tail-calls itself through ramp_table[0] until
 * it has run `ramp_len` times, then tail-calls entry through ramp_table[1]:
 * entry starts at count c = ramp_len (ramp's k-th run has count k - 1, and the
 * tail call to entry adds one). From there:
 *   by value (5.10, 6.1): entry runs N(c) = 2^(34 - c) - 1 times, subprog_tail
 *     is called (fentry_count) and returns (fexit_count) 2 N(c) times;
 *   shared (modern):      entry runs 34 - c times, 2 (34 - c) calls.
 * ramp_len 30 gives 15 (by value) and 4 (shared); ramp_len 33 gives 1 and 1;
 * ramp_len 34 makes the tail call to entry fail at the limit: 0 runs.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);
PROG_ARRAY(ramp_table, 2);

int count = 0;
int fentry_count = 0;
int fexit_count = 0;
int ramp_runs = 0;
int ramp_len = 30;

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	int ret = 0;

	fentry_count++;
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
	fexit_count++;
	USED(subprog_tail(skb));
	fexit_count++;
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int ramp(struct __sk_buff *skb)
{
	int ret = 2;

	ramp_runs++;
	if (ramp_runs < ramp_len)
		bpf_tail_call_static(skb, &ramp_table, 0);
	else
		bpf_tail_call_static(skb, &ramp_table, 1);
	/* Reached only when the limit stops the ramp. */
	OPAQUE(ret);
	return ret;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
