// check_cfg() of 5.10: a depth-first walk over the slots from insn 0 that rejects jumps
// outside the program, back-edges the loader may not have (every back-edge of a call; loops
// only for unprivileged loaders) and instructions no edge reaches. The state machine and
// push order are the kernel's, so the pair of slots in each message is the kernel's too.
// The second slot of an ld_imm64 is visited as an ordinary fall-through slot, as in 5.10.

import { CallSrc, Class, JmpOp, Source, classOf, opOf, srcOf } from '../isa/index.js';
import type { Env } from './env.js';
import { jumpOff } from './kinsn.js';

const DISCOVERED = 0x10;
const EXPLORED = 0x20;
const FALLTHROUGH = 1;
const BRANCH = 2;

export function checkCfg(env: Env): void {
  const n = env.len;
  const slots = env.slots;
  const state = new Uint8Array(n);
  const stack: number[] = [0];
  const loopsAllowed = env.options.privileged !== false;
  state[0] = DISCOVERED;

  // push_insn(): 1 = pushed w, 0 = nothing to do.
  const push = (t: number, w: number, e: number, loopOk: boolean): 0 | 1 => {
    if (e === FALLTHROUGH && state[t] >= (DISCOVERED | FALLTHROUGH)) return 0;
    if (e === BRANCH && state[t] >= (DISCOVERED | BRANCH)) return 0;
    if (w < 0 || w >= n) env.fail('verifier.jump-out-of-range', `jump out of range from insn ${t} to ${w}`, t);
    if (state[w] === 0) {
      state[t] = DISCOVERED | e;
      state[w] = DISCOVERED;
      stack.push(w);
      return 1;
    }
    if ((state[w] & 0xf0) === DISCOVERED) {
      if (loopOk && loopsAllowed) return 0;
      env.fail('verifier.back-edge', `back-edge from insn ${t} to ${w}`, t);
    }
    state[t] = DISCOVERED | e;
    return 0;
  };

  while (stack.length > 0) {
    const t = stack[stack.length - 1];
    const k = slots[t];
    const cls = classOf(k.code);
    let pushed: 0 | 1 = 0;
    if (cls === Class.JMP || cls === Class.JMP32) {
      const op = opOf(k.code);
      if (op === JmpOp.EXIT) {
        pushed = 0;
      } else if (op === JmpOp.CALL) {
        pushed = push(t, t + 1, FALLTHROUGH, false);
        if (!pushed && k.src === CallSrc.LOCAL) pushed = push(t, t + k.imm + 1, BRANCH, false);
      } else if (op === JmpOp.JA) {
        if (srcOf(k.code) !== Source.K) env.fail('verifier.reserved-fields', 'BPF_JA uses reserved fields', t);
        pushed = push(t, t + jumpOff(k) + 1, FALLTHROUGH, true);
      } else {
        pushed = push(t, t + 1, FALLTHROUGH, true);
        if (!pushed) pushed = push(t, t + k.off + 1, BRANCH, true);
      }
    } else {
      pushed = push(t, t + 1, FALLTHROUGH, false);
    }
    if (pushed) continue;
    state[t] = EXPLORED;
    stack.pop();
  }
  for (let i = 0; i < n; i++) {
    if (state[i] !== EXPLORED) env.fail('verifier.unreachable', `unreachable insn ${i}`, i);
  }
}
