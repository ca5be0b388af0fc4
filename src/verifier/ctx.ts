// convert_ctx_accesses() of 5.10 for the three program types here: loads and stores through
// the context pointer become accesses to the kernel's own structures (`__sk_buff` ->
// `struct sk_buff`, `xdp_md` -> `struct xdp_buff`). The offsets are the profile's
// (`verifier.ctx`, one kernel build each, read from the builds' xlated dumps of
// test/verifier/fixtures/ctx_fields.bpf.o); the sequences follow bpf_convert_ctx_access(),
// tc_cls_act_convert_ctx_access() and xdp_convert_ctx_access(), the same in 5.10 and 6.1. A
// field outside the table is a "not modeled" error.

import { AluOp, JmpOp, Size, sizeOf } from '../isa/index.js';
import type { ProgTypeName } from '../elf/types.js';
import { PROFILES, type SkbLayout, type XdpLayout } from '../profile/index.js';
import type { Env } from './env.js';
import { alu32Imm, alu64Reg, jmpImm, ldxMem, mov64Imm, stxMem, type KInsn } from './kinsn.js';

/** BPF_REG_AX, the verifier's scratch register (r11). */
const AX = 11;

/** struct sk_buff / net_device / skb_shared_info offsets of the 5.10 reference build. */
export const SKB: SkbLayout = PROFILES['linux-5.10'].verifier.ctx.skb;

/** struct xdp_buff and xdp_rxq_info offsets of the 5.10 reference build. */
export const XDP: XdpLayout = PROFILES['linux-5.10'].verifier.ctx.xdp;

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

/** 1 when the u32 at `off` is not zero: `if dst == 0 goto +1; w dst = 1` (vlan_present from vlan_all). */
const nonZeroWord = (off: number): Emit => (dst, src) => [ldxMem(W, dst, src, off), jmpImm(JmpOp.JEQ, dst, 0, 1), alu32Imm(AluOp.MOV, dst, 1)];

const skbShinfo = (SKB: SkbLayout, fieldOff: number): Emit => (dst, src) => [
  ldxMem(W, AX, src, SKB.end),
  ldxMem(DW, dst, src, SKB.head),
  alu64Reg(AluOp.ADD, dst, AX),
  ldxMem(H, dst, dst, fieldOff),
];

const skbFields = (SKB: SkbLayout): readonly CtxField[] => [
  { name: 'len', off: 0, size: 4, narrow: true, target: 4, writable: [], types: SKB_TYPES, emit: plain(W, SKB.len) },
  { name: 'pkt_type', off: 4, size: 4, narrow: true, target: 1, writable: [], types: SKB_TYPES, emit: bitsOfByte(SKB.pktType, 7) },
  { name: 'mark', off: 8, size: 4, narrow: true, target: 4, writable: TC, types: SKB_TYPES, emit: plain(W, SKB.mark) },
  { name: 'queue_mapping', off: 12, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: plain(H, SKB.queueMapping) },
  { name: 'protocol', off: 16, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: plain(H, SKB.protocol) },
  { name: 'vlan_present', off: 20, size: 4, narrow: true, target: 1, writable: [], types: SKB_TYPES, emit: SKB.vlanPresentForm === 'bit' ? bitsOfByte(SKB.vlanPresent, 1) : nonZeroWord(SKB.vlanPresent) },
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
  { name: 'gso_segs', off: 164, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: skbShinfo(SKB, SKB.shinfoGsoSegs) },
  { name: 'gso_size', off: 176, size: 4, narrow: true, target: 2, writable: [], types: SKB_TYPES, emit: skbShinfo(SKB, SKB.shinfoGsoSize) },
];

const XDP_TYPES: readonly ProgTypeName[] = ['xdp'];
const xdpFields = (XDP: XdpLayout, SKB: SkbLayout): readonly CtxField[] => [
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

/** One build's field tables and the offsets of the packet pointers (8-byte loads). */
interface CtxTables {
  readonly skb: readonly CtxField[];
  readonly xdp: readonly CtxField[];
  readonly pointerOff: Readonly<Record<string, number>>;
}

const TABLES = new WeakMap<object, CtxTables>();

function tablesOf(layout: { readonly skb: SkbLayout; readonly xdp: XdpLayout }): CtxTables {
  let t = TABLES.get(layout);
  if (!t) {
    const { skb, xdp } = layout;
    t = {
      skb: skbFields(skb),
      xdp: xdpFields(xdp, skb),
      pointerOff: {
        'sched_cls:data': skb.data, 'sched_cls:data_end': skb.cbDataEnd,
        'xdp:data': xdp.data, 'xdp:data_end': xdp.dataEnd, 'xdp:data_meta': xdp.dataMeta,
      },
    };
    TABLES.set(layout, t);
  }
  return t;
}

function fieldAt(tables: CtxTables, type: ProgTypeName, off: number): CtxField | undefined {
  const table = type === 'xdp' ? tables.xdp : tables.skb;
  return table.find((f) => f.types.includes(type) && off >= f.off && off < f.off + f.size);
}

/** What a load from the context at `off` yields, for the path model (the same on every build). */
export function ctxLoadKind(type: ProgTypeName, off: number): 'scalar' | 'pkt' | 'pkt_end' | 'pkt_meta' {
  return fieldAt(tablesOf(PROFILES['linux-5.10'].verifier.ctx), type, off)?.result ?? 'scalar';
}

/** The converted instructions for one context access, or throws. */
function convertOne(env: Env, slot: number, k: KInsn): KInsn[] {
  const type = env.program.type;
  const acc = env.aux[slot].ctx!;
  const size = acc.size;
  const tables = tablesOf(env.options.profile.verifier.ctx);
  const SKB = env.options.profile.verifier.ctx.skb;
  const field = fieldAt(tables, type, acc.off);
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
    return [ldxMem(DW, k.dst, k.src, tables.pointerOff[`${type}:${field.name}`])];
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
