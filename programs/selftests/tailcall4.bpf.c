// SPDX-License-Identifier: MIT
/*
 * tailcall4 (selftests.md 3.4, tailcalls/tailcall_4, since 5.5).
 *
 * An indirect tail call: the key is the .bss global `selector`, which the
 * verifier cannot know, so the JIT loads the target from the array at run
 * time. classifier_i returns i; an empty slot falls through to 3.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 3);

int selector = 0;

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	return 0;
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	return 1;
}

SEC("tc")
int classifier_2(struct __sk_buff *skb)
{
	return 2;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, selector);
	return 3;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
