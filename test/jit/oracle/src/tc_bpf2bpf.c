// SPDX-License-Identifier: MIT
// tailcalls.md §10.1's shape: entry calls the tail-calling subprogram sub() twice; slot 0 of
// the one-entry prog array holds once_prog, which calls its own sub() once.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jmp_table SEC(".maps");

__u32 cnt_main, cnt_back, cnt_calls, cnt_refused, cnt_target;

static __attribute__((noinline)) int sub(struct __sk_buff *skb)
{
	cnt_calls++;
	bpf_tail_call_static(skb, &jmp_table, 0);
	cnt_refused++;
	return 1;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	int a, b;

	cnt_main++;
	a = sub(skb);
	cnt_back++;
	b = sub(skb);
	cnt_back++;
	return a + b;
}

SEC("tc")
int once_prog(struct __sk_buff *skb)
{
	cnt_target++;
	return sub(skb) + 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
