// The privileged loader's dead-code passes of 5.10 (they change the instruction count):
// opt_hard_wire_dead_code_branches() turns a conditional jump with one unvisited side into
// `ja` (always) or `ja 0` (never), opt_remove_dead_code() deletes unvisited slots and
// opt_remove_nops() deletes every `ja 0`. An unprivileged loader would get
// sanitize_dead_code() instead, which this model does not do (privileged only).

import { Class, JmpOp, classOf, opOf } from '../isa/index.js';
import type { Env } from './env.js';
import { ja } from './kinsn.js';

function isCondJump(code: number): boolean {
  const cls = classOf(code);
  if (cls === Class.JMP32) return opOf(code) !== JmpOp.JA; // JMP32 | JA is gotol
  if (cls !== Class.JMP) return false;
  const op = opOf(code);
  return op !== JmpOp.JA && op !== JmpOp.EXIT && op !== JmpOp.CALL;
}

export function hardWireDeadCodeBranches(env: Env): void {
  for (let i = 0; i < env.len; i++) {
    const k = env.slots[i];
    if (!isCondJump(k.code)) continue;
    let off: number;
    if (!env.aux[i + 1].seen) off = k.off;
    else if (!env.aux[i + 1 + k.off].seen) off = 0;
    else continue;
    env.slots[i] = ja(off);
  }
}

export function removeDeadCode(env: Env): void {
  for (let i = 0; i < env.len; i++) {
    let j = 0;
    while (i + j < env.len && !env.aux[i + j].seen) j++;
    if (j) env.remove(i, j);
  }
}

export function removeNops(env: Env): void {
  for (let i = 0; i < env.len; i++) {
    const k = env.slots[i];
    if (k.code === (Class.JMP | JmpOp.JA) && k.dst === 0 && k.src === 0 && k.off === 0 && k.imm === 0) {
      env.remove(i, 1);
      i--;
    }
  }
}
