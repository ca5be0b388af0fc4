// SPDX-License-Identifier: MIT
/*
 * self_tail: programs that tail-call themselves until the limit stops them.
 *
 * loop_direct counts its runs in direct_runs and tail-calls slot 0 (constant
 * key); loop_indirect counts in indirect_runs and tail-calls the slot in the
 * .bss variable self_key (slot 1 by default, through .data). With the slot
 * holding the program itself, one test run is 1 + 33 runs (tailcalls.md 8.1);
 * the last run falls through and returns its count.
 */
#include "common.h"

PROG_ARRAY(jmp_table, 2);

__u32 direct_runs, indirect_runs;
__u32 self_key = 1;

SEC("tc")
int loop_direct(struct __sk_buff *skb)
{
	direct_runs++;
	bpf_tail_call_static(skb, &jmp_table, 0);
	return direct_runs;
}

SEC("tc")
int loop_indirect(struct __sk_buff *skb)
{
	indirect_runs++;
	bpf_tail_call(skb, &jmp_table, self_key);
	return indirect_runs;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
