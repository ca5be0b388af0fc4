// bpf2bpf calls with real frames, helpers, callx and the conformance suite's unwind helper.

import { describe, expect, test } from 'vitest';
import {
  HelperRegistry, MAX_CALL_FRAMES, conformanceHelpers, runProgram,
} from '../../src/interp/index.js';
import {
  alu64, alu64x, call, callLocal, callx, exit, jmp, label, ldx, mov64, mov64x, prog, st, runError,
} from './build.js';


describe('bpf2bpf calls', () => {
  test('the callee gets r1-r5 and its r0 comes back; r6-r9 are restored after exit', () => {
    // As conformance call_local.data: callee returns r1+..+r5 = 15 and clobbers r6-r9.
    const p = prog(
      mov64(1, 1), mov64(2, 2), mov64(3, 3), mov64(4, 4), mov64(5, 5),
      mov64(6, 6), mov64(7, 7), mov64(8, 8), mov64(9, 9),
      callLocal('f'),
      // r0 = r0 * 10000 + r6 * 1000 + r7 * 100 + r8 * 10 + r9 -> 15*10000 + 6789
      alu64('MUL', 0, 10000), alu64('MUL', 6, 1000), alu64('MUL', 7, 100), alu64('MUL', 8, 10),
      alu64x('ADD', 0, 6), alu64x('ADD', 0, 7),
      alu64x('ADD', 0, 8), alu64x('ADD', 0, 9),
      exit(),
      label('f'),
      mov64x(0, 1), alu64x('ADD', 0, 2), alu64x('ADD', 0, 3),
      alu64x('ADD', 0, 4), alu64x('ADD', 0, 5),
      mov64(6, 0), mov64(7, 0), mov64(8, 0), mov64(9, 0),
      exit(),
    );
    const res = runProgram(p);
    expect(res.r0).toBe(156789n);
    expect(res.stats.localCalls).toBe(1);
    expect(res.stats.maxCallDepth).toBe(2);
  });

  test('each frame has its own stack: the callee writing r10-8 leaves the caller\'s r10-8', () => {
    const p = prog(
      st('dw', 10, -8, 111),
      callLocal('f'),
      ldx('dw', 0, 10, -8), // 111 if the caller's slot survived
      exit(),
      label('f'),
      ldx('dw', 0, 10, -8), // a fresh stack reads 0
      st('dw', 10, -8, 222),
      jmp('JEQ', 0, 0, 'ok'),
      mov64(0, -1),
      label('ok'),
      exit(),
    );
    expect(runProgram(p).r0).toBe(111n);
  });

  test('r10 of a callee is the top of a different stack, restored on return', () => {
    const p = prog(mov64x(6, 10), callLocal('f'), alu64x('SUB', 0, 10), exit(), label('f'), mov64x(0, 10), exit());
    // r0 = callee's r10 - caller's r10 after return (the caller's r10 again): non-zero
    const res = runProgram(p);
    expect(res.r0).not.toBe(0n);
    expect(runProgram(prog(mov64x(6, 10), callLocal('f'), mov64x(0, 10), alu64x('SUB', 0, 6), exit(), label('f'), exit())).r0).toBe(0n);
  });

  test('a callee may write through a pointer to its caller\'s stack', () => {
    const p = prog(
      mov64x(1, 10), alu64('ADD', 1, -16),
      callLocal('f'),
      ldx('dw', 0, 10, -16),
      exit(),
      label('f'),
      st('dw', 1, 0, 77),
      exit(),
    );
    expect(runProgram(p).r0).toBe(77n);
  });

  test('a returned frame\'s stack may no longer be touched', () => {
    // The callee leaks its r10 in r0; the caller then loads from it.
    const p = prog(callLocal('f'), ldx('dw', 0, 0, -8), exit(), label('f'), mov64x(0, 10), exit());
    const e = runError(p);
    expect(e.code).toBe('interp.fault');
    expect(e.details.region).toBe('stack of frame 1');
    expect(e.message).toMatch(/not live/);
  });

  /** main: r1 = n; call f.   f: if r1 == 0 goto out; r1 -= 1; call f; out: exit.  n + 1 calls, n + 2 frames. */
  const recursion = (n: number) => prog(
    mov64(1, n), callLocal('f'), exit(),
    label('f'), jmp('JEQ', 1, 0, 'out'), alu64('SUB', 1, 1), callLocal('f'), label('out'), exit(),
  );

  test(`recursion up to ${MAX_CALL_FRAMES} frames runs`, () => {
    const res = runProgram(recursion(6));
    expect(res.stats.maxCallDepth).toBe(8);
    expect(res.stats.localCalls).toBe(7);
  });

  test('a call that would make the 9th frame is refused with interp.call-depth', () => {
    const p = recursion(7);
    const e = runError(p);
    expect(e.code).toBe('interp.call-depth');
    // the refused call is the one inside f, at slot 5
    expect(e.location.insn).toBe(5);
    expect(e.message).toMatch(/9 frames/);
    expect(e.details.stats?.maxCallDepth).toBe(8);
  });
});

