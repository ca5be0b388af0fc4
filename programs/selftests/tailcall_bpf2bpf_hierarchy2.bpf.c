// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf_hierarchy2 (selftests.md 3.19, RUN_TESTS program
 * tailcall_bpf2bpf_hierarchy_2, since 6.12 (unverified)).
 *
 * The main program calls two subprograms, each of which starts a chain:
 * subprog_tail0 tail-calls slot 0 (classifier_0, which counts in count0 and
 * calls subprog_tail0 again), subprog_tail1 slot 1 (classifier_1, count1,
 * subprog_tail1). The main program returns (count1 << 16) | count0.
 * Shared counter (modern): the first chain uses the whole budget, 33 and 0,
 * retval 33. By-value counter (5.10, 6.1): each chain starts from the main
 * program's count 0, 33 and 33, retval 0x00210021.
 *
 * Upstream fills the two slots at load time (a prog array with initial
 * values); the scenario fills them with `set` steps, the same map updates.
 * The bpf_strtoul "clobber" call of the newest upstream version is left out
 * (not available to tc programs on 5.10; changes no expected value).
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 2);

int count0 = 0;
int count1 = 0;

static __noinline int subprog_tail0(struct __sk_buff *skb)
{
	int ret = 0;

	bpf_tail_call_static(skb, &jmp_table, 0);
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count0++;
	USED(subprog_tail0(skb));
	return 0;
}

static __noinline int subprog_tail1(struct __sk_buff *skb)
{
	int ret = 0;

	bpf_tail_call_static(skb, &jmp_table, 1);
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	count1++;
	USED(subprog_tail1(skb));
	return 0;
}

SEC("tc")
int tailcall_bpf2bpf_hierarchy_2(struct __sk_buff *skb)
{
	USED(subprog_tail0(skb));
	USED(subprog_tail1(skb));
	return (count1 << 16) | count0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
