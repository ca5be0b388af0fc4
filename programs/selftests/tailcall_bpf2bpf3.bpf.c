// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf3 (selftests.md 3.9, tailcalls/tailcall_bpf2bpf_3, since 5.10).
 *
 * Stack in subprograms with tail calls: every function keeps a zeroed volatile
 * byte array (128 bytes in programs, 64 in subprograms) so its frame is real.
 * With both slots filled the frames pile up entry (128) + classifier_0 (128,
 * in place of subprog_tail) + subprog_tail2 (64) + classifier_1 (128, in place
 * of subprog_tail2), and classifier_1's skb->len * 3 travels back to entry.
 * The 256-byte rule holds: each tail-calling subprogram has 128 bytes of
 * caller frames above it.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 2);

static __noinline int subprog_tail2(struct __sk_buff *skb)
{
	volatile char arr[64] __attribute__((unused)) = {};

	if (load_word(skb, 0) || load_half(skb, 0))
		bpf_tail_call_static(skb, &jmp_table, 10);
	else
		bpf_tail_call_static(skb, &jmp_table, 1);
	return skb->len;
}

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	volatile char arr[64] __attribute__((unused)) = {};

	bpf_tail_call_static(skb, &jmp_table, 0);
	return skb->len * 2;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	volatile char arr[128] __attribute__((unused)) = {};

	return subprog_tail2(skb);
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	volatile char arr[128] __attribute__((unused)) = {};

	return skb->len * 3;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile char arr[128] __attribute__((unused)) = {};

	return subprog_tail(skb);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
