// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf_hierarchy_fentry_fexit: the facts of
 * tailcalls/tailcall_bpf2bpf_hierarchy_fentry, _fexit and _fentry_fexit
 * (selftests.md 3.17, since 6.12 (unverified)), observed through globals.
 *
 * The kernel test attaches fentry/fexit programs to subprog_tail of the
 * hierarchy1 object and expects (modern kernels) count 34 and 68 calls seen by
 * each tracing program, then 35 / 70 / 70 after the slot is emptied. Here
 * `fentry_count` is bumped where subprog_tail starts and `fexit_count` after
 * each call of it returns in entry; otherwise the program is hierarchy1's. On
 * 5.10/6.1 the first run does not finish (2^34 - 1 runs of entry).
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 1);

int count = 0;
int fentry_count = 0;
int fexit_count = 0;

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	int ret = 0;

	fentry_count++;
	bpf_tail_call_static(skb, &jmp_table, 0);
	OPAQUE(ret);
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	int ret = 1;

	count++;
	USED(subprog_tail(skb));
	fexit_count++;
	USED(subprog_tail(skb));
	fexit_count++;
	OPAQUE(ret);
	return ret;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
