// Turns a kernel oracle's answer for one program (koracle's `xlated_hex`, `jited_func_lens`,
// `jited_ksyms`, `verifier_stats`) back into the JIT's input: a VerifiedProgram as the 5.10
// verifier handed it to the JIT. What the xlated dump hides is restored by the kernel's rules:
//
// - bpf2bpf calls: the dump shows `off` = relative offset, `imm` = callee index; the JIT input
//   keeps the relative offset in `imm` (VerifiedProgram's convention).
// - map pointers: the dump shows `src` = 1/2 with the map id; the JIT sees a 64-bit kernel
//   address. A made-up address with a non-zero high half is used (the JIT always emits a
//   10-byte movabs for those) and its 8 bytes are masked when images are compared.
// - tail calls: the dump shows `call 12`. Direct or indirect is the verifier's decision
//   (tailcalls.md §7.5): direct when the key in r3 is a constant below max_entries on every
//   path. Here: when the one definition of r3 reaching the call in straight-line code is
//   `r3 = K` (what bpf_tail_call_static emits), with max_entries from the program's source.
// - tail_call_reachable: the marking walk of tailcalls.md §7.3, over the dump's call graph.

import { decode, type Insn, insn as mk, Layout } from '../../src/isa/insn.js';
import type { KernelSymbols } from '../../src/jit/types.js';
import type { PokeDescriptor, VerifiedFunc, VerifiedProgram } from '../../src/verifier/types.js';
import { unhex } from './fixtures.js';

export interface OracleProgram {
  readonly name: string;
  readonly xlated_hex: string;
  readonly jited_hex: string;
  readonly jited_func_lens: readonly number[];
  readonly jited_ksyms: readonly string[];
  readonly verifier_stats: string;
}


export interface Restored {
  readonly prog: VerifiedProgram;
  /** Slots of ld_imm64 instructions whose value is a map address (to mask). */
  readonly mapLoads: ReadonlySet<number>;
}

const isPseudoCall = (i: Insn): boolean => i.code === 0x85 && i.src === 1;
const isTailCallDump = (i: Insn): boolean => i.code === 0x85 && i.src === 0 && i.imm === 12;

/** Made-up map addresses: hi half non-zero, as every kernel address. */
const fakeMapAddress = (id: number, off: number): bigint => 0xffff888000000000n + BigInt(id) * 0x10000n + BigInt(off >>> 0);

/**
 * The key of the tail call at index `k` when the only definition of r3 reaching it is
 * `mov r3, K` in the same basic block; undefined when r3 comes from anything else, from before a
 * jump or call, or when another path joins in between.
 */
function constantKey(insns: readonly Insn[], layout: Layout, k: number, targets: ReadonlySet<number>): number | undefined {
  for (let j = k - 1; j >= 0; j--) {
    if (targets.has(layout.slotOf[j + 1])) return undefined; // a path joins before insn j + 1
    const i = insns[j];
    const cls = i.code & 0x07;
    if (cls === 0x05 || cls === 0x06) return undefined; // a jump or a call (which clobbers r3)
    const writesR3 = i.dst === 3 && cls !== 0x02 && cls !== 0x03; // ST/STX write memory, not dst
    if (writesR3) return i.code === 0xb7 || i.code === 0xb4 ? i.imm : undefined;
  }
  return undefined;
}

/** Slots that some jump lands on. */
function jumpTargets(insns: readonly Insn[], layout: Layout): Set<number> {
  const t = new Set<number>();
  insns.forEach((i, k) => {
    const cls = i.code & 0x07;
    if ((cls === 0x05 || cls === 0x06) && (i.code & 0xf0) !== 0x80 && (i.code & 0xf0) !== 0x90) t.add(layout.slotOf[k] + 1 + i.off);
  });
  return t;
}

