// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf_hierarchy3 (selftests.md 3.20, RUN_TESTS program
 * tailcall_bpf2bpf_hierarchy_3, since 6.12 (unverified)).
 *
 * Two prog arrays, each with classifier_0 in slot 0. classifier_0 counts and
 * calls subprog_tail twice, once with each map; the map is an argument that
 * differs between the call sites, so subprog_tail's tail call is indirect.
 * The main program tail-calls into classifier_0 (count 1 there). Shared
 * counter: classifier_0 runs 33 times and the outermost returns count 33.
 * By value (5.10, 6.1): N(1) = 2^33 - 1 runs, in practice a stalled CPU;
 * hierarchy3_ramp.bpf.c shows the arithmetic from a higher count.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table0, 1);
PROG_ARRAY(jmp_table1, 1);

int count = 0;

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
int tailcall_bpf2bpf_hierarchy_3(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
