// Stack depths computed by hand and the limits of check_max_stack_depth()
// (tailcalls.md §7.3-§7.4, selftests.md §0.5).

import { describe, expect, test } from 'vitest';
import { PROFILES } from '../../src/profile/index.js';
import * as h from './helpers.js';
import { AluOp, JmpOp, Size, rejection } from './helpers.js';

const { mov64Imm, mov64Reg, alu64Imm, st, stx, exit, callLocal, call, jmpImm } = h;
const ret0 = [mov64Imm(0, 0), exit()];

describe('stack depth: the deepest byte below r10 that any path touches', () => {
  test('a 4-byte store at r10-12 gives 12 (not rounded here; the JIT rounds to 16)', () => {
    expect(h.run([st(Size.W, 10, -12, 0), ...ret0]).funcs[0].stackDepth).toBe(12);
  });

  test('a store through r2 = r10 - 40 at offset +8 reaches -32: depth 32', () => {
    const vp = h.run([mov64Reg(2, 10), alu64Imm(AluOp.ADD, 2, -40), mov64Imm(1, 0), stx(Size.DW, 2, 1, 8), ...ret0]);
    expect(vp.funcs[0].stackDepth).toBe(32);
  });

  test('a buffer at r10-24 that only a helper writes counts: depth 24', () => {
    // bpf_skb_load_bytes(skb, 0, r10 - 24, 8): the program itself never touches the stack.
    const vp = h.run([mov64Imm(2, 0), mov64Reg(3, 10), alu64Imm(AluOp.ADD, 3, -24), mov64Imm(4, 8), call(26), ...ret0]);
    expect(vp.funcs[0].stackDepth).toBe(24);
  });

  test("a callee writing through its caller's pointer deepens the caller's frame (48), not its own (0)", () => {
    // main: r1 = r10 - 48; call f; exit.  f (slot 4): *(u64 *)(r1 + 0) = 0; r0 = 0; exit
    const vp = h.run([mov64Reg(1, 10), alu64Imm(AluOp.ADD, 1, -48), callLocal(1), exit(), st(Size.DW, 1, 0, 0), ...ret0]);
    expect(vp.funcs.map((f) => f.stackDepth)).toEqual([48, 0]);
  });

  test('an access on a branch the verifier never takes does not count', () => {
    // r1 = 0; if r1 == 0 goto +1; *(u64 *)(r10 - 64) = r1; r0 = 0; exit
    const vp = h.run([mov64Imm(1, 0), jmpImm(JmpOp.JEQ, 1, 0, 1), stx(Size.DW, 10, 1, -64), ...ret0]);
    expect(vp.funcs[0].stackDepth).toBe(0);
  });

  test('an access below 512 bytes is refused', () => {
    const e = rejection(() => h.run([st(Size.DW, 10, -520, 0), ...ret0]));
    expect(e.kernelMessage).toBe('invalid stack off=-520 size=8');
  });
});

describe('limits of the call-graph walk', () => {
  test('two frames of 304 and 200 bytes round to 320 + 224 = 544 > 512', () => {
    const e = rejection(() => h.run([st(Size.DW, 10, -304, 0), callLocal(1), exit(), st(Size.DW, 10, -200, 0), ...ret0]));
    expect(e.code).toBe('verifier.combined-stack');
    expect(e.kernelMessage).toBe('combined stack size of 2 calls is 544. Too large');
  });

  test('an empty frame still counts 32: 480 + 32 = 512 passes', () => {
    const vp = h.run([st(Size.DW, 10, -480, 0), callLocal(1), exit(), ...ret0]);
    expect(vp.funcs.map((f) => f.stackDepth)).toEqual([480, 0]);
  });

  /** main -> f1 -> ... -> f(n-1), each `call next; exit`, the last `r0 = 0; exit`. */
  function chain(n: number, deadLast = false) {
    const insns = [];
    for (let i = 0; i < n - 1; i++) {
      if (deadLast && i === n - 2) {
        // r0 = 0; if r0 == 0 goto +1; call next; exit  (the call is never reached)
        insns.push(mov64Imm(0, 0), jmpImm(JmpOp.JEQ, 0, 0, 1), callLocal(1), exit());
      } else {
        insns.push(callLocal(1), exit());
      }
    }
    insns.push(...ret0);
    return insns;
  }

  test('nine frames seen while verifying: "the call stack of 9 frames is too deep"', () => {
    const e = rejection(() => h.run(chain(9)));
    expect(e.kernelMessage).toBe('the call stack of 9 frames is too deep');
  });

  test('eight frames are allowed', () => {
    expect(h.run(chain(8)).funcs).toHaveLength(8);
  });

  test('a ninth frame only in dead code is found by the walk, with its own message', () => {
    // The walk counts frames from 0: entering the ninth function makes frame 8.
    const e = rejection(() => h.run(chain(9, true)));
    expect(e.kernelMessage).toBe('the call stack of 8 frames is too deep !');
  });
});

describe('the 256-byte rule above a tail-calling subprogram', () => {
  /** main with `depth` bytes of stack calls f, which tail-calls slot 0. */
  function prog(depth: number) {
    return [
      st(Size.DW, 10, -depth, 0), callLocal(1), exit(),
      h.ldMap(2, 0), mov64Imm(3, 0), call(12), ...ret0,
    ];
  }
  const funcs: [string, number][] = [['main', 0], ['f', 3]];

  test('240 bytes round to 256: refused with N = 256', () => {
    const e = rejection(() => h.run(prog(240), [h.progArray('pa', 1)], { funcs }));
    expect(e.code).toBe('verifier.tail-call-stack');
    expect(e.kernelMessage).toBe('tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large');
  });

  test('the 6.18 profile rounds JIT-ed frames to 16: 240 bytes pass (selftests.md §4.4)', () => {
    const vp = h.run(prog(240), [h.progArray('pa', 1)], { funcs }, { ...h.jit, profile: PROFILES['linux-6.18'] });
    expect(vp.funcs[0].stackDepth).toBe(240);
  });

  test('224 bytes pass (tailcalls.md §7.4: "with 224 bytes it loads")', () => {
    expect(h.run(prog(224), [h.progArray('pa', 1)], { funcs }).funcs[0].stackDepth).toBe(224);
  });
});
