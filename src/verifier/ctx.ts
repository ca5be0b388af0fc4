// convert_ctx_accesses() of 5.10 for the three program types here: loads and stores through
// the context pointer become accesses to the kernel's own structures (`__sk_buff` ->
// `struct sk_buff`, `xdp_md` -> `struct xdp_buff`). The offsets are those of the Debian
// 5.10.223 cloud kernel (linux-image-5.10.0-32-cloud-amd64), read from its xlated dumps of
// test/verifier/fixtures/ctx_fields.bpf.o (expected-5.10.223/ctx_fields.json); the sequences
// follow bpf_convert_ctx_access(), tc_cls_act_convert_ctx_access() and
// xdp_convert_ctx_access(). A field outside the table is a "not modeled" error.

import { AluOp, JmpOp, Size, sizeOf } from '../isa/index.js';
import type { ProgTypeName } from '../elf/types.js';
import type { Env } from './env.js';
import { alu32Imm, alu64Reg, jmpImm, ldxMem, mov64Imm, stxMem, type KInsn } from './kinsn.js';

/** BPF_REG_AX, the verifier's scratch register (r11). */
const AX = 11;

/** struct sk_buff / net_device / skb_shared_info offsets of the reference build. */
export const SKB = {
  dev: 16,
  cb: 40,
  /** qdisc_skb_cb in cb[]: pkt_len at 0, tc_classid at 6, data[] at 8; bpf_skb_data_end.data_end at 40. */
  cbPktLen: 40,
  cbTcClassid: 46,
  cbData: 48,
  cbDataEnd: 80,
  len: 112,
  queueMapping: 124,
  pktType: 128,
  vlanPresent: 130,
  tcIndex: 132,
  priority: 140,
  ingressIfindex: 144,
  hash: 148,
  vlanProto: 152,
  vlanTci: 154,
  napiId: 156,
  mark: 164,
  protocol: 176,
  end: 188,
  head: 192,
  data: 200,
  devIfindex: 256,
  shinfoGsoSize: 4,
  shinfoGsoSegs: 6,
  /** MIN_NAPI_ID = NR_CPUS + 1 (CONFIG_NR_CPUS=8192). */
  minNapiId: 8193,
} as const;

/** struct xdp_buff and xdp_rxq_info offsets of the reference build. */
export const XDP = { data: 0, dataEnd: 8, dataMeta: 16, rxq: 32, rxqDev: 0, rxqQueueIndex: 8 } as const;

type Emit = (dst: number, src: number, size: number, write: boolean) => KInsn[];

interface CtxField {
  readonly name: string;
  /** Offset and size of the field in the user-visible context structure. */
  readonly off: number;
  readonly size: number;
  /** Default case of bpf_skb_is_valid_access(): narrow loads allowed, converted as 4-byte loads. */
  readonly narrow: boolean;
  /** Bytes the converted load produces (`target_size`), for narrow-load masking. */
  readonly target: number;
  readonly writable: readonly ProgTypeName[];
  readonly types: readonly ProgTypeName[];
  readonly result?: 'pkt' | 'pkt_end' | 'pkt_meta';
  readonly emit: Emit;
}

const SKB_TYPES: readonly ProgTypeName[] = ['sched_cls', 'socket_filter'];
const TC: readonly ProgTypeName[] = ['sched_cls'];
const W = Size.W;
const H = Size.H;
const B = Size.B;
const DW = Size.DW;

/** A plain load or store of `size` at `off` (writes of the same width). */
const plain = (bpfSize: number, off: number): Emit => (dst, src, _size, write) =>
  write ? [stxMem(bpfSize, dst, src, off)] : [ldxMem(bpfSize, dst, src, off)];

/** One byte, masked to the low bits that hold the field (pkt_type, vlan_present). */
const bitsOfByte = (off: number, mask: number): Emit => (dst, src) => [ldxMem(B, dst, src, off), alu32Imm(AluOp.AND, dst, mask)];

const skbShinfo = (fieldOff: number): Emit => (dst, src) => [
  ldxMem(W, AX, src, SKB.end),
  ldxMem(DW, dst, src, SKB.head),
  alu64Reg(AluOp.ADD, dst, AX),
  ldxMem(H, dst, dst, fieldOff),
];

