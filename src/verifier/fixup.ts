// fixup_bpf_calls() of 5.10.223 (privileged loader) and the address rewrites: division and
// modulo by a register get their zero checks, legacy packet loads become calls of the
// skb load helpers, bpf_tail_call becomes BPF_TAIL_CALL (direct with a poke descriptor, or
// indirect), map helpers of JIT-ed programs are inlined (array and hash lookups) or called
// as the map's own operation, and every other helper call gets `imm = func -
// __bpf_call_base`. Sequences were checked against the 5.10.223 dumps of
// test/verifier/fixtures/rewrites.bpf.o.

import { AluOp, Class, CallSrc, JmpOp, Mode, Size, Source, classOf, modeOf, opOf, sizeOf } from '../isa/index.js';
import { MapType } from '../elf/types.js';
import type { Env } from './env.js';
import { HelperId, MAP_OP_HELPERS } from './helpers.js';
import {
  TAIL_CALL_CODE, alu32Reg, alu64Imm, alu64Reg, emitCall, exitInsn, ja, jmpImm, ldxMem, mov32Reg, mov64Imm,
  mov64Reg, raw, type KInsn,
} from './kinsn.js';
import { roundUp } from './stack.js';

/** offsetof(struct htab_elem, key) on the reference build. */
const HTAB_ELEM_KEY_OFF = 48;
const CALL = Class.JMP | JmpOp.CALL;

/** The kernel functions a rewrite calls, by the name the layout knows them by. */
export const KernelSymbol = {
  skbLoad8: 'bpf_skb_load_helper_8_no_cache',
  skbLoad16: 'bpf_skb_load_helper_16_no_cache',
  skbLoad32: 'bpf_skb_load_helper_32_no_cache',
  htabLookup: '__htab_map_lookup_elem',
  /** tc programs' socket lookups after 5.10 (6.1.192's images call it; 5.10.223's call bpf_sk_lookup_tcp). */
  tcSkLookupTcp: 'bpf_tc_sk_lookup_tcp',
  /** Kernel data, not a function: the u64 tick counter bpf_jiffies64 reads. */
  jiffies: 'jiffies',
} as const;

/** map->ops of the map types modeled: the functions a map helper call is redirected to. */
const MAP_OPS: Partial<Record<number, Partial<Record<number, string>>>> = {
  [MapType.ARRAY]: { [HelperId.map_update_elem]: 'array_map_update_elem', [HelperId.map_delete_elem]: 'array_map_delete_elem' },
  [MapType.PERCPU_ARRAY]: {
    [HelperId.map_lookup_elem]: 'percpu_array_map_lookup_elem',
    [HelperId.map_update_elem]: 'array_map_update_elem', [HelperId.map_delete_elem]: 'array_map_delete_elem',
  },
  [MapType.HASH]: { [HelperId.map_update_elem]: 'htab_map_update_elem', [HelperId.map_delete_elem]: 'htab_map_delete_elem' },
  [MapType.PERCPU_HASH]: {
    [HelperId.map_lookup_elem]: 'htab_percpu_map_lookup_elem',
    [HelperId.map_update_elem]: 'htab_percpu_map_update_elem', [HelperId.map_delete_elem]: 'htab_map_delete_elem',
  },
};

function callImm(env: Env, addr: bigint, slot: number): number {
  const d = addr - env.options.layout.bpfCallBase;
  if (d < -(1n << 31n) || d >= 1n << 31n) throw env.notModeled(`call target 0x${addr.toString(16)} is not within ±2 GiB of __bpf_call_base`, slot);
  return Number(d);
}

function symbol(env: Env, name: string): bigint | undefined {
  return env.options.layout.kernelSymbol?.(name);
}

/** Zero checks around division and modulo by a register (5.10.y "bpf: Fix 32 bit src register truncation"). */
function divModPatch(k: KInsn): KInsn[] {
  const is64 = classOf(k.code) === Class.ALU64;
  const jcls = is64 ? Class.JMP : Class.JMP32;
  if (opOf(k.code) === AluOp.DIV) {
    // x / 0 = 0
    return [raw(jcls | JmpOp.JNE | Source.K, k.src, 0, 2, 0), alu32Reg(AluOp.XOR, k.dst, k.dst), ja(1), { ...k }];
  }
  // x % 0 = x (the 32-bit form also zero-extends x)
  const seq = [raw(jcls | JmpOp.JEQ | Source.K, k.src, 0, 1 + (is64 ? 0 : 1), 0), { ...k }];
  return is64 ? seq : [...seq, ja(1), mov32Reg(k.dst, k.dst)];
}

