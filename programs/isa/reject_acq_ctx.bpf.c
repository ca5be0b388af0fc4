// SPDX-License-Identifier: MIT
// Rejected: a load-acquire through the context pointer.
#include "insn.h"

SEC("tc") __attribute__((naked)) int reject_acq_ctx(void)
{
	asm volatile(LOAD_ACQ(ATOMIC_W, 0, 1, 0) "exit\n\t" ::: "memory");
}

char _license[] SEC("license") = "GPL";
