// SPDX-License-Identifier: MIT
// Load-acquire and store-release (BPF_STX | BPF_ATOMIC, imm BPF_LOAD_ACQ / BPF_STORE_REL,
// Linux 6.15) of every size on the stack: r10, rbx (r6) and r13 (r7) bases, disp8 and disp32,
// values in r0, eregs and registers whose low byte needs a REX (dil, sil).
#include "insn.h"
#include "prelude.h"

SEC("tc") __attribute__((naked)) int acqrel(void)
{
	asm volatile(PRELUDE
		"*(u64 *)(r10 - 8) = r6\n\t" "*(u64 *)(r10 - 16) = r7\n\t" "*(u64 *)(r10 - 24) = r8\n\t"
		"*(u64 *)(r10 - 32) = r9\n\t" "*(u64 *)(r10 - 200) = r6\n\t"
		"r6 = r10\n\t" "r7 = r10\n\t"
		STORE_REL(ATOMIC_B, 10, 1, -8) STORE_REL(ATOMIC_H, 7, 5, -16) STORE_REL(ATOMIC_W, 10, 9, -24)
		STORE_REL(ATOMIC_DW, 10, 0, -200) STORE_REL(ATOMIC_B, 6, 2, -32) STORE_REL(ATOMIC_H, 10, 8, -30)
		STORE_REL(ATOMIC_W, 6, 3, -20) STORE_REL(ATOMIC_DW, 7, 4, -8)
		LOAD_ACQ(ATOMIC_B, 0, 10, -8) LOAD_ACQ(ATOMIC_H, 5, 7, -16) LOAD_ACQ(ATOMIC_W, 9, 10, -24)
		LOAD_ACQ(ATOMIC_DW, 3, 10, -200) LOAD_ACQ(ATOMIC_B, 1, 6, -32) LOAD_ACQ(ATOMIC_H, 8, 10, -30)
		LOAD_ACQ(ATOMIC_W, 2, 7, -20) LOAD_ACQ(ATOMIC_DW, 4, 6, -8)
		"r6 = r8\n\t" "r7 = r9\n\t"
		FOLD_EXIT ::: "memory");
}

char _license[] SEC("license") = "GPL";