/** BPF_REG_AX, the verifier's hidden scratch register. */
const REG_AX = 11;

/**
 * cpu v4 sdiv/smod (off = 1) as do_misc_fixups() leaves them (6.6+; the 6.18.44 host's dump of
 * programs/isa/sdiv.bpf.o): by the constant -1, `neg` (sdiv) or `w = 0` (smod); by a register,
 * guards for 0 and -1 through AX = src + 1 (AX > 1 is the plain case):
 *   sdiv: AX = src; AX += 1; if AX > 1 goto div; if AX == 0 goto neg; dst = 0; neg: dst = -dst; goto out; div: sdiv
 *   smod: AX = src; AX += 1; if AX > 1 goto mod; if AX == 1 goto keep; w dst = 0; goto out; mod: smod;
 *         [32-bit: goto out; keep: w dst = w dst]
 * The copy into AX is always 64-bit; the add, the compares, the zeroing and the negation have
 * the instruction's width. Returns null for every other instruction.
 */
export function signedDivModPatch(k: KInsn): KInsn[] | null {
  const cls = classOf(k.code);
  if ((cls !== Class.ALU && cls !== Class.ALU64) || k.off !== 1) return null;
  const op = opOf(k.code);
  if (op !== AluOp.DIV && op !== AluOp.MOD) return null;
  const is64 = cls === Class.ALU64;
  const isDiv = op === AluOp.DIV;
  const neg = raw(cls | AluOp.NEG, k.dst, 0, 0, 0);
  const zero = raw(Class.ALU | AluOp.MOV | Source.K, k.dst, 0, 0, 0); // the 64-bit sdiv zeroes with mov64
  if (!(k.code & Source.X)) {
    if (k.imm !== -1) return null;
    return [isDiv ? neg : zero];
  }
  const jcls = is64 ? Class.JMP : Class.JMP32;
  const head = [mov64Reg(REG_AX, k.src), raw(cls | AluOp.ADD | Source.K, REG_AX, 0, 0, 1), raw(jcls | JmpOp.JGT | Source.K, REG_AX, 0, isDiv ? 4 : 3, 1)];
  if (isDiv) {
    const dst0 = is64 ? mov64Imm(k.dst, 0) : zero;
    return [...head, raw(jcls | JmpOp.JEQ | Source.K, REG_AX, 0, 1, 0), dst0, neg, ja(1), { ...k }];
  }
  if (is64) return [...head, raw(jcls | JmpOp.JEQ | Source.K, REG_AX, 0, 3, 1), zero, ja(1), { ...k }];
  return [...head, raw(jcls | JmpOp.JEQ | Source.K, REG_AX, 0, 4, 1), zero, ja(1), { ...k }, ja(1), mov32Reg(k.dst, k.dst)];
}

/** bpf_gen_ld_abs(): the value comes from a helper; a failed load returns 0 from the program. */
function ldAbsPatch(env: Env, slot: number, k: KInsn): KInsn[] {
  const out: KInsn[] = [];
  if (modeOf(k.code) === Mode.ABS) {
    out.push(mov64Imm(2, k.imm));
  } else {
    out.push(mov64Reg(2, k.src));
    if (k.imm) out.push(alu64Imm(AluOp.ADD, 2, k.imm));
  }
  out.push(mov64Reg(1, 6));
  const name = sizeOf(k.code) === Size.B ? KernelSymbol.skbLoad8 : sizeOf(k.code) === Size.H ? KernelSymbol.skbLoad16 : KernelSymbol.skbLoad32;
  const addr = symbol(env, name);
  if (addr === undefined) throw env.notModeled(`the layout has no address for ${name} (legacy packet loads)`, slot);
  out.push(emitCall(callImm(env, addr, slot)));
  out.push(jmpImm(JmpOp.JSGE, 0, 0, 2), alu32Reg(AluOp.XOR, 0, 0), exitInsn());
  return out;
}