describe('helpers', () => {
  test('a helper gets r1-r5 and returns r0; r1-r5 are left as they were', () => {
    const helpers = new HelperRegistry().define(1, 'sum', (_c, a, b, c, d, e) => a + b + c + d + e);
    const p = [mov64(1, 1), mov64(2, 2), mov64(3, 3), mov64(4, 4), mov64(5, -20), call(1), exit()];
    // 1 + 2 + 3 + 4 + (2^64 - 20) wraps to 2^64 - 10
    expect(runProgram(p, { helpers }).r0).toBe(0xfffffffffffffff6n);
  });

  test('a helper reads and writes memory through the checked context', () => {
    const helpers = new HelperRegistry().define(7, 'double_dw', (ctx, ptr) => {
      const v = ctx.load(ptr, 8);
      ctx.store(ptr, 8, v * 2n);
      return v;
    });
    const p = [st('dw', 10, -8, 21), mov64x(1, 10), alu64('ADD', 1, -8), call(7), ldx('dw', 6, 10, -8), alu64x('ADD', 0, 6), exit()];
    // returns 21 (old) + 42 (new)
    expect(runProgram(p, { helpers }).r0).toBe(63n);
  });

  test('a fault inside a helper is reported at the call, with a note naming the helper', () => {
    const helpers = new HelperRegistry().define(7, 'peek', (ctx, ptr) => ctx.load(ptr, 4));
    const e = runError([mov64(1, 0), mov64(0, 0), call(7), exit()], { helpers });
    expect(e.code).toBe('interp.fault');
    expect(e.location.insn).toBe(2);
    expect(e.notes).toContain('in helper 7 (peek)');
  });

  test('a helper that throws a plain error ends the run with interp.helper', () => {
    const helpers = new HelperRegistry().define(9, 'boom', () => { throw new Error('kaput'); });
    const e = runError([call(9), exit()], { helpers });
    expect(e.code).toBe('interp.helper');
    expect(e.message).toMatch(/helper 9 \(boom\) failed: kaput/);
  });

  test('an unknown helper is refused with interp.helper', () => {
    const e = runError([mov64(0, 0), call(99), exit()]);
    expect(e.code).toBe('interp.helper');
    expect(e.location.insn).toBe(1);
  });

  test('callx calls the helper whose id is in the register', () => {
    const helpers = new HelperRegistry().define(3, 'forty_two', () => 42n);
    expect(runProgram([mov64(4, 3), callx(4), exit()], { helpers }).r0).toBe(42n);
    expect(runError([mov64(4, -1), callx(4), exit()], { helpers }).code).toBe('interp.helper');
  });
});

describe('the conformance suite\'s unwind helper (id 5)', () => {
  const helpers = conformanceHelpers();

  test('call_unwind_fail.data: a non-zero argument returns and the program goes on (result 0x2)', () => {
    const res = runProgram([mov64(1, -1), call(5), mov64(0, 2), exit()], { helpers });
    expect(res.r0).toBe(2n);
    expect(res.stoppedByHelper).toBe(false);
  });

  test('callx.data: the same through call %r2 with r2 = 5 (result 0x2)', () => {
    expect(runProgram([mov64(1, -1), mov64(2, 5), callx(2), mov64(0, 2), exit()], { helpers }).r0).toBe(2n);
  });

  test('it returns its first argument', () => {
    expect(runProgram([mov64(1, 1234), call(5), exit()], { helpers }).r0).toBe(1234n);
  });

  test('an argument of 0 stops the run with r0 = 0, as uBPF unwinds', () => {
    const res = runProgram(prog(mov64(1, 0), callLocal('f'), mov64(0, 2), exit(), label('f'), call(5), mov64(0, 3), exit()), { helpers });
    expect(res.r0).toBe(0n);
    expect(res.stoppedByHelper).toBe(true);
  });
});

