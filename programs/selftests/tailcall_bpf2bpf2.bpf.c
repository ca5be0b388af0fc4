// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf2 (selftests.md 3.8, tailcalls/tailcall_bpf2bpf_2, since 5.10).
 *
 * The limit counted through a subprogram: classifier_0 counts its runs and
 * calls subprog_tail, which tail-calls slot 0 (direct) when packet byte 0 is
 * zero, slot 1 (past max_entries, so indirect and always failing) otherwise.
 * The packet is zeroed, so the chain is entry => classifier_0 -> subprog_tail
 * => classifier_0 ...: 33 classifier_0 runs, retval 1. The chain is linear, so
 * a by-value and a shared counter agree.
 *
 * The kernel reuses this object for tailcall_bpf2bpf_fentry_entry (3.14): see
 * tailcall_bpf2bpf_fentry_entry.json.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);

int count = 0;

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	int ret = 1;

	if (load_byte(skb, 0))
		bpf_tail_call_static(skb, &jmp_table, 1);
	else
		bpf_tail_call_static(skb, &jmp_table, 0);
	/* The value must travel back through the call, not be folded by clang. */
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	count++;
	return subprog_tail(skb);
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
