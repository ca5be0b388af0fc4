// SPDX-License-Identifier: MIT
/*
 * test_bpf_tailcalls: the tail call suite of lib/test_bpf.c (selftests.md 5.1;
 * a kernel module since 5.15, not in 5.10), as ten socket filter programs.
 *
 * test_bpf builds raw instruction arrays that bypass the verifier and its own
 * prog array: program i in slot i of n + 1 = 11 slots, slot 10 empty, index 11
 * out of range. Each program is run 1000 times (the scenario's repeat). Its
 * tail calls are the bare tail call instruction, which the JIT always compiles
 * as indirect. To keep that under the verifier, every key here is computed from
 * the .bss global `zero` (always 0), which the verifier cannot know.
 *
 * The programs are written in BPF assembly (naked functions), as close to the
 * raw arrays as the verifier allows. Where it does not allow them, the same
 * fact is observed another way:
 *  - tests 0-3 accumulate a number in r1, the context, which is 0 in test_bpf;
 *    a verified program's r1 is the skb, so the number travels in skb->cb[0]
 *    instead (it survives tail calls like r1 does). cb[0] may survive from one
 *    repetition of a test run to the next, so the leaf, which ends every
 *    chain, sets it back to 0.
 *  - tests 6-9 count in an int that r1 points to; here each has its own .bss
 *    counter (state_*), kept across the 1000 runs as in test_bpf. When the
 *    last tail call fails they return that counter.
 *  - tests 4 and 5 declare stack depths 32 and 16 but touch only fp-8 and
 *    fp-16 (4) or fp-8 (5); the verifier computes the depth from the accesses,
 *    so each also zeroes its lowest slot (fp-32, fp-16) to get the same depth
 *    and so the same JIT frame.
 *  - test 7 calls six helpers that clobber the caller-saved registers.
 *    test_bpf's are the NUMA node id, three clocks, jiffies and a kernel test
 *    function that formats numbers into a buffer; a socket filter on 5.10 has
 *    no coarse clock (5.11) and no such test function, so this one calls the
 *    monotonic clock in its place and bpf_trace_printk (which formats three
 *    numbers) for the test function.
 */
#include <stddef.h>
#include "selftests.h"

PROG_ARRAY(jmp_table, 11);

__u32 zero = 0;
__u32 state_max_count = 0;
__u32 state_helpers = 0;
__u32 state_null = 0;
__u32 state_range = 0;

static const char fmt[] = "%d %d %d";

/* r1 must hold the context; clobbers r0-r5. */
#define TAIL_CALL(index)                                  \
	"r2 = %[jmp_table] ll;"                           \
	"r3 = %[zero] ll;"                                \
	"r3 = *(u32 *)(r3 + 0);"                          \
	"r3 += " #index ";"                               \
	"call %[bpf_tail_call];"

#define CB0 "%[cb0]"

#define ASM_ARGS                                                        \
	[jmp_table] "i"(&jmp_table), [zero] "i"(&zero),                 \
	[cb0] "i"(offsetof(struct __sk_buff, cb[0])),                   \
	[bpf_tail_call] "i"(BPF_FUNC_tail_call)

/* 0, "Tail call leaf": r0 = r1 + 1 -> 1. */
SEC("socket")
__attribute__((naked)) void tail_call_leaf(void)
{
	asm volatile(
		"r2 = *(u32 *)(r1 + " CB0 ");"
		"r0 = r2;"
		"r0 += 1;"
		"r2 = 0;"
		"*(u32 *)(r1 + " CB0 ") = r2;"
		"exit;"
		:
		: ASM_ARGS
		: "memory");
}

/* 1, "Tail call 2": r1 += 2; tail call test 0; else -1 -> 3. */
SEC("socket")
__attribute__((naked)) void tail_call_2(void)
{
	asm volatile(
		"r2 = *(u32 *)(r1 + " CB0 ");"
		"r2 += 2;"
		"*(u32 *)(r1 + " CB0 ") = r2;"
		TAIL_CALL(0)
		"r0 = -1;"
		"exit;"
		:
		: ASM_ARGS
		: "memory");
}

/* 2, "Tail call 3": r1 += 3; tail call test 1 -> 6. */
SEC("socket")
__attribute__((naked)) void tail_call_3(void)
{
	asm volatile(
		"r2 = *(u32 *)(r1 + " CB0 ");"
		"r2 += 3;"
		"*(u32 *)(r1 + " CB0 ") = r2;"
		TAIL_CALL(1)
		"r0 = -1;"
		"exit;"
		:
		: ASM_ARGS
		: "memory");
}

/* 3, "Tail call 4": r1 += 4; tail call test 2 -> 10. */
SEC("socket")
__attribute__((naked)) void tail_call_4(void)
{
	asm volatile(
		"r2 = *(u32 *)(r1 + " CB0 ");"
		"r2 += 4;"
		"*(u32 *)(r1 + " CB0 ") = r2;"
		TAIL_CALL(2)
		"r0 = -1;"
		"exit;"
		:
		: ASM_ARGS
		: "memory");
}

