// SPDX-License-Identifier: MIT
/*
 * verifier_ref_tailcall: the two accepted reference-tracking cases around tail
 * calls of test_verifier (selftests.md 4.2; in 5.10; load-time checks). Both
 * look up a TCP socket (a reference the program must release) and tail-call
 * slot 3 of prog1 only when no reference is held. The rejected cases are
 * verifier_ref_leak_possible and verifier_ref_leak_checked (a rejected program
 * fails the whole object's load, so each has its own object).
 *
 * At run time the lookup with a zeroed tuple finds nothing and slot 3 is
 * empty, so both fall through; the runs only show that the programs load.
 */
#include "selftests.h"

PROG_ARRAY(prog1, 4);

static __always_inline struct bpf_sock *lookup(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};

	return bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple), BPF_F_CURRENT_NETNS, 0);
}

/* "check reference or tail call": release and exit, or tail-call -> accepted. */
SEC("tc")
int check_reference_or_tail_call(struct __sk_buff *skb)
{
	struct bpf_sock *sk = lookup(skb);

	if (sk) {
		bpf_sk_release(sk);
		return 2;
	}
	bpf_tail_call_static(skb, &prog1, 3);
	return 0;
}

/* "release reference then tail call": release if held, then tail-call -> accepted. */
SEC("tc")
int release_reference_then_tail_call(struct __sk_buff *skb)
{
	struct bpf_sock *sk = lookup(skb);

	if (sk)
		bpf_sk_release(sk);
	bpf_tail_call_static(skb, &prog1, 3);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
