// The first pass of bpf_check() over the raw instructions (replace_map_fd_with_map_ptr in
// 5.10): reserved fields of loads and stores, ld_imm64 framing and map references, and the
// "is this opcode in the instruction table at all" check. Map references are resolved to
// object map indices here; their addresses are filled in by the rewrites at the end.

import {
  AluOp, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size, Source,
  classOf, describe, formatRelease, modeOf, releaseAtLeast,
} from '../isa/index.js';
import { insn as makeInsn } from '../isa/insn.js';
import { MapType } from '../elf/types.js';
import type { Env } from './env.js';
import type { KInsn } from './kinsn.js';

/** BPF_XADD, the only atomic mode 5.10 knows (same bits as BPF_ATOMIC). */
const XADD = Mode.ATOMIC;
/** BPF_MAX_VAR_OFF: 1 << 29. */
const MAX_VAR_OFF = 1 << 29;

/** bpf_opcode_in_insntable(): the opcodes of BPF_INSN_MAP plus the cBPF carry-overs. */
export const INSN_TABLE: ReadonlySet<number> = (() => {
  const t = new Set<number>();
  const aluOps = [AluOp.ADD, AluOp.SUB, AluOp.AND, AluOp.OR, AluOp.LSH, AluOp.RSH, AluOp.XOR, AluOp.MUL, AluOp.MOV, AluOp.ARSH, AluOp.DIV, AluOp.MOD];
  for (const cls of [Class.ALU, Class.ALU64]) {
    for (const op of aluOps) for (const s of [Source.K, Source.X]) t.add(cls | op | s);
    t.add(cls | AluOp.NEG);
  }
  t.add(Class.ALU | AluOp.END | Source.K);
  t.add(Class.ALU | AluOp.END | Source.X);
  const jmpOps = [JmpOp.JEQ, JmpOp.JNE, JmpOp.JGT, JmpOp.JLT, JmpOp.JGE, JmpOp.JLE, JmpOp.JSGT, JmpOp.JSLT, JmpOp.JSGE, JmpOp.JSLE, JmpOp.JSET];
  for (const cls of [Class.JMP, Class.JMP32]) for (const op of jmpOps) for (const s of [Source.K, Source.X]) t.add(cls | op | s);
  t.add(Class.JMP | JmpOp.JA);
  t.add(Class.JMP | JmpOp.CALL);
  t.add(Class.JMP | JmpOp.EXIT);
  for (const size of [Size.B, Size.H, Size.W, Size.DW]) {
    t.add(Class.LDX | Mode.MEM | size);
    t.add(Class.ST | Mode.MEM | size);
    t.add(Class.STX | Mode.MEM | size);
  }
  t.add(Class.STX | XADD | Size.W);
  t.add(Class.STX | XADD | Size.DW);
  for (const size of [Size.B, Size.H, Size.W]) {
    t.add(Class.LD | Mode.ABS | size);
    t.add(Class.LD | Mode.IND | size);
  }
  t.add(LD_IMM64);
  return t;
})();

/**
 * Opcodes the insn table gained with cpu v4 (6.6: bswap, the sign-extending loads, gotol) and
 * with load-acquire / store-release of bytes and halves (6.15); the profile's `cpuV4` admits them.
 */
export const INSN_TABLE_V4: ReadonlySet<number> = new Set([
  Class.ALU64 | AluOp.END | Source.K,
  Class.LDX | Mode.MEMSX | Size.B, Class.LDX | Mode.MEMSX | Size.H, Class.LDX | Mode.MEMSX | Size.W,
  Class.JMP32 | JmpOp.JA,
  Class.STX | Mode.ATOMIC | Size.B, Class.STX | Mode.ATOMIC | Size.H,
]);

export const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * A note naming the release that added an instruction the profile's kernel rejects, from the
 * shared form table (`Form.since`, `Form.feature`).
 */
