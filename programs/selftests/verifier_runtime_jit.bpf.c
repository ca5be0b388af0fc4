// SPDX-License-Identifier: MIT
/*
 * verifier_runtime_jit: the runtime/jit tail call cases of test_verifier
 * (selftests.md 4.1; in 5.10; later progs/verifier_runtime_jit.c), as socket
 * filters in BPF assembly. Only the privileged results can be observed here
 * (the oracles load as root).
 *
 * Fixture, filled by the scenario:
 *   prog1 (4 slots): 0 = ret42, 1 = loop1 (tail-calls prog1[1], then 41),
 *                    2 = ret24, 3 empty;
 *   prog2 (8 slots): 7 = ret42, 1 = loop2 (tail-calls prog2[1], then 41),
 *                    2 = ret24, the rest empty.
 * Each case loads a key into r3 and a map into r2, tail-calls, and otherwise
 * returns 1 (2 in the out-of-range cases). The "branch" cases write 13 or 14
 * into the byte skb->cb[0] and read it back (the verifier does not track
 * context memory, so both paths stay live); 13 takes the second path, 14 the
 * first, and both paths reach the same tail call instruction. Where the paths
 * carry different keys or maps the verifier poisons the call site and it is
 * indirect.
 */
#include <stddef.h>
#include "selftests.h"

PROG_ARRAY(prog1, 4);
PROG_ARRAY(prog2, 8);

#define ARGS                                                            \
	[prog1] "i"(&prog1), [prog2] "i"(&prog2),                       \
	[cb0] "i"(offsetof(struct __sk_buff, cb[0])),                   \
	[bpf_tail_call] "i"(BPF_FUNC_tail_call)

/* One tail call with a constant key, then "return fallback". */
#define ONE_CALL(name, key, map, fallback)                              \
	SEC("socket")                                                   \
	__attribute__((naked)) void name(void)                          \
	{                                                               \
		asm volatile("r3 = " #key ";"                           \
			     "r2 = %[" #map "] ll;"                     \
			     "call %[bpf_tail_call];"                   \
			     "r0 = " #fallback ";"                      \
			     "exit;"                                    \
			     :                                          \
			     : ARGS                                     \
			     : "memory");                               \
	}

/*
 * cb[0] = cb; first path: key1/map1, second path (cb == 13): key2/map2; one
 * tail call instruction for both; then "return 1".
 */
#define BRANCH(name, cb, key1, map1, key2, map2)                        \
	SEC("socket")                                                   \
	__attribute__((naked)) void name(void)                          \
	{                                                               \
		asm volatile("r0 = " #cb ";"                            \
			     "*(u8 *)(r1 + %[cb0]) = r0;"               \
			     "r0 = *(u8 *)(r1 + %[cb0]);"               \
			     "if r0 == 13 goto 1f;"                     \
			     "r3 = " #key1 ";"                          \
			     "r2 = %[" #map1 "] ll;"                    \
			     "goto 2f;"                                 \
			     "1: r3 = " #key2 ";"                       \
			     "r2 = %[" #map2 "] ll;"                    \
			     "2: call %[bpf_tail_call];"                \
			     "r0 = 1;"                                  \
			     "exit;"                                    \
			     :                                          \
			     : ARGS                                     \
			     : "memory");                               \
	}

/* The fixture's programs. */
SEC("socket")
__attribute__((naked)) void ret42(void)
{
	asm volatile("r0 = 42; exit;" ::: "memory");
}

SEC("socket")
__attribute__((naked)) void ret24(void)
{
	asm volatile("r0 = 24; exit;" ::: "memory");
}

ONE_CALL(loop1, 1, prog1, 41)
ONE_CALL(loop2, 1, prog2, 41)

/* The cases, with the privileged retval the test expects. */
ONE_CALL(within_bounds_prog_once, 0, prog1, 1)	/* 42 */
ONE_CALL(within_bounds_prog_loop, 1, prog1, 1)	/* 41: loop1 runs 33 times */
ONE_CALL(within_bounds_no_prog, 3, prog1, 1)	/* 1 */
ONE_CALL(within_bounds_key_2, 2, prog1, 1)	/* 24 */
BRANCH(key_2_2_first_branch, 13, 2, prog1, 2, prog1)	/* 24 */
BRANCH(key_2_2_second_branch, 14, 2, prog1, 2, prog1)	/* 24 */
BRANCH(key_0_2_first_branch, 13, 0, prog1, 2, prog1)	/* 24 */
BRANCH(key_0_2_second_branch, 14, 0, prog1, 2, prog1)	/* 42 */
BRANCH(different_maps_first_branch, 13, 0, prog1, 0, prog2)	/* 1: prog2[0] is empty */
BRANCH(different_maps_second_branch, 14, 0, prog1, 0, prog2)	/* 42 */
ONE_CALL(out_of_bounds, 256, prog1, 2)		/* 2 */
ONE_CALL(negative_index, -1, prog1, 2)		/* 2 */

/* An index above 32 bits: the helper takes a u32, so 0x100000000 is key 0. */
SEC("socket")
__attribute__((naked)) void index_above_32bit(void)
{
	asm volatile("r3 = 0x100000000 ll;"
		     "r2 = %[prog1] ll;"
		     "call %[bpf_tail_call];"
		     "r0 = 2;"
		     "exit;"
		     :
		     : ARGS
		     : "memory");
}

char LICENSE[] SEC("license") = "GPL";
