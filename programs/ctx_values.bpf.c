// SPDX-License-Identifier: MIT
/*
 * ctx_values: what a test run's context holds, field by field, kept in globals so that the
 * kernel's answer shows the values and not only the conversions (the verifier fixture
 * ctx_fields shows those). Each kernel build puts struct sk_buff's fields at its own offsets
 * (protocol is at 176 on 5.10.223, 180 on 6.1.192); the emulated kernel must build the
 * sk_buff that the profile's verifier reads.
 */
#include "common.h"

__u32 tc_len, tc_pkt_type, tc_queue_mapping, tc_protocol, tc_vlan_present, tc_priority;
__u32 tc_ingress_ifindex, tc_ifindex, tc_tc_index, tc_hash, tc_napi_id, tc_span, tc_mark;
__u32 sk_len, sk_protocol, sk_ifindex, sk_pkt_type;
__u32 xdp_span, xdp_meta, xdp_ingress_ifindex, xdp_rx_queue_index;

SEC("tc")
int tc_values(struct __sk_buff *skb)
{
	tc_len = skb->len;
	tc_pkt_type = skb->pkt_type;
	tc_queue_mapping = skb->queue_mapping;
	tc_protocol = skb->protocol;
	tc_vlan_present = skb->vlan_present;
	tc_priority = skb->priority;
	tc_ingress_ifindex = skb->ingress_ifindex;
	tc_ifindex = skb->ifindex;
	tc_tc_index = skb->tc_index;
	tc_hash = skb->hash;
	tc_napi_id = skb->napi_id;
	tc_mark = skb->mark;
	tc_span = skb->data_end - skb->data;
	return tc_len + tc_protocol;
}

SEC("socket")
int sock_values(struct __sk_buff *skb)
{
	sk_len = skb->len;
	sk_protocol = skb->protocol;
	sk_ifindex = skb->ifindex;
	sk_pkt_type = skb->pkt_type;
	return 0;
}

SEC("xdp")
int xdp_values(struct xdp_md *ctx)
{
	xdp_span = ctx->data_end - ctx->data;
	xdp_meta = ctx->data - ctx->data_meta;
	xdp_ingress_ifindex = ctx->ingress_ifindex;
	xdp_rx_queue_index = ctx->rx_queue_index;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
