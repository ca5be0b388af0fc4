// SPDX-License-Identifier: MIT
// `call %r2` (BPF_JMP | BPF_CALL | BPF_X, opcode 8d), the conformance suite's callx.data: the
// register in dst (as the suite's assembler writes it). The scenario records the kernel's answer.
#include "insn.h"

SEC("tc") __attribute__((naked)) int callx(void)
{
	asm volatile(
		"r1 = -1\n\t"
		"r2 = 5\n\t"
		INSN(0x8d, 2, 0, 0, 0)
		"r0 = 2\n\t"
		"exit\n\t" ::: "memory");
}

char _license[] SEC("license") = "GPL";
