// SPDX-License-Identifier: MIT
/*
 * Loop-heavy programs for bench/emu-loop.ts and bench/emu-perf.ts: alu_loop is 10000 rounds of
 * a 32-bit LCG (no memory access in the C loop, but the 5.10 JIT's BPF_MUL saves rax around
 * `mul` with push/pop, so one store per round), store_loop 10000 read-modify-writes of a .bss
 * array (unicorn 2.0.1's slow store path); ret_zero does nothing, for the fixed cost of a run.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define N 10000

__u64 buf[8];

SEC("tc")
int alu_loop(struct __sk_buff *skb)
{
	__u32 acc = skb->len;

#pragma clang loop unroll(disable)
	for (int i = 0; i < N; i++) {
		acc = acc * 1103515245 + 12345;
		acc ^= acc >> 7;
	}
	return acc;
}

SEC("tc")
int store_loop(struct __sk_buff *skb)
{
#pragma clang loop unroll(disable)
	for (int i = 0; i < N; i++)
		buf[i & 7] += i;
	return buf[1];
}

SEC("tc")
int ret_zero(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
