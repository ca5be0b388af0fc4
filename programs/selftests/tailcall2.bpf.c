// SPDX-License-Identifier: MIT
/*
 * tailcall2 (selftests.md 3.2, tailcalls/tailcall_2, since 5.5).
 *
 * Several programs with a direct call site for one slot, a chain and the limit:
 * entry -> 0 -> 1 -> 2 while all slots are filled (2); with slot 2 empty
 * classifier_1 falls through (1); with slot 0 empty too, entry's tail calls to
 * 0 and 2 fail and the one to 3 starts a 3 <-> 4 ping-pong that the limit stops
 * in classifier_3 (3). The last answer depends on the parity of the failed
 * attempts that count (an implementation counting one of the two gives 4).
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 5);

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 1);
	return 0;
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 2);
	return 1;
}

SEC("tc")
int classifier_2(struct __sk_buff *skb)
{
	return 2;
}

SEC("tc")
int classifier_3(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 4);
	return 3;
}

SEC("tc")
int classifier_4(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 3);
	return 4;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	bpf_tail_call_static(skb, &jmp_table, 2);
	bpf_tail_call_static(skb, &jmp_table, 3);
	return 3;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