/**
 * array_map_gen_lookup() for a privileged loader (no index mask: bypass_spec_v1). `valueOff`:
 * offsetof(struct bpf_array, value), the `ptrs` of the same union (tailcalls.md §4.3: 0x110 on
 * 5.10.223 and 6.1.192, 0x138 on the 6.18 host).
 */
function arrayLookup(valueOff: number, elemValueSize: number, maxEntries: number): KInsn[] {
  const elem = roundUp(elemValueSize, 8);
  const pow2 = (elem & (elem - 1)) === 0;
  return [
    alu64Imm(AluOp.ADD, 1, valueOff),
    ldxMem(Size.W, 0, 2, 0),
    jmpImm(JmpOp.JGE, 0, maxEntries, 3),
    pow2 ? alu64Imm(AluOp.LSH, 0, Math.log2(elem)) : alu64Imm(AluOp.MUL, 0, elem),
    alu64Reg(AluOp.ADD, 0, 1),
    ja(1),
    mov64Imm(0, 0),
  ];
}

/** 5.10 on 64-bit with a JIT: bpf_jiffies64 becomes `r0 = &jiffies ll; r0 = *(u64 *)(r0 + 0)`. */
function jiffiesLoad(env: Env, slot: number): KInsn[] {
  const addr = symbol(env, KernelSymbol.jiffies);
  if (addr === undefined) throw env.notModeled(`bpf_jiffies64 (inlined by 5.10 when JIT-ed): the layout has no address for ${KernelSymbol.jiffies}`, slot);
  const v = BigInt.asUintN(64, addr);
  return [
    raw(Class.LD | Mode.IMM | Size.DW, 0, 0, 0, Number(BigInt.asIntN(32, v & 0xffffffffn))),
    raw(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
    ldxMem(Size.DW, 0, 0, 0),
  ];
}

export function fixupBpfCalls(env: Env): void {
  for (let i = 0; i < env.len; i++) {
    const k = env.slots[i];
    const cls = classOf(k.code);
    const signed = signedDivModPatch(k);
    if (signed) {
      env.patch(i, signed);
      i += signed.length - 1;
      continue;
    }
    if ((cls === Class.ALU || cls === Class.ALU64) && (opOf(k.code) === AluOp.DIV || opOf(k.code) === AluOp.MOD) && (k.code & Source.X) && k.off === 0) {
      const p = divModPatch(k);
      env.patch(i, p);
      i += p.length - 1;
      continue;
    }
    if (cls === Class.LD && (modeOf(k.code) === Mode.ABS || modeOf(k.code) === Mode.IND)) {
      const p = ldAbsPatch(env, i, k);
      env.patch(i, p);
      i += p.length - 1;
      continue;
    }
    if (k.code !== CALL || k.src === CallSrc.LOCAL) continue;
    i = fixupHelperCall(env, i, k);
  }
}

/** Rewrites one helper call at `i`; returns the slot of the last instruction it produced. */
function fixupHelperCall(env: Env, i: number, k: KInsn): number {
  const aux = env.aux[i];
  if (k.imm === HelperId.tail_call) {
    tailCall(env, i, k);
    return i;
  }
  if (k.imm === HelperId.jiffies64 && env.jitRequested) {
    const p = jiffiesLoad(env, i);
    env.patch(i, p);
    return i + p.length - 1;
  }
  if (env.jitRequested && MAP_OP_HELPERS.has(k.imm) && aux.mapPtr !== undefined && aux.mapPtr !== 'poison') {
    const map = env.map(aux.mapPtr);
    if (k.imm === HelperId.map_lookup_elem && map.type === MapType.ARRAY && (map.flags & 0x1000) === 0) {
      const p = arrayLookup(env.options.profile.jit.offsets.arrayPtrs, map.valueSize, map.maxEntries);
      env.patch(i, p);
      return i + p.length - 1;
    }
    if (k.imm === HelperId.map_lookup_elem && map.type === MapType.HASH) {
      const addr = symbol(env, KernelSymbol.htabLookup);
      if (addr !== undefined) {
        const p = [emitCall(callImm(env, addr, i)), jmpImm(JmpOp.JEQ, 0, 0, 1), alu64Imm(AluOp.ADD, 0, HTAB_ELEM_KEY_OFF + roundUp(map.keySize, 8))];
        env.patch(i, p);
        return i + p.length - 1;
      }
      env.notChecked.push(`inlined hash lookup: the layout has no ${KernelSymbol.htabLookup}; the helper is called instead`);
    }
    const opName = MAP_OPS[map.type]?.[k.imm];
    if (opName !== undefined) {
      const addr = symbol(env, opName);
      if (addr !== undefined) {
        env.slots[i] = { ...k, imm: callImm(env, addr, i) };
        return i;
      }
      env.notChecked.push(`direct map operation ${opName}: not in the layout; the generic helper is called instead`);
    } else if (map.type !== MapType.ARRAY && map.type !== MapType.HASH) {
      throw env.notModeled(`map helper #${k.imm} on map type ${map.type} (its map->ops functions)`, i);
    }
  }
  const tcAddr = tcVariant(env, k.imm);
  if (tcAddr !== undefined) {
    env.slots[i] = { ...k, imm: callImm(env, tcAddr, i) };
    return i;
  }
  const addr = env.options.layout.helperAddress(k.imm);
  if (addr === undefined) env.fail('verifier.unknown-helper', `unknown func #${k.imm}`, i);
  env.slots[i] = { ...k, imm: callImm(env, addr, i) };
  return i;
}

/**
 * After 5.10 a tc program's bpf_sk_lookup_tcp is bpf_tc_sk_lookup_tcp_proto (the netns of the
 * skb's device): its function, when the profile is not 5.10's and the layout has it.
 */
function tcVariant(env: Env, id: number): bigint | undefined {
  if (id !== HelperId.sk_lookup_tcp || env.program.type !== 'sched_cls' || env.options.profile.name === 'linux-5.10') return undefined;
  const addr = symbol(env, KernelSymbol.tcSkLookupTcp);
  if (addr === undefined) env.notChecked.push(`${KernelSymbol.tcSkLookupTcp}: not in the layout; bpf_sk_lookup_tcp is called instead`);
  return addr;
}

/** §7.5: BPF_TAIL_CALL with a poke descriptor when key and map are known, else indirect. */
function tailCall(env: Env, i: number, k: KInsn): void {
  const aux = env.aux[i];
  // Without the x86-64 JIT the interpreter runs it and the program's stack is the maximum.
  if (!env.jitRequested) env.subprogs[0].stackDepth = env.options.profile.verifier.maxStack;
  const direct = env.options.privileged !== false && env.jitRequested && aux.mapKey !== undefined && aux.mapKey !== 'poison'
    && aux.mapPtr !== undefined && aux.mapPtr !== 'poison';
  if (!direct) {
    env.slots[i] = { ...k, code: TAIL_CALL_CODE, imm: 0 };
    return;
  }
  if (env.pokes.length >= env.options.profile.verifier.maxPokes) env.fail('verifier.not-modeled', 'adding tail call poke descriptor failed', i);
  env.pokes.push({ insnIdx: i, mapIndex: aux.mapPtr as number, key: aux.mapKey as number });
  env.slots[i] = { ...k, code: TAIL_CALL_CODE, imm: env.pokes.length };
}

/** The map addresses replace_map_fd_with_map_ptr() put into every ld_imm64 (src_reg cleared at the end). */
export function resolveMapAddresses(env: Env): void {
  for (let i = 0; i < env.len; i++) {
    const m = env.aux[i].ldMap;
    if (!m || env.slots[i].code !== (Class.LD | Mode.IMM | Size.DW)) continue;
    const addr = m.kind === 'fd' ? env.options.layout.mapAddress(m.index) : env.options.layout.mapValueAddress(m.index) + BigInt(m.off);
    const v = BigInt.asUintN(64, addr);
    env.slots[i] = { ...env.slots[i], src: 0, imm: Number(BigInt.asIntN(32, v & 0xffffffffn)) };
    env.slots[i + 1] = { ...env.slots[i + 1], imm: Number(BigInt.asIntN(32, v >> 32n)) };
  }
}
