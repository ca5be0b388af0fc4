// SPDX-License-Identifier: MIT
/*
 * tailcall_fail_spin_lock: tailcall_failure's reject_tail_call_spin_lock
 * (selftests.md 3.23, upstream 6.13 (unverified)): a direct tail call while a
 * bpf_spin_lock is held -> rejected, "function calls are not allowed while
 * holding a lock". Upstream takes a lock in global data; 5.10 accepts a
 * bpf_spin_lock only inside a BTF-described map value, so the lock lives in
 * an array map here.
 */
#include "selftests.h"

PROG_ARRAY(jmp_table, 3);

struct locked {
	struct bpf_spin_lock lock;
	int value;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} lock_map SEC(".maps");

SEC("tc")
int reject_tail_call_spin_lock(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct locked *l = bpf_map_lookup_elem(&lock_map, &key);

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	bpf_tail_call_static(skb, &jmp_table, 0);
	bpf_spin_unlock(&l->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
