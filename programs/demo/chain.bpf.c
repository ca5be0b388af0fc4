// SPDX-License-Identifier: MIT
/*
 * The demo of `tailjit demo`: a tail call chain that starts in a subprogram
 * and runs into the limit, twice (tailcalls.md 8.1, 8.2).
 *
 * hop() keeps a 16-byte frame, counts hop_calls, tail-calls slot 0 (constant
 * key: direct) and, when that falls through, counts refused and returns 1.
 * entry calls hop() twice; slot 0 holds link, which counts link_runs, calls
 * hop() once and adds 1. Each taken tail call replaces hop's frame with link's,
 * and link's call of hop() nests one frame deeper. On 5.10 and 6.1 the count
 * travels by value: each of entry's calls starts a chain of its own from 0,
 * 33 tail calls each: 66 link runs, 68 hop calls, 2 refused, retval 2 * 34.
 */
#include "../common.h"

PROG_ARRAY(jmp_table, 1);

__u32 entry_runs, hop_calls, link_runs, refused;

static __noinline int hop(struct __sk_buff *skb)
{
	volatile __u64 frame[2];
	int ret = 1;

	frame[0] = skb->len;
	frame[1] = ++hop_calls;
	bpf_tail_call_static(skb, &jmp_table, 0);
	refused++;
	OPAQUE(ret);
	return ret + ((frame[0] ^ frame[1]) & 0);
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	int a, b;

	entry_runs++;
	a = hop(skb);
	b = hop(skb);
	return a + b;
}

SEC("tc")
int link(struct __sk_buff *skb)
{
	link_runs++;
	return hop(skb) + 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
