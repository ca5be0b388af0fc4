// SPDX-License-Identifier: MIT
/*
 * sub_twice: a program that calls a tail-calling subprogram twice
 * (tailcalls.md 10.1 and 8.2).
 *
 * sub() counts cnt_calls, tail-calls slot 0 (direct) and, when that falls
 * through, counts cnt_refused and returns 1. entry counts cnt_main, calls
 * sub(), counts cnt_back, calls sub() again, counts cnt_back and returns the
 * sum. once_prog counts cnt_target, calls sub() once and returns its result
 * plus 1. With slot 0 = once_prog each of entry's calls starts its own chain
 * of 33 tail calls (the count travels by value): 66 once_prog runs, 68 sub
 * calls, retval 68 on 5.10 and 6.1.
 */
#include "common.h"

PROG_ARRAY(jmp_table, 1);

__u32 cnt_main, cnt_back, cnt_calls, cnt_refused, cnt_target;

static __noinline int sub(struct __sk_buff *skb)
{
	int ret = 1;

	cnt_calls++;
	bpf_tail_call_static(skb, &jmp_table, 0);
	cnt_refused++;
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	int a, b;

	cnt_main++;
	a = sub(skb);
	cnt_back++;
	b = sub(skb);
	cnt_back++;
	return a + b;
}

SEC("tc")
int once_prog(struct __sk_buff *skb)
{
	int r;

	cnt_target++;
	r = sub(skb);
	return r + 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
