// Helpers and the kernel functions the verifier's rewrites call, done in TypeScript on emulated
// memory. Each lives at a kernel text address as a `nop; ret` stub (text.ts); a code hook on the
// nop reads rdi, rsi, rdx, rcx, r8 (BPF r1..r5), runs the function below and writes rax, and the
// stub's own `ret` returns to the JIT-ed caller.

import { BPF_FUNC_tail_call } from '../../src/isa/index.js';
import type { KernelMemory } from './memory.js';
import { ArrayMap, Errno, HashMap, type EmuMap } from './maps.js';
import { formatTracePrintk } from './printk.js';
import type { SkBuffLayout } from './structs.js';

/** What a helper can reach of the kernel and of the current run. */
export interface HelperEnv {
  readonly mem: KernelMemory;
  /** struct sk_buff of the modeled build. */
  readonly skBuff: SkBuffLayout;
  mapAt(addr: bigint): EmuMap | undefined;
  /** Appends a line to the run's trace_printk output. */
  printk(line: string): void;
  /** The next u32 of the seeded generator (bpf_user_rnd_u32). */
  prandomU32(): number;
  /** The modeled CLOCK_MONOTONIC in ns; advances on every read. */
  ktimeNs(): bigint;
  readonly cpu: number;
  /** Ends the run when the helper returns, with this r0 (the conformance suite's unwind). */
  stopRun(r0: bigint): void;
}

