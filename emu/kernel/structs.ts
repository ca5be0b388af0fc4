// Layouts of the kernel structures JIT-ed code and the verifier's rewrites read, for the
// profile's build (tailcalls.md §4.3): the offsets the JIT hard-codes (`jit.offsets`) and the
// sk_buff and xdp_buff offsets the verifier's rewrites use (`verifier.ctx`) come from the
// profile; everything else is fixed here.

import type { JitProfile, SkbLayout, XdpLayout } from '../../src/profile/index.js';

/** struct bpf_map, the fields before `max_entries` (CONFIG_SECURITY=y: ops, inner_map_meta, security). */
export const BPF_MAP = Object.freeze({ ops: 0x00, innerMapMeta: 0x08, security: 0x10, mapType: 0x18, keySize: 0x1c, valueSize: 0x20 });
/** `map_flags` follows `max_entries`. */
export const MAP_FLAGS_AFTER_MAX_ENTRIES = 4;

/**
 * struct bpf_array after its cache-line aligned struct bpf_map: `elem_size`, `index_mask` and
 * `aux` precede the `value[]` / `ptrs[]` union (0x100, 0x104, 0x108 before 0x110 on 5.10.223).
 */
export function bpfArray(jit: JitProfile) {
  const ptrs = jit.offsets.arrayPtrs;
  return Object.freeze({ maxEntries: jit.offsets.mapMaxEntries, elemSize: ptrs - 0x10, indexMask: ptrs - 0x0c, aux: ptrs - 0x08, value: ptrs, ptrs });
}
export type BpfArrayLayout = ReturnType<typeof bpfArray>;

/**
 * struct bpf_prog (5.10): pages u16, flag bits u16, type, expected_attach_type, len, jited_len,
 * tag[8], aux, orig_prog, bpf_func, then the instructions (`insnsi`).
 */
export function bpfProg(jit: JitProfile) {
  const bpfFunc = jit.offsets.progBpfFunc;
  return Object.freeze({ pages: 0x00, type: 0x04, expectedAttachType: 0x08, len: 0x0c, jitedLen: 0x10, tag: 0x14, aux: 0x20, origProg: 0x28, bpfFunc, insnsi: bpfFunc + 8 });
}

/** enum bpf_prog_type values of the program types modeled. */
export const PROG_TYPE = Object.freeze({ socket_filter: 1, sched_cls: 3, xdp: 6 } as const);

/** struct htab_elem: the value follows the key at `key + round_up(key_size, 8)` (hashtab.c). */
export const HTAB_ELEM_KEY = 48;

/**
 * struct sk_buff of the profile's build: the fields the verifier's ctx rewrite reaches (the
 * profile's `verifier.ctx.skb`, read from that kernel's xlated dumps) plus those the harness
 * fills, which sit next to them in every build here.
 */
export function skBuff(skb: SkbLayout) {
  return Object.freeze({
    ...skb,
    /** `data_len` follows `len`: bytes in frags, 0 for a linear test-run skb. */
    dataLen: skb.len + 4,
    /** `tail` precedes `end`; an offset from `head` (sk_buff_data_t is an offset on 64-bit). */
    tail: skb.end - 4,
    /** Room for the structure: head, data, truesize and users follow `end` (232 bytes on 5.10.223). */
    size: Math.max(232, skb.data + 32),
  });
}
export type SkBuffLayout = ReturnType<typeof skBuff>;

/** struct xdp_buff (5.10) and struct xdp_rxq_info. */
export function xdpBuff(xdp: XdpLayout) {
  return Object.freeze({ ...xdp, dataHardStart: 24, frameSz: 40, size: 48, rxqInfoSize: 64 });
}

/** struct net_device: only `ifindex` is read (`devIfindex` of the build); 5.10's is about 2.5 KiB. */
export const netDevice = (skb: SkbLayout) => Object.freeze({ ifindex: skb.devIfindex, size: 0xa00 });

/** The loopback device's ifindex, the device every test-run skb belongs to. */
export const LOOPBACK_IFINDEX = 1;

/** sizeof(struct skb_shared_info) rounded by SKB_DATA_ALIGN on 5.10 x86-64. */
export const SKB_SHINFO_SIZE = 320;
/** bpf_prog_test_run_skb's headroom: NET_SKB_PAD (64 on x86-64) + NET_IP_ALIGN (0 on x86). */
export const SKB_HEADROOM = 64;
/** bpf_prog_test_run_xdp's headroom: XDP_PACKET_HEADROOM. */
export const XDP_HEADROOM = 256;
export const ETH_HLEN = 14;
/**
 * skb->protocol after eth_type_trans() of a zeroed frame: h_proto 0 is below ETH_P_802_3_MIN
 * and the payload does not start with 0xffff, so htons(ETH_P_802_2), bytes 00 04.
 */
export const ZERO_FRAME_PROTOCOL_BE = 0x0004;
