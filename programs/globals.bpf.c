// SPDX-License-Identifier: MIT
/*
 * globals: variables of many BTF shapes in .bss, .data and .rodata, and a
 * string literal that clang puts into .rodata.str1.1.
 *
 * tick adds 1 to `runs` and `total` (which starts at -5), bumps hist[runs & 3],
 * moves origin.x by `step` (a .rodata constant, 3) and returns
 * runs + limit + greet[runs & 3] + word[skb->len & 3] where word is "tail".
 */
#include "common.h"

enum color { RED = 1, GREEN = 2, BLUE = -3 };

struct point {
	__s16 x;
	__s16 y;
	__u8 tag;
};

struct flags {
	__u32 lo : 3;
	__u32 hi : 5;
	__u32 rest : 24;
};

/* .bss */
__u32 runs;
__s32 last_len;
__u64 *nowhere;
static __u32 hidden_ticks;

/* .data */
__s64 total = -5;
__u16 hist[4] = { 1, 2, 3, 4 };
struct point origin = { .x = -1, .y = 2, .tag = 7 };
enum color col = BLUE;
struct flags bits = { .lo = 5, .hi = 17, .rest = 0xabcde };
float ratio = 1.5f;
char name[8] = "tailjit";

/* .rodata */
const volatile __u32 limit = 3;
const volatile __s8 neg_one = -1;
const volatile __s16 step = 3;
const volatile char greet[6] = "hello";

SEC("tc")
int tick(struct __sk_buff *skb)
{
	const char *word = "tail";
	__u32 r;

	runs++;
	hidden_ticks += 2;
	total += 1;
	last_len = -(__s32)skb->len;
	r = runs;
	hist[r & 3]++;
	origin.x += step;
	col = col == BLUE ? GREEN : BLUE;
	return r + limit + neg_one + greet[r & 3] + word[skb->len & 3] + (hidden_ticks & 1);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
