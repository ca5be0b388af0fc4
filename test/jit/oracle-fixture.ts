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

/** What a register holds on every path to an instruction: a map pointer, a constant, or unknown. */
type Val = { readonly map: number } | { readonly k: bigint } | undefined;
const sameVal = (a: Val, b: Val): boolean =>
  a !== undefined && b !== undefined && ('map' in a ? 'map' in b && a.map === b.map : 'k' in b && a.k === b.k);

/** Register values after `i`, given those before it (ld_imm64 and moves tracked, all else unknown). */
function transfer(i: Insn, regs: Val[]): Val[] {
  const out = regs.slice();
  const cls = i.code & 0x07;
  if (i.code === 0x18) {
    out[i.dst] = i.src === 1 ? { map: i.imm } : i.src === 0 ? { k: BigInt.asIntN(64, (BigInt(i.immHi >>> 0) << 32n) | BigInt(i.imm >>> 0)) } : undefined;
  } else if (i.code === 0xb7) out[i.dst] = { k: BigInt(i.imm) };
  else if (i.code === 0xb4) out[i.dst] = { k: BigInt(i.imm >>> 0) };
  else if (i.code === 0xbf) out[i.dst] = regs[i.src];
  else if (i.code === 0xbc) {
    const v = regs[i.src];
    out[i.dst] = v && 'k' in v ? { k: BigInt.asUintN(32, v.k) } : undefined;
  } else if (cls === 0x04 || cls === 0x07 || cls === 0x01) out[i.dst] = undefined;
  else if (cls === 0x03 && (i.code & 0xe0) === 0xc0) {
    // STX | ATOMIC: fetching forms load into src, cmpxchg into r0.
    if (i.imm & 0x01) out[i.src] = undefined;
    if (i.imm === 0xf1) out[0] = undefined;
  } else if (i.code === 0x85 || cls === 0x00) {
    for (let r = 0; r <= 5; r++) out[r] = undefined; // calls, and LD_ABS/LD_IND (helper calls underneath)
  }
  return out;
}

/**
 * (r2, r3) at every tail call (`call 12`) of the dump, met over all paths from the function
 * starts (tailcalls.md §7.5: a key the verifier saw differ between paths is poisoned, which
 * the meet's "unknown" models). Subprograms start with unknown registers.
 */
function tailCallOperands(insns: readonly Insn[], layout: Layout, starts: readonly number[]): Map<number, { map: Val; key: Val }> {
  const state: (Val[] | null)[] = insns.map(() => null);
  const work: number[] = [];
  const flow = (k: number, regs: Val[]): void => {
    if (k === undefined || k < 0 || k >= insns.length) return;
    const old = state[k];
    const next = old ? old.map((v, r) => (sameVal(v, regs[r]) ? v : undefined)) : regs;
    if (old && next.every((v, r) => v === old[r])) return;
    state[k] = next;
    work.push(k);
  };
  for (const s of starts) flow(layout.indexAt[s], Array<Val>(11).fill(undefined));
  while (work.length > 0) {
    const k = work.pop()!;
    const i = insns[k];
    const out = transfer(i, state[k]!);
    const cls = i.code & 0x07;
    const op = i.code & 0xf0;
    const to = (slotOff: number) => layout.indexAt[layout.slotOf[k] + 1 + slotOff];
    if (cls === 0x05 || cls === 0x06) {
      if (op === 0x90) continue; // exit
      if (op === 0x00) { // ja, gotol
        flow(to(cls === 0x05 ? i.off : i.imm), out);
        continue;
      }
      if (op !== 0x80) flow(to(i.off), out);
    }
    flow(k + 1, out);
  }
  const sites = new Map<number, { map: Val; key: Val }>();
  insns.forEach((i, k) => {
    if (isTailCallDump(i) && state[k]) sites.set(k, { map: state[k]![2], key: state[k]![3] });
  });
  return sites;
}

/** max_entries of the prog array a tail call names: one for the whole program, or per map id. */
export type MaxEntries = number | ((mapId: number) => number | undefined);

/**
 * The program as the JIT got it. With one `maxEntries` for the program every poke names map 0;
 * with a per-map function a poke names the map id of the dump (the kernel's id).
 */
export function restore(p: OracleProgram, maxEntries: MaxEntries = 0): Restored {
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
  const operands = tailCallOperands(dumped, layout, sorted);
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
      const { map, key } = operands.get(k) ?? { map: undefined, key: undefined };
      const mapId = map && 'map' in map ? map.map : undefined;
      const max = typeof maxEntries === 'number' ? maxEntries : mapId === undefined ? undefined : maxEntries(mapId);
      if (max === undefined || !key || !('k' in key) || key.k < 0n || key.k >= BigInt(max)) return mk(0xf5, 0, 0, 0, 0);
      pokes.push({ insnIdx: slot, mapIndex: typeof maxEntries === 'number' ? 0 : mapId!, key: Number(key.k), func: funcOf(slot) });
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
export function symbolsFromKallsyms(text: string, returnThunk = 'srso_alias_return_thunk'): KernelSymbols & { byName: Map<string, bigint> } {
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
    // x86_return_thunk points at the SRSO alias thunk on the EPYC-Milan guest (tailcalls.md §0);
    // the 6.18 host (AMD family 0x1a, "Safe RET, no microcode") returns through srso_return_thunk.
    returnThunk: need(returnThunk),
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
