// SPDX-License-Identifier: MIT
// Sign-extending loads (BPF_LDX | BPF_MEMSX, cpu v4, Linux 6.6) of bytes, halves and words from
// the stack: r10, rbx (r6), rdx (r3) and r13 (r7) as bases, disp8 and disp32, dst == src.
#include "insn.h"
#include "prelude.h"

SEC("tc") __attribute__((naked)) int ldsx(void)
{
	asm volatile(PRELUDE
		"*(u64 *)(r10 - 8) = r6\n\t" "*(u64 *)(r10 - 16) = r7\n\t" "*(u64 *)(r10 - 200) = r8\n\t"
		"*(u64 *)(r10 - 136) = r9\n\t"
		"r6 = r10\n\t" "r6 += -64\n\t" "r7 = r10\n\t" "r3 = r10\n\t"
		LDXSB(0, 10, -8) LDXSH(1, 10, -6) LDXSW(2, 10, -200) LDXSB(5, 6, 56)
		LDXSH(4, 6, -136) LDXSW(9, 6, 60) LDXSB(8, 7, -200) LDXSH(0, 7, -16)
		LDXSW(1, 7, -12) LDXSB(3, 3, -1)
		"r6 = r8\n\t" "r7 = r9\n\t"
		FOLD_EXIT ::: "memory");
}

char _license[] SEC("license") = "GPL";
