/* SPDX-License-Identifier: MIT */
/* Shared by the programs in this folder: headers and the usual prog array. */
#ifndef TAILJIT_PROGRAMS_COMMON_H
#define TAILJIT_PROGRAMS_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* A prog array of `n` slots named `name` (keys and values are u32). */
#define PROG_ARRAY(name, n)                                   \
	struct {                                              \
		__uint(type, BPF_MAP_TYPE_PROG_ARRAY);        \
		__uint(max_entries, n);                       \
		__uint(key_size, sizeof(__u32));              \
		__uint(value_size, sizeof(__u32));            \
	} name SEC(".maps")

/* Hide a value from clang's constant propagation (koracle README, "Notes"). */
#define OPAQUE(x) asm volatile("" : "+r"(x))

#endif