export function restore(p: OracleProgram, maxEntries = 0, mapIndexOfSites = 0): Restored {
  const dumped = decode(unhex(p.xlated_hex));
  const layout = new Layout(dumped);
  // Function starts: 0 and every pseudo call's target.
  const starts = new Set<number>([0]);
  dumped.forEach((i, k) => {
    if (isPseudoCall(i)) starts.add(layout.slotOf[k] + 1 + i.off);
  });
  const sorted = [...starts].sort((a, b) => a - b);
  if (sorted.length !== p.jited_func_lens.length) {
    throw new Error(`${p.name}: ${sorted.length} functions in the xlated calls, ${p.jited_func_lens.length} JITed`);
  }
  const depths = stackDepths(p.verifier_stats, sorted.length);
  const mapLoads = new Set<number>();
  const pokes: PokeDescriptor[] = [];
  const targets = jumpTargets(dumped, layout);
  const funcOf = (slot: number): number => sorted.filter((s) => s <= slot).length - 1;
  const insns = dumped.map((i, k) => {
    const slot = layout.slotOf[k];
    if (isPseudoCall(i)) return mk(i.code, i.dst, i.src, 0, i.off);
    if (i.code === 0x18 && (i.src === 1 || i.src === 2)) {
      mapLoads.add(slot);
      const v = fakeMapAddress(i.imm, i.src === 2 ? i.immHi : 0);
      return mk(0x18, i.dst, 0, 0, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
    }
    if (isTailCallDump(i)) {
      const key = constantKey(dumped, layout, k, targets);
      if (key === undefined || key < 0 || key >= maxEntries) return mk(0xf5, 0, 0, 0, 0);
      pokes.push({ insnIdx: slot, mapIndex: mapIndexOfSites, key, func: funcOf(slot) });
      return mk(0xf5, 0, 0, 0, pokes.length);
    }
    return i;
  });
  const total = layout.slots;
  const marks = tailCallReachable(insns, layout, sorted, total);
  const funcs: VerifiedFunc[] = sorted.map((start, f) => ({
    start,
    end: f + 1 < sorted.length ? sorted[f + 1] : total,
    name: f === 0 ? p.name : `${p.name}.func${f}`,
    stackDepth: depths[f],
    hasTailCall: hasTailCall(insns, layout, start, f + 1 < sorted.length ? sorted[f + 1] : total),
    tailCallReachable: marks[f],
  }));
  return { prog: { name: p.name, type: 'sched_cls', insns, funcs, pokes, usedMaps: [] }, mapLoads };
}

/** "stack depth 12+0+16" (one number per function). */
function stackDepths(stats: string, n: number): number[] {
  const m = /stack depth ([0-9+]+)/.exec(stats);
  if (!m) throw new Error('no stack depth in verifier_stats');
  const d = m[1].split('+').map(Number);
  if (d.length !== n) throw new Error(`stack depth has ${d.length} entries for ${n} functions`);
  return d;
}

function hasTailCall(insns: readonly Insn[], layout: Layout, start: number, end: number): boolean {
  return insns.some((i, k) => layout.slotOf[k] >= start && layout.slotOf[k] < end && i.code === 0xf5);
}

/**
 * check_max_stack_depth's marking (tailcalls.md §7.3): walk the call graph from the main
 * function; entering a callee with a tail call sets a sticky flag; at the end of every function
 * walked while the flag is set, every function below it on the walk stack is marked.
 */
function tailCallReachable(insns: readonly Insn[], layout: Layout, starts: readonly number[], total: number): boolean[] {
  const marks = starts.map(() => false);
  const end = (f: number): number => (f + 1 < starts.length ? starts[f + 1] : total);
  let flag = false;
  const walk = (f: number, stack: number[]): void => {
    insns.forEach((i, k) => {
      const slot = layout.slotOf[k];
      if (slot < starts[f] || slot >= end(f) || !isPseudoCall(i)) return;
      const g = starts.indexOf(slot + 1 + i.imm);
      if (hasTailCall(insns, layout, starts[g], end(g))) flag = true;
      walk(g, [...stack, f]);
    });
    if (flag) for (const g of stack) marks[g] = true;
  };
  walk(0, []);
  return marks;
}

/** Kernel symbols from kvm-oracle's kallsyms.txt (`address type name` lines). */
export function symbolsFromKallsyms(text: string): KernelSymbols & { byName: Map<string, bigint> } {
  const byName = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const [addr, , name] = line.trim().split(/\s+/);
    if (name) byName.set(name, BigInt('0x' + addr));
  }
  const need = (n: string): bigint => {
    const v = byName.get(n);
    if (v === undefined) throw new Error(`kallsyms has no ${n}`);
    return v;
  };
  return {
    bpfCallBase: need('__bpf_call_base'),
    // x86_return_thunk points at the SRSO alias thunk on the EPYC-Milan guest (tailcalls.md §0).
    returnThunk: need('srso_alias_return_thunk'),
    indirectThunkRcx: need('__x86_indirect_thunk_rcx'),
    exHandlerBpf: need('ex_handler_bpf'),
    byName,
  };
}

/** The image with the 8 immediate bytes of each map-address movabs replaced by 0. */
export function maskMapLoads(image: Uint8Array, addrs: Int32Array, firstSlot: number, mapLoads: ReadonlySet<number>, len: number): Uint8Array {
  const out = image.slice();
  for (const slot of mapLoads) {
    const s = slot - firstSlot;
    if (s < 0 || s >= len) continue;
    const at = addrs[s];
    out.fill(0, at + 2, at + 10); // REX.W, b8+r, then imm64
  }
  return out;
}
