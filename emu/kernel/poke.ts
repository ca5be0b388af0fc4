// Text poking of direct tail-call sites in the emulated images (tailcalls.md §6): the poke run
// of a prog-array update (`prog_array_map_poke_run`, 5.10.223) as a sequence of explicit steps —
// each `bpf_arch_text_poke` compare-and-write, and the `synchronize_rcu()` of a removal as a step
// of its own — with the state of every site classified after each step. A write that would
// leave a site in the forbidden state A (site 1 nop5, site 2 nop5) is refused before it is made.

import { pokeBytes, textPoke, type PokeResult, type TextMemory } from '../../src/jit/index.js';
import type { JitPoke } from '../../src/jit/types.js';
import { KernelError } from './errors.js';
import type { KernelMemory } from './memory.js';

/** tailcalls.md §6.1: A forbidden, B taken, C fall through, D transitional (behaves like C). */
export type PokeState = 'A' | 'B' | 'C' | 'D' | 'invalid';

/** A direct tail-call site of a loaded program. */
export interface TrackedSite {
  /** Program that owns the site (its name). */
  readonly prog: string;
  readonly poke: JitPoke;
}

export interface PokeStep {
  readonly kind: 'text_poke' | 'synchronize_rcu';
  readonly prog?: string;
  /** `tailcall_target` (site 2) or `tailcall_bypass` (site 1). */
  readonly site?: 'target' | 'bypass';
  /** `0x...` */
  readonly address?: string;
  readonly before?: string;
  readonly after?: string;
  /** __bpf_arch_text_poke's result: 0 written, 1 already there, -16 EBUSY, -34 ERANGE. */
  readonly result?: PokeResult;
  /** The site's state after the step. */
  readonly state?: PokeState;
}

export interface PokeRunReport {
  readonly mapIndex: number;
  readonly key: number;
  readonly steps: readonly PokeStep[];
  /** Every site the run touched: its state before, each state it passed through, and after. */
  readonly sites: readonly { prog: string; insn: number; path: readonly PokeState[] }[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Where a 5-byte site at `ip` jumps (`e9 rel32`), null for nop5, undefined for anything else. */
export function siteTarget(bytes: Uint8Array, ip: bigint, nop5: readonly number[]): bigint | null | undefined {
  if (same(bytes, Uint8Array.from(nop5))) return null;
  if (bytes[0] !== 0xe9) return undefined;
  return ip + 5n + BigInt(new DataView(bytes.buffer, bytes.byteOffset, 5).getInt32(1, true));
}

/** The state of `poke`'s site from its two 5-byte sites. */
export function classify(poke: JitPoke, site1: Uint8Array, site2: Uint8Array, nop5: readonly number[]): PokeState {
  const bypass = siteTarget(site1, poke.tailcallBypass, nop5);
  const target = siteTarget(site2, poke.tailcallTarget, nop5);
  if (target === undefined || bypass === undefined || (bypass !== null && bypass !== poke.bypassAddr)) return 'invalid';
  if (bypass === null) return target === null ? 'A' : 'B';
  return target === null ? 'C' : 'D';
}

export function siteState(mem: KernelMemory, poke: JitPoke, nop5: readonly number[]): PokeState {
  return classify(poke, mem.read(poke.tailcallBypass, 5), mem.read(poke.tailcallTarget, 5), nop5);
}

/**
 * Runs the poke sequence of `ptrs[key]: oldFunc -> newFunc` (bpf_func addresses, null for an
 * empty slot) over `sites`, the direct sites of every program tracking the map. Only stable
 * descriptors of this (map, key) are patched.
 */
export function progArrayPokeRun(
  mem: KernelMemory, sites: readonly TrackedSite[], mapIndex: number, key: number,
  oldFunc: bigint | null, newFunc: bigint | null, nop5: readonly number[],
): PokeRunReport {
  const steps: PokeStep[] = [];
  const touched: { prog: string; insn: number; path: PokeState[] }[] = [];

  for (const { prog, poke } of sites) {
    if (!poke.stable || poke.mapIndex !== mapIndex || poke.key !== key) continue;
    const path: PokeState[] = [siteState(mem, poke, nop5)];
    touched.push({ prog, insn: poke.insnIdx, path });
    const poke1 = (site: 'target' | 'bypass', from: bigint | null, to: bigint | null): PokeResult => {
      const step = pokeSite(mem, { prog, poke }, site, from, to, nop5);
      path.push(step.state!);
      steps.push(step);
      return step.result!;
    };
    const oldAddr = oldFunc === null ? null : oldFunc + BigInt(poke.adjOff);
    const newAddr = newFunc === null ? null : newFunc + BigInt(poke.adjOff);
    if (newAddr !== null) {
      poke1('target', oldAddr, newAddr);
      if (oldAddr === null) poke1('bypass', poke.bypassAddr, null);
    } else {
      const written = poke1('bypass', oldAddr === null ? poke.bypassAddr : null, poke.bypassAddr);
      // No CPU may still be inside the unwind when site 2 becomes a nop (§6.4). A single-CPU
      // model runs nothing concurrently; the step marks where the grace period ends.
      if (written === 0) steps.push({ kind: 'synchronize_rcu', prog });
      poke1('target', oldAddr, null);
    }
  }
  return { mapIndex, key, steps, sites: touched };
}

/**
 * One `bpf_arch_text_poke(ip, BPF_MOD_JUMP, from, to)` on site 1 (`bypass`) or site 2 (`target`)
 * of a tracked site, refused before writing if it would leave the site in state A; a compare
 * that fails (-EBUSY) is the kernel's BUG_ON.
 */
export function pokeSite(mem: KernelMemory, site: TrackedSite, which: 'target' | 'bypass', from: bigint | null, to: bigint | null, nop5: readonly number[]): PokeStep {
  const { prog, poke } = site;
  const ip = which === 'target' ? poke.tailcallTarget : poke.tailcallBypass;
  refuseStateA(mem, poke, ip, to, nop5, prog);
  const text: TextMemory = { read: (a, n) => mem.read(a, n), write: (a, b) => mem.writeText(a, b) };
  const before = mem.read(ip, 5);
  const result = textPoke(text, ip, from, to, nop5);
  if (result < 0) {
    throw new KernelError('kernel.poke', `bpf_arch_text_poke(${prog} insn ${poke.insnIdx} ${which} at 0x${ip.toString(16)}) = ${result}: the site holds ${hex(before)}, not the expected instruction (kernel BUG)`);
  }
  return { kind: 'text_poke', prog, site: which, address: `0x${ip.toString(16)}`, before: hex(before), after: hex(mem.read(ip, 5)), result, state: siteState(mem, poke, nop5) };
}

/** Throws instead of writing `to` at `ip` when that would put the site into state A. */
function refuseStateA(mem: KernelMemory, poke: JitPoke, ip: bigint, to: bigint | null, nop5: readonly number[], prog: string): void {
  const next = pokeBytes(ip, to, nop5);
  if (!next) return;
  const s1 = ip === poke.tailcallBypass ? next : mem.read(poke.tailcallBypass, 5);
  const s2 = ip === poke.tailcallTarget ? next : mem.read(poke.tailcallTarget, 5);
  if (classify(poke, s1, s2, nop5) === 'A') {
    throw new KernelError('kernel.poke-forbidden-state', `writing ${hex(next)} at 0x${ip.toString(16)} would leave the tail call at insn ${poke.insnIdx} of ${prog} in state A (site 1 and site 2 both nop5)`);
  }
}
