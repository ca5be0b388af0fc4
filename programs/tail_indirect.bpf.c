// SPDX-License-Identifier: MIT
/*
 * tail_indirect: tail calls whose key the verifier cannot know (indirect form).
 *
 * by_global tail-calls the slot in the .bss variable next_slot and returns 100
 * if that falls through; by_packet tail-calls slot skb->len & 3 and returns
 * 200 on fall-through. ret_one/ret_two/ret_three return 1/2/3.
 */
#include "common.h"

PROG_ARRAY(jmp_table, 4);

__u32 next_slot;
__u32 calls;

SEC("tc")
int by_global(struct __sk_buff *skb)
{
	calls++;
	bpf_tail_call(skb, &jmp_table, next_slot);
	return 100;
}

SEC("tc")
int by_packet(struct __sk_buff *skb)
{
	calls++;
	bpf_tail_call(skb, &jmp_table, skb->len & 3);
	return 200;
}

SEC("tc")
int ret_one(struct __sk_buff *skb)
{
	return 1;
}

SEC("tc")
int ret_two(struct __sk_buff *skb)
{
	return 2;
}

SEC("tc")
int ret_three(struct __sk_buff *skb)
{
	return 3;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