const SKB_FIELDS: readonly CtxField[] = [
  { name: 'len', off: 0, size: 4, narrow: true, target: 4, writable: [], types: SKB_TYPES, emit: plain(W, SKB.len) },
  { name: 'pkt_type', off: 4, size: 4, narrow: true, target: 1, writable: [], types: SKB_TYPES, emit: bitsOfByte(SKB.pktType, 7) },
  { name: 'mark', off: 8, size: 4, narrow: true, target: 4, writable: TC, types: SKB_TYPES, emit: plain(W, SKB.mark) },
  { name: 'queue_mapping', off: 12, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: plain(H, SKB.queueMapping) },
  { name: 'protocol', off: 16, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: plain(H, SKB.protocol) },
  { name: 'vlan_present', off: 20, size: 4, narrow: true, target: 1, writable: [], types: SKB_TYPES, emit: bitsOfByte(SKB.vlanPresent, 1) },
  { name: 'vlan_tci', off: 24, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: plain(H, SKB.vlanTci) },
  { name: 'vlan_proto', off: 28, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: plain(H, SKB.vlanProto) },
  { name: 'priority', off: 32, size: 4, narrow: true, target: 4, writable: TC, types: SKB_TYPES, emit: plain(W, SKB.priority) },
  { name: 'ingress_ifindex', off: 36, size: 4, narrow: true, target: 4, writable: [], types: SKB_TYPES, emit: plain(W, SKB.ingressIfindex) },
  {
    // tc_cls_act_convert_ctx_access(): a tc program always has a device, no NULL check.
    name: 'ifindex', off: 40, size: 4, narrow: true, target: 4, writable: [], types: TC,
    emit: (dst, src) => [ldxMem(DW, dst, src, SKB.dev), ldxMem(W, dst, dst, SKB.devIfindex)],
  },
  {
    name: 'ifindex', off: 40, size: 4, narrow: true, target: 4, writable: [], types: ['socket_filter'],
    emit: (dst, src) => [ldxMem(DW, dst, src, SKB.dev), jmpImm(JmpOp.JEQ, dst, 0, 1), ldxMem(W, dst, dst, SKB.devIfindex)],
  },
  { name: 'tc_index', off: 44, size: 4, narrow: true, target: 2, writable: TC, types: SKB_TYPES, emit: plain(H, SKB.tcIndex) },
  {
    // cb[0..4] live in qdisc_skb_cb.data; the access keeps its own width.
    name: 'cb', off: 48, size: 20, narrow: false, target: 0, writable: SKB_TYPES, types: SKB_TYPES,
    emit: () => [],
  },
  { name: 'hash', off: 68, size: 4, narrow: true, target: 4, writable: [], types: SKB_TYPES, emit: plain(W, SKB.hash) },
  { name: 'tc_classid', off: 72, size: 4, narrow: true, target: 2, writable: TC, types: TC, emit: plain(H, SKB.cbTcClassid) },
  { name: 'data', off: 76, size: 4, narrow: false, target: 8, writable: [], types: TC, result: 'pkt', emit: () => [] },
  { name: 'data_end', off: 80, size: 4, narrow: false, target: 8, writable: [], types: TC, result: 'pkt_end', emit: () => [] },
  {
    name: 'napi_id', off: 84, size: 4, narrow: true, target: 4, writable: [], types: SKB_TYPES,
    emit: (dst, src) => [ldxMem(W, dst, src, SKB.napiId), jmpImm(JmpOp.JGE, dst, SKB.minNapiId, 1), mov64Imm(dst, 0)],
  },
  { name: 'wire_len', off: 160, size: 4, narrow: true, target: 4, writable: [], types: TC, emit: plain(W, SKB.cbPktLen) },
  { name: 'gso_segs', off: 164, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: skbShinfo(SKB.shinfoGsoSegs) },
  { name: 'gso_size', off: 176, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: skbShinfo(SKB.shinfoGsoSize) },
];

