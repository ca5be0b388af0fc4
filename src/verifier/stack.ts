// check_max_stack_depth() of 5.10: a walk over the call graph from the main function that
// adds up each frame's stack (rounded to the interpreter's 32 bytes, an empty stack counting
// 32), enforces the 512-byte path limit, the 256-byte limit above a tail-calling subprogram
// and the frame limit, and marks tail_call_reachable functions (tailcalls.md §7.3-§7.4).
// It scans every instruction of a function, dead code included, and walks a callee once per
// call site; its "seen a tail-calling callee" flag is never cleared, which over-marks the
// callers of later calls exactly as the kernel does.

import { CallSrc, Class, JmpOp } from '../isa/index.js';
import type { Env } from './env.js';

const CALL = Class.JMP | JmpOp.CALL;

export const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

export function checkMaxStackDepth(env: Env): void {
  const rules = env.options.profile.verifier;
  const sp = env.subprogs;
  const frameSize = (idx: number) => roundUp(Math.max(sp[idx].stackDepth, 1), rules.frameRounding);
  const retInsn: number[] = [];
  const retProg: number[] = [];
  let depth = 0;
  let frame = 0;
  let idx = 0;
  let i = 0;
  let tailCallReachable = false;
  let enter = true;
  for (;;) {
    if (enter) {
      if (idx > 0 && sp[idx].hasTailCall && depth >= rules.tailCallCallerStackLimit) {
        env.fail('verifier.tail-call-stack', `tail_calls are not allowed when call stack of previous frames is ${depth} bytes. Too large`);
      }
      depth += frameSize(idx);
      if (depth > rules.maxStack) env.fail('verifier.combined-stack', `combined stack size of ${frame + 1} calls is ${depth}. Too large`);
      enter = false;
    }
    const end = env.subprogEnd(idx);
    let called = false;
    for (; i < end; i++) {
      const k = env.slots[i];
      if (k.code !== CALL || k.src !== CallSrc.LOCAL) continue;
      retInsn[frame] = i + 1;
      retProg[frame] = idx;
      i = i + k.imm + 1;
      idx = env.findSubprog(i);
      if (sp[idx].hasTailCall) tailCallReachable = true;
      frame++;
      if (frame >= rules.maxCallFrames) env.fail('verifier.call-stack-depth', `the call stack of ${frame} frames is too deep !`);
      called = true;
      enter = true;
      break;
    }
    if (called) continue;
    if (tailCallReachable) for (let j = 0; j < frame; j++) sp[retProg[j]].tailCallReachable = true;
    if (frame === 0) return;
    depth -= frameSize(idx);
    frame--;
    i = retInsn[frame];
    idx = retProg[frame];
  }
}
