// SPDX-License-Identifier: MIT
// Signed division and modulo (cpu v4, Linux 6.6, off = 1): 32 and 64 bit, by constants
// (including -1, which the verifier rewrites) and by registers (which get its zero and -1
// guards), with r0 and r3 (rax, rdx) as dividend and divisor and eregs.
#include "insn.h"
#include "prelude.h"

SEC("tc") __attribute__((naked)) int sdiv(void)
{
	asm volatile(PRELUDE
		SDIV64_K(0, 3) SDIV64_K(1, -3) SDIV64_K(3, 0x12345) SDIV64_K(7, -1) SDIV64_K(5, 1)
		SMOD64_K(0, 7) SMOD64_K(3, -5) SMOD64_K(9, 0x12345) SMOD64_K(6, -1) SMOD64_K(1, 1)
		SDIV32_K(0, 3) SDIV32_K(1, -3) SDIV32_K(3, 0x12345) SDIV32_K(7, -1) SDIV32_K(5, 1)
		SMOD32_K(0, 7) SMOD32_K(3, -5) SMOD32_K(9, 0x12345) SMOD32_K(6, -1) SMOD32_K(1, 1)
		"r0 = r6\n\t" "r1 = r7\n\t" "r3 = r8\n\t" "r2 |= 1\n\t"
		SDIV64_X(0, 2) SDIV64_X(1, 0) SDIV64_X(3, 5) SDIV64_X(7, 3) SDIV64_X(0, 3) SDIV64_X(3, 0) SDIV64_X(6, 6)
		SMOD64_X(0, 2) SMOD64_X(1, 0) SMOD64_X(3, 5) SMOD64_X(7, 3) SMOD64_X(0, 3) SMOD64_X(3, 0) SMOD64_X(6, 9)
		SDIV32_X(0, 2) SDIV32_X(1, 0) SDIV32_X(3, 5) SDIV32_X(7, 3) SDIV32_X(0, 3) SDIV32_X(3, 0) SDIV32_X(6, 6)
		SMOD32_X(0, 2) SMOD32_X(1, 0) SMOD32_X(3, 5) SMOD32_X(7, 3) SMOD32_X(0, 3) SMOD32_X(3, 0) SMOD32_X(6, 9)
		FOLD_EXIT ::: "memory");
}

char _license[] SEC("license") = "GPL";
