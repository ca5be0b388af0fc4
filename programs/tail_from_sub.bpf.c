// SPDX-License-Identifier: MIT
/*
 * tail_from_sub: tail calls made from subprograms, three levels deep, with
 * stack in every frame.
 *
 * entry -> middle -> deep, where deep tail-calls slot 0 (constant key: direct);
 * then entry -> hop, which tail-calls the slot in the .bss variable hop_slot
 * (indirect). A taken tail call replaces the subprogram's frame: target's 1000
 * comes back to the caller of the subprogram. Fall-through values: deep returns
 * skb->len + 1, hop returns 7; middle adds 1 to what deep gave.
 */
#include "common.h"

PROG_ARRAY(jmp_table, 4);

__u32 hop_slot = 1;
__u32 target_runs, deep_runs;

static __noinline int deep(struct __sk_buff *skb)
{
	volatile __u32 d[4];

	deep_runs++;
	d[1] = skb->len;
	bpf_tail_call_static(skb, &jmp_table, 0);
	return d[1] + 1;
}

static __noinline int middle(struct __sk_buff *skb)
{
	volatile __u64 m[2];

	m[0] = deep(skb);
	return m[0] + 1;
}

static __noinline int hop(struct __sk_buff *skb, __u32 key)
{
	volatile __u32 s[2];
	int ret = 7;

	s[0] = key;
	bpf_tail_call(skb, &jmp_table, s[0]);
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile __u64 e[2];

	e[0] = middle(skb);
	e[1] = hop(skb, hop_slot);
	return e[0] + e[1];
}

SEC("tc")
int target(struct __sk_buff *skb)
{
	target_runs++;
	return 1000;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
