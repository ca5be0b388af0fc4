// SPDX-License-Identifier: MIT
/*
 * tail_direct: tail calls with constant keys (the JIT's patched, direct form).
 *
 * entry tail-calls slot 0 and returns 1 if that falls through; target0
 * tail-calls slot 1 and returns 10 if that falls through; target1 returns 20.
 * Every program counts its runs in .bss.
 */
#include "common.h"

PROG_ARRAY(jmp_table, 4);

__u32 entry_runs, target0_runs, target1_runs, fallthrough;

SEC("tc")
int entry(struct __sk_buff *skb)
{
	entry_runs++;
	bpf_tail_call_static(skb, &jmp_table, 0);
	fallthrough++;
	return 1;
}

SEC("tc")
int target0(struct __sk_buff *skb)
{
	target0_runs++;
	bpf_tail_call_static(skb, &jmp_table, 1);
	return 10;
}

SEC("tc")
int target1(struct __sk_buff *skb)
{
	target1_runs++;
	return 20;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
