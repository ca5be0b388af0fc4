// SPDX-License-Identifier: MIT
// gotol (BPF_JMP32 | BPF_JA, the offset in imm; cpu v4, Linux 6.6): forward over 160 bytes
// (rel32), forward over one instruction (rel8), a zero offset (no code), and backwards in
// bounded loops, short and long. Every instruction is reachable (the verifier insists).
#include "insn.h"

SEC("tc") __attribute__((naked)) int gotol(void)
{
	asm volatile(
		"r2 = *(u32 *)(r1 + 0)\n\t"
		"r0 = 0\n\t"
		"if r2 > 1000 goto +1\n\t"
		GOTOL(40)
		".rept 40\n\t" "r0 += 1\n\t" ".endr\n\t"
		"if r2 > 2000 goto +1\n\t"
		GOTOL(1)
		"r0 += 2\n\t"
		GOTOL(0)
		"r3 = 3\n\t"
		"r3 -= 1\n\t"
		"if r3 == 0 goto +1\n\t"
		GOTOL(-3)
		"r4 = 2\n\t"
		".rept 40\n\t" "r0 += 3\n\t" ".endr\n\t"
		"r4 -= 1\n\t"
		"if r4 == 0 goto +1\n\t"
		GOTOL(-43)
		"exit\n\t" ::: "memory");
}

char _license[] SEC("license") = "GPL";
