// SPDX-License-Identifier: MIT
/*
 * maps: an array map and a hash map, looked up and updated by one tc program.
 *
 * count_len counts packets per length class (skb->len & 7) in the array map
 * `counters` (8 x u64) and remembers the last count in .bss; it also keeps a
 * struct per class in the hash map `pairs` (16 entries, no prealloc), creating
 * it on first sight. It returns the new count of the class.
 */
#include "common.h"

struct pair {
	__u32 len;
	__u32 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct pair);
} pairs SEC(".maps");

__u64 last_count;
__u32 hash_hits;
__u32 hash_created;

SEC("tc")
int count_len(struct __sk_buff *skb)
{
	__u32 key = skb->len & 7;
	struct pair *p;
	__u64 *v;

	v = bpf_map_lookup_elem(&counters, &key);
	if (!v)
		return 0;
	__sync_fetch_and_add(v, 1);
	last_count = *v;

	p = bpf_map_lookup_elem(&pairs, &key);
	if (p) {
		p->hits++;
		hash_hits = p->hits;
	} else {
		struct pair fresh = { .len = skb->len, .hits = 1 };

		bpf_map_update_elem(&pairs, &key, &fresh, BPF_NOEXIST);
		hash_hits = 1;
		hash_created++;
	}
	return *v;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
