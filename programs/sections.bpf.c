// SPDX-License-Identifier: MIT
/*
 * sections: program types by section name, several programs per section, and
 * one .text subprogram shared by programs of different types.
 *
 * tc: tc_first (returns 1 + scale(len)) and tc_second (2 + scale(len));
 * classifier: cls_legacy (3); xdp: xdp_pass (XDP_PASS = 2, counting in .bss);
 * socket: sock_keep (keeps scale(len) / 2 bytes). scale(x) = 2 * x, behind a
 * stack slot so clang keeps the call.
 */
#include "common.h"

__u32 xdp_runs;

static __noinline __u32 scale(__u32 x)
{
	volatile __u32 v = x;

	return v * 2;
}

SEC("tc")
int tc_first(struct __sk_buff *skb)
{
	return 1 + scale(skb->len);
}

SEC("tc")
int tc_second(struct __sk_buff *skb)
{
	return 2 + scale(skb->len);
}

SEC("classifier")
int cls_legacy(struct __sk_buff *skb)
{
	return 3;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	xdp_runs++;
	return XDP_PASS;
}

SEC("socket")
int sock_keep(struct __sk_buff *skb)
{
	return scale(skb->len) / 2;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