export type HelperFn = (env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint;

export interface KernelFunction {
  /** The kernel symbol it lives at. */
  readonly symbol: string;
  /** BPF helper id, when it is a helper; null for functions only the verifier calls. */
  readonly id: number | null;
  /** How many of r1..r5 it reads. */
  readonly args: number;
  readonly fn: HelperFn;
}

const neg = (errno: number): bigint => BigInt(-errno);

function mapOf(env: HelperEnv, addr: bigint): EmuMap {
  const m = env.mapAt(addr);
  if (!m) throw new HelperFault(`r1 = 0x${addr.toString(16)} is not a struct bpf_map (${env.mem.describe(addr)})`);
  return m;
}

/** A helper that was handed something the verifier should never have let through. */
export class HelperFault extends Error {}

function mapLookup(env: HelperEnv, map: bigint, key: bigint): bigint {
  const m = mapOf(env, map);
  if (m.kind === 'prog-array') return 0n; // fd maps have no lookup from programs (the verifier refuses it)
  return m.lookup(env.mem.read(key, m.spec.keySize));
}

function mapUpdate(env: HelperEnv, map: bigint, key: bigint, value: bigint, flags: bigint): bigint {
  const m = mapOf(env, map);
  if (m.kind === 'prog-array') return neg(Errno.EINVAL);
  return BigInt(m.update(env.mem.read(key, m.spec.keySize), env.mem.read(value, m.spec.valueSize), BigInt.asUintN(64, flags)));
}

function mapDelete(env: HelperEnv, map: bigint, key: bigint): bigint {
  const m = mapOf(env, map);
  if (m instanceof ArrayMap) return BigInt(m.delete());
  if (m instanceof HashMap) return BigInt(m.delete(env.mem.read(key, m.spec.keySize)));
  return neg(Errno.EINVAL);
}

/**
 * bpf_skb_load_helper_{8,16,32}_no_cache (net/core/filter.c): big-endian bytes at
 * `skb->data + offset` within the linear part, returned as an int (so a 32-bit value with the
 * top bit set comes back negative, sign-extended to 64 bits, and the rewritten program's
 * `if r0 s>= 0` treats it as a failed load, as on the kernel). Negative offsets (SKF_NET_OFF,
 * SKF_LL_OFF) are not modeled and fail with -EFAULT.
 */
function skbLoad(bytes: 1 | 2 | 4): HelperFn {
  return (env, skb, offset) => {
    const off = Number(BigInt.asIntN(32, offset));
    const L = env.skBuff;
    const data = env.mem.readU64(skb + BigInt(L.data));
    const headlen = env.mem.readU32(skb + BigInt(L.len)) - env.mem.readU32(skb + BigInt(L.dataLen));
    if (off < 0 || headlen - off < bytes) return neg(Errno.EFAULT);
    const b = env.mem.read(data + BigInt(off), bytes);
    let v = 0;
    for (const x of b) v = (v * 256 + x) >>> 0;
    return BigInt(v | 0);
  };
}

function tracePrintk(env: HelperEnv, fmt: bigint, size: bigint, a1: bigint, a2: bigint, a3: bigint): bigint {
  const n = Number(BigInt.asUintN(32, size));
  if (n === 0 || n > 4096) return neg(Errno.EINVAL);
  const text = formatTracePrintk(env.mem.read(fmt, n), [a1, a2, a3], {
    cString: (addr, max) => {
      try {
        return env.mem.readCString(addr, max);
      } catch {
        return null; // strncpy_from_kernel_nofault fails: the kernel prints an empty string
      }
    },
  });
  if (text === null) return neg(Errno.EINVAL);
  env.printk(text);
  return BigInt(text.length);
}

/** The helpers and rewrite targets of the modeled 5.10 kernel. */
export const KERNEL_FUNCTIONS: readonly KernelFunction[] = Object.freeze([
  { symbol: 'bpf_map_lookup_elem', id: 1, args: 2, fn: (env, m, k) => mapLookup(env, m, k) },
  { symbol: 'bpf_map_update_elem', id: 2, args: 4, fn: (env, m, k, v, f) => mapUpdate(env, m, k, v, f) },
  { symbol: 'bpf_map_delete_elem', id: 3, args: 2, fn: (env, m, k) => mapDelete(env, m, k) },
  { symbol: 'bpf_ktime_get_ns', id: 5, args: 0, fn: (env) => env.ktimeNs() },
  { symbol: 'bpf_trace_printk', id: 6, args: 5, fn: tracePrintk },
  { symbol: 'bpf_user_rnd_u32', id: 7, args: 0, fn: (env) => BigInt(env.prandomU32()) },
  { symbol: 'bpf_get_smp_processor_id', id: 8, args: 0, fn: (env) => BigInt(env.cpu) },
  { symbol: 'bpf_get_numa_node_id', id: 42, args: 0, fn: () => 0n }, // one node
  // CONFIG_HZ=250 on the reference build (programs/expected/5.10.223/meta.json): a jiffy is 4 ms.
  { symbol: 'bpf_jiffies64', id: 118, args: 0, fn: (env) => env.ktimeNs() / 4_000_000n },
  {
    // bpf_tail_call_proto has no function: the verifier rewrites every call into BPF_TAIL_CALL.
    symbol: 'tailjit_bpf_tail_call', id: BPF_FUNC_tail_call, args: 0,
    fn: () => {
      throw new HelperFault('bpf_tail_call was called as a function; the verifier turns it into BPF_TAIL_CALL');
    },
  },
  { symbol: 'bpf_ktime_get_boot_ns', id: 125, args: 0, fn: (env) => env.ktimeNs() },
  // One CPU and no preemption inside a run: taking and dropping the lock change nothing.
  { symbol: 'bpf_spin_lock', id: 93, args: 1, fn: () => 0n },
  { symbol: 'bpf_spin_unlock', id: 94, args: 1, fn: () => 0n },
  // The modeled kernel has no sockets: every lookup finds nothing (NULL), so nothing is released.
  { symbol: 'bpf_sk_lookup_tcp', id: 84, args: 5, fn: () => 0n },
  { symbol: 'bpf_sk_release', id: 86, args: 1, fn: () => 0n },
  { symbol: 'bpf_tc_sk_lookup_tcp', id: null, args: 5, fn: () => 0n },
  {
    symbol: '__htab_map_lookup_elem', id: null, args: 2,
    fn: (env, m, k) => {
      const map = mapOf(env, m);
      return map instanceof HashMap ? map.lookupElem(env.mem.read(k, map.spec.keySize)) : 0n;
    },
  },
  { symbol: 'htab_map_update_elem', id: null, args: 4, fn: (env, m, k, v, f) => mapUpdate(env, m, k, v, f) },
  { symbol: 'htab_map_delete_elem', id: null, args: 2, fn: (env, m, k) => mapDelete(env, m, k) },
  { symbol: 'array_map_update_elem', id: null, args: 4, fn: (env, m, k, v, f) => mapUpdate(env, m, k, v, f) },
  { symbol: 'array_map_delete_elem', id: null, args: 2, fn: (env, m, k) => mapDelete(env, m, k) },
  { symbol: 'bpf_skb_load_helper_8_no_cache', id: null, args: 2, fn: skbLoad(1) },
  { symbol: 'bpf_skb_load_helper_16_no_cache', id: null, args: 2, fn: skbLoad(2) },
  { symbol: 'bpf_skb_load_helper_32_no_cache', id: null, args: 2, fn: skbLoad(4) },
]);

/**
 * The conformance suite's environment: helper 5 is "unwind" (src/interp/helpers.ts
 * conformanceHelpers: returns r1, and a 0 argument ends the run with r0 = 0).
 */
export const CONFORMANCE_FUNCTIONS: readonly KernelFunction[] = Object.freeze([
  {
    symbol: 'tailjit_helper_5_unwind', id: 5, args: 1,
    fn: (env, r1) => {
      if (r1 === 0n) env.stopRun(0n);
      return r1;
    },
  },
]);

/**
 * The seeded generator behind bpf_get_prandom_u32: the kernel's prandom_u32_state()
 * (lib/random32.c, the 113-bit Tausworthe generator), seeded like prandom_seed_state().
 */
export class Prandom {
  #s: [number, number, number, number];

  constructor(seed: bigint) {
    const s64 = BigInt.asUintN(64, seed);
    const i = Number(((s64 >> 32n) ^ (s64 << 10n) ^ s64) & 0xffffffffn) >>> 0;
    const m = (x: number, min: number): number => (x < min ? (x + min) >>> 0 : x);
    this.#s = [m(i, 2), m(i, 8), m(i, 16), m(i, 128)];
    for (let k = 0; k < 10; k++) this.next(); // prandom_warmup()
  }

  next(): number {
    const t = (s: number, a: number, b: number, c: number, d: number): number =>
      ((((s & c) >>> 0) << d) ^ ((((s << a) >>> 0) ^ s) >>> b)) >>> 0;
    const [s1, s2, s3, s4] = this.#s;
    this.#s = [t(s1, 6, 13, 4294967294, 18), t(s2, 2, 27, 4294967288, 2), t(s3, 13, 21, 4294967280, 7), t(s4, 3, 12, 4294967168, 13)];
    return (this.#s[0] ^ this.#s[1] ^ this.#s[2] ^ this.#s[3]) >>> 0;
  }
}
