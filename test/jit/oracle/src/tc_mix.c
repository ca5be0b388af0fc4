// SPDX-License-Identifier: MIT
// tailcalls.md §10.3's shape: stacks that are not a multiple of 8, helper calls in
// tail-call-reachable functions, direct, out-of-range-constant and indirect tail calls in one
// subprogram, two exits in one function, the verifier's over-marking walk; plus a direct self
// tail call with a stack and all of r6-r9 live.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

__u32 key_var = 1;
__u32 rare;
__u64 acc;

static __attribute__((noinline)) int e(struct __sk_buff *skb)
{
	return bpf_ktime_get_ns() & 1;
}

static __attribute__((noinline)) int d(struct __sk_buff *skb)
{
	return e(skb) + 1;
}

static __attribute__((noinline)) int c(struct __sk_buff *skb)
{
	return skb->len & 3;
}

static __attribute__((noinline)) int b(struct __sk_buff *skb)
{
	return c(skb) + 2;
}

static __attribute__((noinline)) int x(struct __sk_buff *skb)
{
	volatile __u32 buf[3];

	buf[0] = bpf_get_prandom_u32();
	buf[1] = skb->len;
	if (rare == 12345)
		return 77;
	bpf_tail_call_static(skb, &progs, 3);
	bpf_tail_call_static(skb, &progs, 9);
	bpf_tail_call(skb, &progs, key_var);
	buf[2] = buf[0] + buf[1];
	return buf[2] & 7;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile __u32 v[3];

	v[0] = d(skb);
	v[1] = x(skb);
	v[2] = b(skb);
	return v[0] + v[1] + v[2] + (bpf_ktime_get_ns() & 1);
}

SEC("tc")
int big224(struct __sk_buff *skb)
{
	volatile __u64 big[28];

	big[0] = skb->len;
	big[27] = x(skb);
	return big[0] + big[27];
}

SEC("tc")
int target(struct __sk_buff *skb)
{
	return 1000;
}

SEC("tc")
int self_loop(struct __sk_buff *skb)
{
	volatile __u64 s[2];
	__u64 a = skb->len, b2 = skb->protocol, c2 = skb->mark, d2 = skb->priority;

	s[0] = a * 3;
	s[1] = b2 ^ c2;
	acc += s[0] + s[1] + d2;
	bpf_tail_call_static(skb, &progs, 2);
	return a + b2 + c2 + d2 + s[0];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
