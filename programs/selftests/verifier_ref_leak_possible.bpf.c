// SPDX-License-Identifier: MIT
/*
 * verifier_ref_leak_possible: test_verifier "leak possible reference over tail
 * call" (selftests.md 4.2): the tail call happens while the possibly-NULL
 * socket reference is still held -> rejected, "tail_call would lead to
 * reference leak".
 */
#include "selftests.h"

PROG_ARRAY(prog1, 4);

SEC("tc")
int leak_possible_reference(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;

	sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple), BPF_F_CURRENT_NETNS, 0);
	bpf_tail_call_static(skb, &prog1, 3);
	if (sk)
		bpf_sk_release(sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
