// The program's BTF line_info as the verifier keeps it in step with its rewrites: each record's
// `insnOff` is a slot of the program as it stands. The records are sorted by `insnOff`, as the
// kernel's check_btf_line() demands; the functions below rely on that.

import type { LineInfo } from '../elf/types.js';

/**
 * bpf_adj_linfo() (kernel/bpf/core.c, from bpf_patch_insn_single()): slot `off` became
 * `delta + 1` slots, so every record after `off` moves by `delta`; the one at `off` stays on
 * the patch's first slot.
 */
export function adjLinfo(linfo: LineInfo[], off: number, delta: number): void {
  if (delta === 0) return;
  for (let i = 0; i < linfo.length; i++) if (linfo[i].insnOff > off) linfo[i] = at(linfo[i], linfo[i].insnOff + delta);
}

/**
 * bpf_adj_linfo_after_remove() (kernel/bpf/verifier.c, from verifier_remove_insns()): slots
 * `off .. off + cnt - 1` are gone and the program now has `lenAfter` slots. Their records go,
 * except that the first live slot after them inherits the last removed record when it has
 * none of its own (unless nothing lives after them); later records move in by `cnt`.
 */
export function adjLinfoAfterRemove(linfo: LineInfo[], off: number, cnt: number, lenAfter: number): void {
  let i = 0;
  while (i < linfo.length && linfo[i].insnOff < off) i++;
  const first = i;
  let removed = 0;
  for (; i < linfo.length && linfo[i].insnOff < off + cnt; i++) removed++;
  if (lenAfter !== off && removed > 0 && (i === linfo.length || linfo[i].insnOff !== off + cnt)) {
    removed--;
    i--;
    linfo[i] = at(linfo[i], off + cnt);
  }
  linfo.splice(first, removed);
  for (let j = first; j < linfo.length; j++) linfo[j] = at(linfo[j], linfo[j].insnOff - cnt);
}

/**
 * The record covering `slot`: the last one at or before it (the verifier's find_linfo(), libbpf's
 * bpf_prog_linfo__lfind()); undefined before the first record.
 */
export function findLinfo(linfo: readonly LineInfo[], slot: number): LineInfo | undefined {
  let best: LineInfo | undefined;
  for (const l of linfo) {
    if (l.insnOff > slot) break;
    best = l;
  }
  return best;
}

const at = (l: LineInfo, insnOff: number): LineInfo => Object.freeze({ ...l, insnOff });
