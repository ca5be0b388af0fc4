// SPDX-License-Identifier: MIT
/*
 * tailcall5 (selftests.md 3.5, tailcalls/tailcall_5, since 5.5).
 *
 * A key that is a constant on every path but a different one per path
 * (0, 1 or 2 chosen by `selector`): the verifier sees several constants at
 * the one tail call instruction, poisons the key, and the call is indirect.
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
	int key = 0;

	if (selector == 1234)
		key = 1;
	else if (selector == 5678)
		key = 2;
	bpf_tail_call(skb, &jmp_table, key);
	return 3;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
