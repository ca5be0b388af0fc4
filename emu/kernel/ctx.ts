// The context a test run hands to the program, built the way 5.10's BPF_PROG_TEST_RUN builds
// it (net/bpf/test_run.c) for each program type, in one reusable area of the direct map:
// - sched_cls / socket_filter: bpf_prog_test_run_skb(): the packet at NET_SKB_PAD headroom in a
//   zeroed buffer with room for skb_shared_info after it, an sk_buff on the loopback device,
//   eth_type_trans() (pulls the 14-byte Ethernet header: skb->len = size - 14, pkt_type
//   PACKET_HOST, protocol 802.2 for a zeroed frame), the header pushed back for tc programs
//   (is_l2), and for tc the data_end pointer in the control block (bpf_compute_data_pointers);
// - xdp: bpf_prog_test_run_xdp(): struct xdp_buff with XDP_PACKET_HEADROOM and an rxq on the
//   loopback device, queue 0;
// - raw: the conformance suite's input, r1 = its address and r2 = its length.

import type { ProgTypeName } from '../../src/elf/types.js';
import { KernelError } from './errors.js';
import type { Kernel } from './kernel.js';
import { Errno } from './maps.js';
import { PAGE_SIZE, pageUp } from './memory.js';
import {
  ETH_HLEN, LOOPBACK_IFINDEX, SKB_HEADROOM, SKB_SHINFO_SIZE, XDP_HEADROOM, ZERO_FRAME_PROTOCOL_BE, netDevice, skBuff, xdpBuff,
} from './structs.js';

/** The first two arguments of the program. */
export interface RunArgs {
  readonly r1: bigint;
  /** null: the program's `insnsi`, which __BPF_PROG_RUN passes as the second argument. */
  readonly r2: bigint | null;
  /** The packet (data .. data_end), for reading it back. */
  readonly packet?: { readonly address: bigint; readonly length: number };
}

interface Area {
  readonly skb: bigint;
  readonly xdp: bigint;
  readonly rxq: bigint;
  readonly dev: bigint;
  readonly buffer: bigint;
}

const areas = new WeakMap<Kernel, Area>();

const layoutCache = new WeakMap<object, ReturnType<typeof buildLayouts>>();

function buildLayouts(ctx: Kernel['profile']['verifier']['ctx']) {
  return { SK_BUFF: skBuff(ctx.skb), XDP_BUFF: xdpBuff(ctx.xdp), NET_DEVICE: netDevice(ctx.skb) };
}

/** The structures of the kernel build the profile models. */
function layouts(k: Kernel): ReturnType<typeof buildLayouts> {
  const ctx = k.profile.verifier.ctx;
  let l = layoutCache.get(ctx);
  if (!l) layoutCache.set(ctx, (l = buildLayouts(ctx)));
  return l;
}

function areaOf(k: Kernel): Area {
  let a = areas.get(k);
  if (!a) {
    const mem = k.mem;
    const { SK_BUFF, XDP_BUFF, NET_DEVICE } = layouts(k);
    const dev = mem.alloc('directMap', NET_DEVICE.size, 'struct net_device lo', 'object').begin;
    mem.writeU32(dev + BigInt(NET_DEVICE.ifindex), LOOPBACK_IFINDEX);
    a = {
      dev,
      skb: mem.alloc('directMap', SK_BUFF.size, 'struct sk_buff (test run)', 'object').begin,
      xdp: mem.alloc('directMap', XDP_BUFF.size, 'struct xdp_buff (test run)', 'object').begin,
      rxq: mem.alloc('directMap', XDP_BUFF.rxqInfoSize, 'struct xdp_rxq_info lo queue 0', 'object').begin,
      buffer: mem.alloc('directMap', PAGE_SIZE, 'packet buffer (test run)', 'packet').begin,
    };
    areas.set(k, a);
  }
  return a;
}

/** bpf_test_init()'s limit: the whole buffer is one page. */
function checkSize(size: number, headroom: number, min: number): void {
  const max = PAGE_SIZE - headroom - SKB_SHINFO_SIZE;
  if (!Number.isInteger(size) || size < min || size > max) {
    throw new KernelError('kernel.bad-ctx', `data size ${size}: the test run takes ${min}..${max} bytes for this program type (EINVAL)`, { errno: Errno.EINVAL });
  }
}

function fillBuffer(k: Kernel, a: Area, headroom: number, data: Uint8Array): void {
  const page = new Uint8Array(PAGE_SIZE);
  page.set(data, headroom);
  k.mem.write(a.buffer, page);
}

