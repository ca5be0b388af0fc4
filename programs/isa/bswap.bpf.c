// SPDX-License-Identifier: MIT
// Unconditional byte swaps (BPF_ALU64 | BPF_END, cpu v4, Linux 6.6) of 16, 32 and 64 bits,
// next to the conditional be16/32/64 and le16/32/64 of the older ISA.
#include "insn.h"
#include "prelude.h"

SEC("tc") __attribute__((naked)) int bswap(void)
{
	asm volatile(PRELUDE
		BSWAP(0, 16) BSWAP(1, 32) BSWAP(5, 64) BSWAP(7, 16) BSWAP(9, 32) BSWAP(3, 64)
		BSWAP(2, 16) BSWAP(8, 64) BSWAP(6, 32) BSWAP(4, 16)
		"r0 = be16 r0\n\t" "r1 = be32 r1\n\t" "r5 = be64 r5\n\t"
		"r7 = le16 r7\n\t" "r9 = le32 r9\n\t" "r3 = le64 r3\n\t"
		FOLD_EXIT ::: "memory");
}

char _license[] SEC("license") = "GPL";
