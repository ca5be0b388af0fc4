// SPDX-License-Identifier: MIT
/*
 * reject_combined: two frames of 304 bytes each (320 in 32-byte units) on one
 * path: 640 > 512, "combined stack size of 2 calls is 640. Too large"
 * (tailcalls.md 7.4).
 */
#include "common.h"

static __noinline int heavy(int x)
{
	volatile __u64 buf[38];
	int i;

	for (i = 0; i < 38; i++)
		buf[i] = x + i;
	return buf[x & 7];
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile __u64 buf[38];
	int i;

	for (i = 0; i < 38; i++)
		buf[i] = i;
	return heavy(skb->len) + buf[skb->len & 7];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