/** The sk_buff of bpf_prog_test_run_skb for `data` (the whole frame, Ethernet header included). */
export function skbContext(k: Kernel, type: 'sched_cls' | 'socket_filter', data: Uint8Array): RunArgs {
  checkSize(data.length, SKB_HEADROOM, ETH_HLEN);
  const a = areaOf(k);
  const mem = k.mem;
  fillBuffer(k, a, SKB_HEADROOM, data);
  const isL2 = type === 'sched_cls';
  // eth_type_trans() pulled the header; tc programs see it pushed back.
  const dataOff = SKB_HEADROOM + (isL2 ? 0 : ETH_HLEN);
  const len = data.length - (isL2 ? 0 : ETH_HLEN);
  const { SK_BUFF } = layouts(k);
  const skb = new Uint8Array(SK_BUFF.size);
  const v = new DataView(skb.buffer);
  v.setBigUint64(SK_BUFF.dev, a.dev, true);
  v.setUint32(SK_BUFF.len, len, true);
  v.setUint32(SK_BUFF.dataLen, 0, true);
  v.setUint16(SK_BUFF.protocol, protocolOf(data), false);
  v.setUint32(SK_BUFF.tail, dataOff + len, true);
  // build_skb(data, 0): the end is what ksize() of the kzalloc'ed buffer leaves before shinfo.
  v.setUint32(SK_BUFF.end, kmallocSize(SKB_HEADROOM + data.length + SKB_SHINFO_SIZE) - SKB_SHINFO_SIZE, true);
  v.setBigUint64(SK_BUFF.head, a.buffer, true);
  v.setBigUint64(SK_BUFF.data, a.buffer + BigInt(dataOff), true);
  if (isL2) v.setBigUint64(SK_BUFF.cbDataEnd, a.buffer + BigInt(dataOff + len), true);
  mem.write(a.skb, skb);
  return { r1: a.skb, r2: null, packet: { address: a.buffer + BigInt(dataOff), length: len } };
}

/** The kmalloc size class a request lands in (ksize()), up to a page. */
function kmallocSize(n: number): number {
  for (const c of [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048]) if (n <= c) return c;
  return pageUp(n);
}

/** eth_type_trans()'s protocol (big-endian value): h_proto when >= ETH_P_802_3_MIN, else 802.3/802.2. */
function protocolOf(frame: Uint8Array): number {
  const proto = (frame[12] << 8) | frame[13];
  if (proto >= 0x600) return proto;
  if (frame.length >= ETH_HLEN + 2 && frame[14] === 0xff && frame[15] === 0xff) return 0x0001; // ETH_P_802_3
  return ZERO_FRAME_PROTOCOL_BE;
}

/** The xdp_buff of bpf_prog_test_run_xdp for `data`. */
export function xdpContext(k: Kernel, data: Uint8Array): RunArgs {
  checkSize(data.length, XDP_HEADROOM, ETH_HLEN);
  const a = areaOf(k);
  fillBuffer(k, a, XDP_HEADROOM, data);
  const { XDP_BUFF } = layouts(k);
  const start = a.buffer + BigInt(XDP_HEADROOM);
  const xdp = new Uint8Array(XDP_BUFF.size);
  const v = new DataView(xdp.buffer);
  v.setBigUint64(XDP_BUFF.data, start, true);
  v.setBigUint64(XDP_BUFF.dataEnd, start + BigInt(data.length), true);
  v.setBigUint64(XDP_BUFF.dataMeta, start, true);
  v.setBigUint64(XDP_BUFF.dataHardStart, a.buffer, true);
  v.setBigUint64(XDP_BUFF.rxq, a.rxq, true);
  v.setUint32(XDP_BUFF.frameSz, PAGE_SIZE, true);
  k.mem.write(a.xdp, xdp);
  const rxq = new Uint8Array(XDP_BUFF.rxqInfoSize);
  new DataView(rxq.buffer).setBigUint64(XDP_BUFF.rxqDev, a.dev, true);
  k.mem.write(a.rxq, rxq);
  return { r1: a.xdp, r2: null, packet: { address: start, length: data.length } };
}

/** The test-run context of a program type for a frame of `data`. */
export function testRunContext(k: Kernel, type: ProgTypeName, data: Uint8Array): RunArgs {
  switch (type) {
    case 'sched_cls':
    case 'socket_filter':
      return skbContext(k, type, data);
    case 'xdp':
      return xdpContext(k, data);
  }
}

const rawAreas = new WeakMap<Kernel, { address: bigint; size: number }>();

/** The conformance suite's memory: r1 = its address (0 when empty), r2 = its length. */
export function rawContext(k: Kernel, bytes: Uint8Array): RunArgs {
  if (bytes.length === 0) return { r1: 0n, r2: 0n };
  let a = rawAreas.get(k);
  if (!a || a.size < bytes.length) {
    const region = k.mem.alloc('directMap', bytes.length, `input memory (${bytes.length} bytes)`, 'packet');
    a = { address: region.begin, size: Number(region.end - region.begin) };
    rawAreas.set(k, a);
  }
  const page = new Uint8Array(a.size);
  page.set(bytes);
  k.mem.write(a.address, page);
  return { r1: a.address, r2: BigInt(bytes.length), packet: { address: a.address, length: bytes.length } };
}
