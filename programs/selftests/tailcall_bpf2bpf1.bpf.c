// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf1 (selftests.md 3.7, tailcalls/tailcall_bpf2bpf_1, since 5.10).
 *
 * A tail call from a subprogram that also reads the context: entry tail-calls
 * slot 1 itself, then calls subprog_tail, which tail-calls slot 0 and
 * otherwise returns skb->len * 2. A successful tail call from the subprogram
 * replaces only the subprogram's frame: classifier_0's 0 comes back to entry
 * as subprog_tail's result.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 2);

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	return 0;
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	return 1;
}

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return skb->len * 2;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 1);
	return subprog_tail(skb);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
