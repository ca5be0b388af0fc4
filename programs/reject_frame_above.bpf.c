// SPDX-License-Identifier: MIT
/*
 * reject_frame_above: a subprogram frame larger than 256 bytes above a
 * tail-calling subprogram. entry (16 bytes, counts 32) -> big (288 bytes)
 * -> jump (tail-calls): the frames above jump are 32 + 288 = 320 bytes, so
 * 5.10 refuses with "tail_calls are not allowed when call stack of previous
 * frames is 320 bytes. Too large".
 */
#include "common.h"

PROG_ARRAY(jmp_table, 1);

static __noinline int jump(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 5;
}

static __noinline int big(struct __sk_buff *skb)
{
	volatile __u64 buf[36];
	int i;

	for (i = 0; i < 36; i++)
		buf[i] = i;
	return jump(skb) + buf[skb->len & 7];
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile __u64 e[2];

	e[0] = skb->len;
	e[1] = big(skb);
	return e[0] + e[1];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