const XDP_TYPES: readonly ProgTypeName[] = ['xdp'];
const XDP_FIELDS: readonly CtxField[] = [
  { name: 'data', off: 0, size: 4, narrow: false, target: 8, writable: [], types: XDP_TYPES, result: 'pkt', emit: () => [] },
  { name: 'data_end', off: 4, size: 4, narrow: false, target: 8, writable: [], types: XDP_TYPES, result: 'pkt_end', emit: () => [] },
  { name: 'data_meta', off: 8, size: 4, narrow: false, target: 8, writable: [], types: XDP_TYPES, result: 'pkt_meta', emit: () => [] },
  {
    name: 'ingress_ifindex', off: 12, size: 4, narrow: false, target: 4, writable: [], types: XDP_TYPES,
    emit: (dst, src) => [ldxMem(DW, dst, src, XDP.rxq), ldxMem(DW, dst, dst, XDP.rxqDev), ldxMem(W, dst, dst, SKB.devIfindex)],
  },
  {
    name: 'rx_queue_index', off: 16, size: 4, narrow: false, target: 4, writable: [], types: XDP_TYPES,
    emit: (dst, src) => [ldxMem(DW, dst, src, XDP.rxq), ldxMem(W, dst, dst, XDP.rxqQueueIndex)],
  },
];

/** Packet pointer fields load the kernel's 8-byte pointers. */
const POINTER_FIELD_OFF: Record<string, number> = {
  'sched_cls:data': SKB.data, 'sched_cls:data_end': SKB.cbDataEnd,
  'xdp:data': XDP.data, 'xdp:data_end': XDP.dataEnd, 'xdp:data_meta': XDP.dataMeta,
};

function fieldAt(type: ProgTypeName, off: number): CtxField | undefined {
  const table = type === 'xdp' ? XDP_FIELDS : SKB_FIELDS;
  return table.find((f) => f.types.includes(type) && off >= f.off && off < f.off + f.size);
}

/** What a load from the context at `off` yields, for the path model. */
export function ctxLoadKind(type: ProgTypeName, off: number): 'scalar' | 'pkt' | 'pkt_end' | 'pkt_meta' {
  return fieldAt(type, off)?.result ?? 'scalar';
}

/** The converted instructions for one context access, or throws. */
function convertOne(env: Env, slot: number, k: KInsn): KInsn[] {
  const type = env.program.type;
  const acc = env.aux[slot].ctx!;
  const size = acc.size;
  const field = fieldAt(type, acc.off);
  const where = `${type} context offset ${acc.off} size ${size}`;
  if (!field) throw env.notModeled(`${where} (a field outside this model's table)`, slot);
  if (acc.write) {
    if (!field.writable.includes(type)) env.fail('verifier.invalid-access', `invalid bpf_context access off=${acc.off} size=${size}`, slot);
    if (field.name === 'cb') return [stxMem(sizeOf(k.code), k.dst, k.src, acc.off - field.off + SKB.cbData)];
    if (size !== 4) env.fail('verifier.invalid-access', `invalid bpf_context access off=${acc.off} size=${size}`, slot);
    return field.emit(k.dst, k.src, size, true);
  }
  if (field.name === 'cb') {
    if (acc.off % size !== 0) env.fail('verifier.invalid-access', `invalid bpf_context access off=${acc.off} size=${size}`, slot);
    return [ldxMem(sizeOf(k.code), k.dst, k.src, acc.off - field.off + SKB.cbData)];
  }
  if (field.result) {
    if (size !== 4 || acc.off !== field.off) env.fail('verifier.invalid-access', `invalid bpf_context access off=${acc.off} size=${size}`, slot);
    return [ldxMem(DW, k.dst, k.src, POINTER_FIELD_OFF[`${type}:${field.name}`])];
  }
  if (size === 4 && acc.off === field.off) return field.emit(k.dst, k.src, 4, false);
  if (!field.narrow || acc.off % size !== 0 || size > 4) {
    env.fail('verifier.invalid-access', `invalid bpf_context access off=${acc.off} size=${size}`, slot);
  }
  // A narrow load: the whole 4-byte field is converted, then shifted and masked.
  const out = field.emit(k.dst, k.src, 4, false);
  if (size < field.target) {
    const shift = (acc.off & 3) * 8;
    if (shift) out.push(alu32Imm(AluOp.RSH, k.dst, shift));
    out.push(alu32Imm(AluOp.AND, k.dst, size === 4 ? -1 : (1 << (size * 8)) - 1));
  }
  return out;
}

export function convertCtxAccesses(env: Env): void {
  for (let i = 0; i < env.len; i++) {
    const aux = env.aux[i];
    if (!aux.ctx) continue;
    const patch = convertOne(env, i, env.slots[i]);
    env.patch(i, patch);
    i += patch.length - 1;
  }
}
