// SPDX-License-Identifier: MIT
/*
 * tailcall3 (selftests.md 3.3, tailcalls/tailcall_3, since 5.5).
 *
 * The tail call limit through a direct jump: classifier_0 counts its runs and
 * tail-calls itself through slot 0. entry's tail call is the first of the 33
 * that succeed, so classifier_0 runs 33 times and the last one returns 1.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);

int count = 0;

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count++;
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
