// SPDX-License-Identifier: MIT
/*
 * tailcall6 (selftests.md 3.6, tailcalls/tailcall_6, between 5.14 and 6.0).
 *
 * tailcall3 through an indirect jump: the key is the .bss global `which`
 * (always 0), read at run time, so every tail call loads its target from the
 * array. Expected as tailcall3: 33 classifier_0 runs, retval 1.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);

int count = 0;
int which = 0;

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count++;
	bpf_tail_call(skb, &jmp_table, which);
	return 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, which);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
