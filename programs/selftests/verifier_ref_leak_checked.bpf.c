// SPDX-License-Identifier: MIT
/*
 * verifier_ref_leak_checked: test_verifier "leak checked reference over tail
 * call" (selftests.md 4.2): after checking the socket is non-NULL the program
 * tail-calls while holding it -> rejected, "tail_call would lead to reference
 * leak". Also the 5.10 form of tailcall_failure's reject_tail_call_ref
 * (selftests.md 3.23), whose reference comes from bpf_obj_new (6.2 and later).
 */
#include "selftests.h"

PROG_ARRAY(prog1, 4);

SEC("tc")
int leak_checked_reference(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;

	sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	bpf_tail_call_static(skb, &prog1, 0);
	bpf_sk_release(sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
