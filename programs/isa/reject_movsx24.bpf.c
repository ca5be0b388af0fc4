// SPDX-License-Identifier: MIT
// Rejected: a sign-extending move from 24 bits (MOV X with off 24, no such width).
#include "insn.h"

SEC("tc") __attribute__((naked)) int reject_movsx24(void)
{
	asm volatile("r1 = 5\n\t" MOVSX64(0, 1, 24) "exit\n\t" ::: "memory");
}

char _license[] SEC("license") = "GPL";
