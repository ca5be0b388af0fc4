// SPDX-License-Identifier: MIT
/*
 * tailcall1 (selftests.md 3.1, test_progs tailcalls/tailcall_1, since 5.5).
 *
 * Text patching of direct tail calls: entry has twelve direct tail calls,
 * four per slot, slot 0 first; every slot change patches four call sites
 * (nop -> jmp, jmp -> nop, jmp -> jmp when a slot is retargeted). The first
 * filled slot in call order wins; with all three empty entry returns 3.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 3);

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
	bpf_tail_call_static(skb, &jmp_table, 0);
	bpf_tail_call_static(skb, &jmp_table, 0);
	bpf_tail_call_static(skb, &jmp_table, 0);
	bpf_tail_call_static(skb, &jmp_table, 0);

	bpf_tail_call_static(skb, &jmp_table, 1);
	bpf_tail_call_static(skb, &jmp_table, 1);
	bpf_tail_call_static(skb, &jmp_table, 1);
	bpf_tail_call_static(skb, &jmp_table, 1);

	bpf_tail_call_static(skb, &jmp_table, 2);
	bpf_tail_call_static(skb, &jmp_table, 2);
	bpf_tail_call_static(skb, &jmp_table, 2);
	bpf_tail_call_static(skb, &jmp_table, 2);

	return 3;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
