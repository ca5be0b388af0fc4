// SPDX-License-Identifier: MIT
/*
 * reject_depth: a chain of nine functions (entry and f1..f8), one frame more
 * than MAX_CALL_FRAMES (8): "the call stack of 9 frames is too deep"
 * (tailcalls.md 7.4). No tail call is involved.
 */
#include "common.h"

#define LINK(name, next)                       \
	static __noinline int name(int x)      \
	{                                      \
		volatile int v = x + 1;        \
		return next(v) + 1;            \
	}

static __noinline int f8(int x)
{
	volatile int v = x;

	return v * 2;
}
LINK(f7, f8)
LINK(f6, f7)
LINK(f5, f6)
LINK(f4, f5)
LINK(f3, f4)
LINK(f2, f3)
LINK(f1, f2)

SEC("tc")
int entry(struct __sk_buff *skb)
{
	return f1(skb->len);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
