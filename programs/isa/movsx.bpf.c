// SPDX-License-Identifier: MIT
// Sign-extending moves (cpu v4, Linux 6.6): 64-bit from 8/16/32 bits, 32-bit from 8/16 bits;
// dst == src, r0, eregs as either operand, sources whose low byte needs a REX (dil, sil), and
// the frame pointer (ebp's low half) as a source.
#include "insn.h"
#include "prelude.h"

SEC("tc") __attribute__((naked)) int movsx(void)
{
	asm volatile(PRELUDE
		MOVSX64(0, 6, 8) MOVSX64(1, 7, 16) MOVSX64(2, 8, 32) MOVSX64(3, 3, 8)
		MOVSX64(5, 9, 16) MOVSX64(6, 5, 32) MOVSX64(7, 0, 8) MOVSX64(8, 8, 16)
		MOVSX64(9, 1, 32) MOVSX64(4, 4, 32) MOVSX64(0, 1, 8) MOVSX64(3, 2, 8)
		MOVSX32(0, 6, 8) MOVSX32(1, 7, 16) MOVSX32(5, 8, 8) MOVSX32(9, 9, 16)
		MOVSX32(2, 0, 8) MOVSX32(3, 1, 8) MOVSX32(4, 2, 8) MOVSX32(7, 4, 16)
		MOVSX32(8, 10, 16)
		"r8 = r5\n\t" /* r8 held frame-pointer bits: keep the result independent of addresses */
		FOLD_EXIT ::: "memory");
}

char _license[] SEC("license") = "GPL";
