// SPDX-License-Identifier: MIT
/*
 * empty_slot: a tail call into an empty slot still counts on 5.10 and 6.1
 * (tailcalls.md 8.3), one with an index past max_entries does not.
 *
 * empty_first tail-calls slot 1 (kept empty) and then slot 0 (itself), both
 * direct: 17 runs per test run on 5.10 and 6.1. oob_first tail-calls index
 * oob_key (9, past max_entries 4; indirect) and then slot 2 (itself): 34 runs.
 */
#include "common.h"

PROG_ARRAY(jmp_table, 4);

__u32 empty_runs, oob_runs;
__u32 oob_key = 9;

SEC("tc")
int empty_first(struct __sk_buff *skb)
{
	empty_runs++;
	bpf_tail_call_static(skb, &jmp_table, 1);
	bpf_tail_call_static(skb, &jmp_table, 0);
	return empty_runs;
}

SEC("tc")
int oob_first(struct __sk_buff *skb)
{
	oob_runs++;
	bpf_tail_call(skb, &jmp_table, oob_key);
	bpf_tail_call_static(skb, &jmp_table, 2);
	return oob_runs;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
