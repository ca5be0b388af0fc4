// SPDX-License-Identifier: MIT
/*
 * reject_stack256: rejected by 5.10 and 6.1. entry's 240-byte stack rounds to
 * 256 (32-byte units) and it calls jump(), a subprogram that tail-calls:
 * "tail_calls are not allowed when call stack of previous frames is 256
 * bytes. Too large" (tailcalls.md 7.4).
 */
#include "common.h"

PROG_ARRAY(jmp_table, 1);

static __noinline int jump(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 5;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile __u64 buf[30];
	int i;

	for (i = 0; i < 30; i++)
		buf[i] = i;
	return jump(skb) + buf[skb->len & 7];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
