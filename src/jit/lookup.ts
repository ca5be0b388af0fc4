// From x86 code back to BPF instructions, for the debugger and listings.

import type { JitFunc } from './types.js';

/**
 * The BPF instruction whose code holds byte `x86Offset` of `func`'s image, as a program slot;
 * `'prologue'` for the prologue (which the kernel counts with instruction 0); undefined outside
 * the image. Instructions that emit no bytes never contain an offset.
 */
export function bpfInsnAt(func: JitFunc, x86Offset: number): number | 'prologue' | undefined {
  if (x86Offset < 0 || x86Offset >= func.image.length) return undefined;
  if (x86Offset < func.addrs[0]) return 'prologue';
  const { insnSlots, addrs } = func;
  // Binary search for the last instruction starting at or before the offset; starts are
  // non-decreasing, and a zero-length instruction shares its start with the next one.
  let lo = 0;
  let hi = insnSlots.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (addrs[insnSlots[mid]] <= x86Offset) lo = mid;
    else hi = mid - 1;
  }
  return func.firstSlot + insnSlots[lo];
}

/** Start and end offsets of the code of the instruction at function-relative index `k`. */
export function insnRange(func: JitFunc, k: number): { start: number; end: number } {
  const start = func.addrs[func.insnSlots[k]];
  const end = k + 1 < func.insnSlots.length ? func.addrs[func.insnSlots[k + 1]] : func.image.length;
  return { start, end };
}
