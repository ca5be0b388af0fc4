// SPDX-License-Identifier: MIT
/*
 * stack224: the largest caller stack the 5.10 verifier lets reach a
 * tail-calling subprogram: 224 bytes round to 224 (32-byte units), below 256
 * (tailcalls.md 7.4). reject_stack256 is the same with 240 bytes.
 *
 * entry fills a 224-byte stack array, calls jump() (which tail-calls slot 0
 * and returns 5 when that falls through) and returns jump() + buf[len & 7].
 */
#include "common.h"

PROG_ARRAY(jmp_table, 1);

__u32 jumps;

static __noinline int jump(struct __sk_buff *skb)
{
	int ret = 5;

	jumps++;
	bpf_tail_call_static(skb, &jmp_table, 0);
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile __u64 buf[28];
	int i;

	for (i = 0; i < 28; i++)
		buf[i] = i;
	return jump(skb) + buf[skb->len & 7];
}

SEC("tc")
int landing(struct __sk_buff *skb)
{
	return 500;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
