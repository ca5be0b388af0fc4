// SPDX-License-Identifier: MIT
/*
 * calls: bpf2bpf calls two and three levels deep, with stack in every frame.
 *
 * two_levels -> leaf; three_levels -> mid -> leaf, then leaf again, then the
 * global function global_sq. leaf, mid and global_sq sit in .text in that
 * order; libbpf appends them to three_levels as mid, leaf, global_sq (first
 * call first, depth first), to two_levels as leaf only.
 */
#include "common.h"

__u32 leaf_calls;

static __noinline int leaf(int x)
{
	volatile __u32 buf[4];

	leaf_calls++;
	buf[0] = x;
	buf[3] = x * 3;
	return buf[0] + buf[3];
}

static __noinline int mid(int x)
{
	volatile __u64 tmp[3];

	tmp[0] = x;
	tmp[2] = leaf(x + 1);
	return tmp[0] + tmp[2];
}

__noinline int global_sq(int x)
{
	volatile __u32 s = x;

	return s * s;
}

SEC("tc")
int two_levels(struct __sk_buff *skb)
{
	volatile __u32 a[2];

	a[0] = skb->len;
	a[1] = leaf(a[0]);
	return a[1];
}

SEC("tc")
int three_levels(struct __sk_buff *skb)
{
	volatile __u64 b[5];

	b[0] = skb->len;
	b[1] = mid(b[0]);
	b[2] = leaf(2);
	b[3] = global_sq(3);
	return b[1] + b[2] + b[3];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
