/* SPDX-License-Identifier: MIT */
/*
 * Shared by the re-created kernel tail call tests in this folder
 * (shared/spec/selftests.md): PROG_ARRAY and OPAQUE from ../common.h, plus the
 * legacy packet loads some of the tests use.
 */
#ifndef TAILJIT_SELFTESTS_H
#define TAILJIT_SELFTESTS_H

#include "../common.h"

/*
 * LD_ABS loads (BPF_LD | BPF_ABS, size B/H/W) of the packet byte, half-word or
 * word at `off`: clang lowers these LLVM intrinsics to the legacy instruction,
 * which reads the skb implicitly from r6 (clang puts the context there). The
 * 5.10 verifier rewrites each one into a helper call plus an early "return 0"
 * when the load fails (selftests.md 0.2).
 */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

/*
 * Use a value without changing it: a subprogram whose result no caller reads
 * loses its return value to clang (it no longer sets r0, and the verifier
 * rejects it), so callers that ignore the result of a tail-calling
 * subprogram pass it through USED().
 */
#define USED(x) asm volatile("" : : "r"(x))

#endif
