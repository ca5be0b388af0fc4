// SPDX-License-Identifier: MIT
/*
 * hierarchy3_ramp: not an upstream test. tailcall_bpf2bpf_hierarchy_3
 * (selftests.md 3.20) from a high starting count, so that it finishes on
 * kernels with the by-value counter.
 *
 * classifier_0 and subprog_tail are hierarchy3's (two prog arrays, the map
 * passed as an argument, indirect tail calls). `ramp` tail-calls itself through
 * ramp_table[0] until it has run `ramp_len` times, then tail-calls
 * classifier_0 through ramp_table[1], which starts at count c = ramp_len:
 *   by value (5.10, 6.1): classifier_0 runs 2^(34 - c) - 1 times;
 *   shared (modern):      34 - c times.
 * The outermost classifier_0 returns `count`, so the retval is that number.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table0, 1);
PROG_ARRAY(jmp_table1, 1);
PROG_ARRAY(ramp_table, 2);

int count = 0;
int ramp_runs = 0;
int ramp_len = 30;

static __noinline int subprog_tail(struct __sk_buff *skb, void *jmp_table)
{
	int ret = 0;

	bpf_tail_call(skb, jmp_table, 0);
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count++;
	USED(subprog_tail(skb, &jmp_table0));
	USED(subprog_tail(skb, &jmp_table1));
	return count;
}

SEC("tc")
int ramp(struct __sk_buff *skb)
{
	int ret = 0;

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
