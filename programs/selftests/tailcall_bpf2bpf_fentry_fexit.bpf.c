// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf_fentry_fexit: the facts of tailcalls/tailcall_bpf2bpf_fentry,
 * _fexit and _fentry_fexit (selftests.md 3.13, since 6.7), observed through
 * globals instead of tracing programs.
 *
 * The kernel test attaches fentry and/or fexit programs to classifier_0's
 * subprog_tail in the tailcall_bpf2bpf2 object and expects each to count 33
 * (classifier_0 runs 33 times, each calls subprog_tail once). A scenario cannot
 * attach tracing programs, so this is tailcall_bpf2bpf2 with two counters:
 * `fentry_count` is bumped where subprog_tail starts (what an fentry program
 * sees) and `fexit_count` where the call to it returns in classifier_0 (what
 * an fexit program sees: every call of subprog_tail returns, through the
 * frame of the program its tail call reached). What this does not re-create
 * is the trampoline itself, which clobbered the count carried in rax before
 * 6.7 (selftests.md 0.3).
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);

int count = 0;
int fentry_count = 0;
int fexit_count = 0;

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	int ret = 1;

	fentry_count++;
	if (load_byte(skb, 0))
		bpf_tail_call_static(skb, &jmp_table, 1);
	else
		bpf_tail_call_static(skb, &jmp_table, 0);
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	int ret;

	count++;
	ret = subprog_tail(skb);
	fexit_count++;
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
