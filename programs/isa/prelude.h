/* SPDX-License-Identifier: MIT */
/*
 * Shared opening of the isa programs: r2 = skb->len (64 in the scenarios), and values with
 * every kind of bit pattern in r0..r9 derived from it, so the verifier tracks none as a
 * constant (it would not change the code, but keeps the programs honest about run time).
 */
#define PRELUDE \
	"r2 = *(u32 *)(r1 + 0)\n\t" \
	"r6 = 0x0123456789abcdef ll\n\t" \
	"r6 += r2\n\t" \
	"r7 = 0xfedcba9876543210 ll\n\t" \
	"r7 ^= r2\n\t" \
	"r8 = 0x80808080ff7f8001 ll\n\t" \
	"r8 += r2\n\t" \
	"r9 = 0x7fffffff80000000 ll\n\t" \
	"r9 -= r2\n\t" \
	"r0 = r6\n\t" \
	"r1 = r7\n\t" \
	"r3 = r8\n\t" \
	"r4 = r9\n\t" \
	"r5 = r6\n\t" \
	"r5 ^= r7\n\t"

/* r0 = the sum of r0..r9 folded to 32 bits, then exit. */
#define FOLD_EXIT \
	"r0 += r1\n\t" "r0 += r2\n\t" "r0 += r3\n\t" "r0 += r4\n\t" "r0 += r5\n\t" \
	"r0 += r6\n\t" "r0 += r7\n\t" "r0 += r8\n\t" "r0 += r9\n\t" \
	"r1 = r0\n\t" "r1 >>= 32\n\t" "r0 ^= r1\n\t" "w0 = w0\n\t" "exit\n\t"