export function releaseNote(env: Env, k: KInsn, hi = 0): string[] {
  const d = describe(makeInsn(k.code, k.dst, k.src, k.off, k.imm, hi));
  if (!d.ok) return [d.reason];
  const { since, feature, mnemonic } = d.form;
  const rel = env.options.profile.release;
  if (since === null) return [`${mnemonic}: ${feature} is not accepted by any Linux release`];
  if (!releaseAtLeast(rel, since)) {
    return [`${mnemonic}: ${feature} needs Linux ${formatRelease(since)}; profile ${env.options.profile.name} is ${formatRelease(rel)}`];
  }
  if (!releaseAtLeast([5, 10], since)) {
    return [`${mnemonic}: ${feature} is accepted from Linux ${formatRelease(since)}, but this verifier checks as 5.10 does`];
  }
  return [];
}

/** replace_map_fd_with_map_ptr(): the checks and the map bookkeeping, in slot order. */
export function checkRawInsns(env: Env): void {
  const slots = env.slots;
  for (let i = 0; i < slots.length; i++) {
    const k = slots[i];
    const cls = classOf(k.code);
    const v4 = env.options.profile.verifier.cpuV4;
    const ldxMode = modeOf(k.code) === Mode.MEM || (v4 && modeOf(k.code) === Mode.MEMSX);
    if (cls === Class.LDX && (!ldxMode || k.imm !== 0)) {
      env.fail('verifier.reserved-fields', 'BPF_LDX uses reserved fields', i, releaseNote(env, k));
    }
    // With BPF_ATOMIC (5.12) the op in imm is check_atomic()'s to judge, during the path walk.
    const atomicImm = modeOf(k.code) === XADD && env.options.profile.verifier.atomics === 'bpf-atomic';
    if (cls === Class.STX && ((modeOf(k.code) !== Mode.MEM && modeOf(k.code) !== XADD) || (k.imm !== 0 && !atomicImm))) {
      env.fail('verifier.reserved-fields', 'BPF_STX uses reserved fields', i, releaseNote(env, k));
    }
    if (k.code === LD_IMM64) {
      checkLdImm64(env, i);
      i++;
      continue;
    }
    const gotol = k.code === (Class.JMP32 | JmpOp.JA) && env.options.profile.verifier.gotol;
    if (!INSN_TABLE.has(k.code) && !(v4 && INSN_TABLE_V4.has(k.code)) && !gotol) {
      env.fail('verifier.unknown-opcode', `unknown opcode ${hex2(k.code)}`, i, releaseNote(env, k));
    }
  }
}

function checkLdImm64(env: Env, i: number): void {
  const slots = env.slots;
  const [a, b] = [slots[i], slots[i + 1]];
  if (i === slots.length - 1 || b.code !== 0 || b.dst !== 0 || b.src !== 0 || b.off !== 0) {
    env.fail('verifier.ld-imm64', 'invalid bpf_ld_imm64 insn', i);
  }
  if (a.src === PseudoSrc.IMM) return;
  if (a.src === PseudoSrc.BTF_ID) throw env.notModeled('ld_imm64 with BPF_PSEUDO_BTF_ID (kernel variables)', i);
  if ((a.src !== PseudoSrc.MAP_FD && a.src !== PseudoSrc.MAP_VALUE) || (a.src === PseudoSrc.MAP_FD && b.imm !== 0)) {
    env.fail('verifier.ld-imm64', 'unrecognized bpf_ld_imm64 insn', i, releaseNote(env, a, b.imm));
  }
  const index = a.imm;
  const map = env.object.maps[index];
  if (!map) env.fail('verifier.bad-map', `fd ${index} is not pointing to valid bpf_map`, i);
  let off = 0;
  if (a.src === PseudoSrc.MAP_VALUE) {
    off = b.imm >>> 0;
    if (off >= MAX_VAR_OFF) env.fail('verifier.map-value-offset', `direct value offset of ${off} is not allowed`, i);
    // array_map_direct_value_addr(): only single-element arrays have a direct address.
    if (map.type !== MapType.ARRAY) env.fail('verifier.map-value-offset', 'no direct value access support for this map type', i);
    if (map.maxEntries !== 1 || off >= map.valueSize) {
      env.fail('verifier.map-value-offset', `invalid access to map value pointer, value_size=${map.valueSize} off=${off}`, i);
    }
  }
  env.aux[i].ldMap = { index, kind: a.src === PseudoSrc.MAP_FD ? 'fd' : 'value', off };
  if (!env.usedMaps.includes(index)) env.usedMaps.push(index);
}