/*
 * 4, "Tail call load/store leaf", stack depth 32: store 1 at fp-8 and 2 at
 * fp-16 through a copy of fp, load both back; 0 if both match, else the first
 * value that does not -> 0.
 */
SEC("socket")
__attribute__((naked)) void tail_call_ldst_leaf(void)
{
	asm volatile(
		"r2 = r10;"
		"r3 = 0;"
		"*(u64 *)(r2 - 32) = r3;" /* only to make the stack depth 32 */
		"r3 = 1;"
		"*(u64 *)(r2 - 8) = r3;"
		"r3 = 2;"
		"*(u64 *)(r2 - 16) = r3;"
		"r0 = *(u64 *)(r2 - 8);"
		"if r0 != 1 goto 1f;"
		"r0 = *(u64 *)(r2 - 16);"
		"if r0 != 2 goto 1f;"
		"r0 = 0;"
		"1: exit;"
		:
		: ASM_ARGS
		: "memory");
}

/* 5, "Tail call load/store", stack depth 16: store 3 at fp-8; tail call test 4 -> 0. */
SEC("socket")
__attribute__((naked)) void tail_call_ldst(void)
{
	asm volatile(
		"r2 = 0;"
		"*(u64 *)(r10 - 16) = r2;" /* only to make the stack depth 16 */
		"r2 = 3;"
		"*(u64 *)(r10 - 8) = r2;"
		TAIL_CALL(4)
		"r0 = -1;"
		"exit;"
		:
		: ASM_ARGS
		: "memory");
}

/*
 * 6, "Tail call error path, max count reached": state += 1; tail call itself.
 * 1 + 33 runs per test run: 34000 after 1000.
 */
SEC("socket")
__attribute__((naked)) void tail_call_max_count(void)
{
	asm volatile(
		"r6 = %[state] ll;"
		"r0 = *(u32 *)(r6 + 0);"
		"r0 += 1;"
		"*(u32 *)(r6 + 0) = r0;"
		TAIL_CALL(6)
		"r0 = *(u32 *)(r6 + 0);"
		"exit;"
		:
		: ASM_ARGS, [state] "i"(&state_max_count)
		: "memory");
}

/*
 * 7, "Tail call count preserved across function calls", stack depth 8:
 * state += 1; keep r1 at fp-8 across six helper calls; reload it; w0 = w1;
 * tail call itself -> 34000 after 1000 runs.
 */
SEC("socket")
__attribute__((naked)) void tail_call_helpers(void)
{
	asm volatile(
		"r6 = %[state] ll;"
		"r0 = *(u32 *)(r6 + 0);"
		"r0 += 1;"
		"*(u32 *)(r6 + 0) = r0;"
		"*(u64 *)(r10 - 8) = r1;"
		"call %[bpf_get_numa_node_id];"
		"call %[bpf_ktime_get_ns];"
		"call %[bpf_ktime_get_boot_ns];"
		"call %[bpf_ktime_get_ns];"
		"call %[bpf_jiffies64];"
		"r1 = %[fmt] ll;"
		"r2 = %[fmt_size];"
		"r3 = 1;"
		"r4 = 2;"
		"r5 = 3;"
		"call %[bpf_trace_printk];"
		"r1 = *(u64 *)(r10 - 8);"
		"w0 = w1;"
		TAIL_CALL(7)
		"r0 = *(u32 *)(r6 + 0);"
		"exit;"
		:
		: ASM_ARGS, [state] "i"(&state_helpers),
		  [fmt] "i"(fmt), [fmt_size] "i"(sizeof(fmt)),
		  [bpf_get_numa_node_id] "i"(BPF_FUNC_get_numa_node_id),
		  [bpf_ktime_get_ns] "i"(BPF_FUNC_ktime_get_ns),
		  [bpf_ktime_get_boot_ns] "i"(BPF_FUNC_ktime_get_boot_ns),
		  [bpf_jiffies64] "i"(BPF_FUNC_jiffies64),
		  [bpf_trace_printk] "i"(BPF_FUNC_trace_printk)
		: "memory");
}

/* 8, "Tail call error path, NULL target": state += 1; tail call slot 10 (empty) -> 1000. */
SEC("socket")
__attribute__((naked)) void tail_call_null(void)
{
	asm volatile(
		"r6 = %[state] ll;"
		"r0 = *(u32 *)(r6 + 0);"
		"r0 += 1;"
		"*(u32 *)(r6 + 0) = r0;"
		TAIL_CALL(10)
		"r0 = *(u32 *)(r6 + 0);"
		"exit;"
		:
		: ASM_ARGS, [state] "i"(&state_null)
		: "memory");
}

/* 9, "Tail call error path, index out of range": state += 1; tail call index 11 -> 1000. */
SEC("socket")
__attribute__((naked)) void tail_call_range(void)
{
	asm volatile(
		"r6 = %[state] ll;"
		"r0 = *(u32 *)(r6 + 0);"
		"r0 += 1;"
		"*(u32 *)(r6 + 0) = r0;"
		TAIL_CALL(11)
		"r0 = *(u32 *)(r6 + 0);"
		"exit;"
		:
		: ASM_ARGS, [state] "i"(&state_range)
		: "memory");
}

char LICENSE[] SEC("license") = "GPL";
