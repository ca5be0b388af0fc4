// SPDX-License-Identifier: MIT
/*
 * prog_init: a prog array whose slots are filled by the loader (libbpf's
 * `values` initializer in the BTF map definition), not by the scenario.
 *
 * dispatch tail-calls slot skb->len & 3 (indirect); slot 0 = stage_zero
 * (returns 10), slot 2 = stage_two (returns 12), slots 1 and 3 stay empty and
 * dispatch returns 99.
 */
#include "common.h"

int stage_zero(struct __sk_buff *skb);
int stage_two(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct __sk_buff *));
} stages SEC(".maps") = {
	.values = {
		[0] = (void *)&stage_zero,
		[2] = (void *)&stage_two,
	},
};

__u32 dispatched;

SEC("tc")
int dispatch(struct __sk_buff *skb)
{
	dispatched++;
	bpf_tail_call(skb, &stages, skb->len & 3);
	return 99;
}

SEC("tc")
int stage_zero(struct __sk_buff *skb)
{
	return 10;
}

SEC("tc")
int stage_two(struct __sk_buff *skb)
{
	return 12;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
