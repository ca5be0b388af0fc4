// SPDX-License-Identifier: MIT
// Rejected: gotol with a non-zero off (its offset belongs in imm).
#include "insn.h"

SEC("tc") __attribute__((naked)) int reject_gotol_off(void)
{
	asm volatile("r0 = 0\n\t" INSN(0x06, 0, 0, 1, 0) "r0 = 1\n\t" "exit\n\t" ::: "memory");
}

char _license[] SEC("license") = "GPL";
