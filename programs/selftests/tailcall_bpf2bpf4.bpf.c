// SPDX-License-Identifier: MIT
/*
 * tailcall_bpf2bpf4 (selftests.md 3.10): the object of tailcalls/tailcall_bpf2bpf_4
 * (since 5.10, noise 0) and tailcall_bpf2bpf_5 (since 5.14, noise 1; see
 * tailcall_bpf2bpf5.json).
 *
 * The count is carried across mixed bpf2bpf and tail calls:
 * entry -> subprog_tail => classifier_0 -> subprog_tail_1 => classifier_1 ->
 * subprog_tail_2 => classifier_2 -> subprog_tail_2 => classifier_2 ...
 * (=> a tail call). The first two tail calls reach programs that do not count;
 * the other 31 reach classifier_2, which counts. The last subprog_tail_2 fails
 * and returns skb->len * 3, which every frame passes back: 162 for 54 bytes.
 *
 * With `noise` set, subprog_tail_2 first looks up nop_table (a plain array the
 * 5.10 verifier inlines into several instructions), which moves its tail call
 * instruction: the poke descriptors must follow it.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 3);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} nop_table SEC(".maps");

int count = 0;
int noise = 0;

static __always_inline int subprog_noise(void)
{
	__u32 key = 0;

	bpf_map_lookup_elem(&nop_table, &key);
	return 0;
}

static __noinline int subprog_tail_2(struct __sk_buff *skb)
{
	if (noise)
		subprog_noise();
	bpf_tail_call_static(skb, &jmp_table, 2);
	return skb->len * 3;
}

static __noinline int subprog_tail_1(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 1);
	return skb->len * 2;
}

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &jmp_table, 0);
	return skb->len;
}

SEC("tc")
int classifier_1(struct __sk_buff *skb)
{
	return subprog_tail_2(skb);
}

SEC("tc")
int classifier_2(struct __sk_buff *skb)
{
	count++;
	return subprog_tail_2(skb);
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	return subprog_tail_1(skb);
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	return subprog_tail(skb);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
