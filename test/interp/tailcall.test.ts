// Tail calls counted as the kernels count them. Every number below is one measured on real
// kernels and written down in /work/shared/spec/tailcalls.md (§3.3, §8.1-8.4, §9.2); program
// starts are counted in a "global" region as the measurements counted them with global variables.

import { describe, expect, test } from 'vitest';
import {
  Environment, INPUT_BASE, InterpError, InterpProgram, Interpreter, progArray, type ProgArray,
} from '../../src/interp/index.js';
import { PROFILES, type ProfileName } from '../../src/profile/index.js';
import type { Insn } from '../../src/isa/index.js';
import {
  AtomicOp, alu64, alu64x, atomic, call, callLocal, exit, jmpx, label, ldMapFd, ldMapValue, ldx, mov64,
  mov64x, prog, st, stx, type Item,
} from './build.js';

const COUNTERS_FD = 10;
const PROG_ARRAY_FD = 20;

/** [counters + off] += 1, leaving r7 = &counters (r7, r8 used). */
const count = (off: number): Insn[] => [ldMapValue(7, COUNTERS_FD), mov64(8, 1), atomic('dw', AtomicOp.ADD, 7, 8, off)];
/** bpf_tail_call(r1 = ctx, the prog array, index). */
const tailCall = (index: number): Insn[] => [ldMapFd(2, PROG_ARRAY_FD), mov64(3, index), call(12)];

interface World {
  readonly env: Environment;
  readonly array: ProgArray;
  counter(off: number): bigint;
  run(main: InterpProgram, profile: ProfileName, extra?: { insns?: number }): ReturnType<Interpreter['run']>;
}

function world(maxEntries: number): World {
  const env = new Environment();
  const counters = new Uint8Array(64);
  env.addRegion('counters', counters, { mapFd: COUNTERS_FD });
  const array = progArray(maxEntries);
  env.addProgArray(array, PROG_ARRAY_FD);
  const view = new DataView(counters.buffer);
  return {
    env,
    array,
    counter: (off) => view.getBigUint64(off, true),
    run: (main, profile, extra = {}) => {
      counters.fill(0);
      const budget = extra.insns === undefined ? undefined : { insns: extra.insns };
      return new Interpreter(main, { env, profile: PROFILES[profile], mem: new Uint8Array(8), budget }).run();
    },
  };
}

const program = (name: string, ...items: Item[]) => new InterpProgram(prog(...items), name);

describe('the limit: 33 tail calls per chain (§8.1)', () => {
  test.each(['linux-5.10', 'linux-6.18'] as const)('a program that tail-calls itself runs 34 times on %s', (profile) => {
    const w = world(1);
    const self = program('self', ...count(0), ...tailCall(0), ldx('dw', 0, 7, 0), exit());
    w.array.slots[0] = self;
    const res = w.run(self, profile);
    expect(w.counter(0)).toBe(34n);
    expect(res.r0).toBe(34n); // the 34th run falls through and returns the count
    expect(res.stats.tailCalls).toEqual({ taken: 33, refused: { emptySlot: 0, outOfBounds: 0, limit: 1 } });
    expect(res.stats.maxChainLength).toBe(33);
  });

  test('each run starts counting from 0 again', () => {
    const w = world(1);
    const self = program('self', ...count(0), ...tailCall(0), ldx('dw', 0, 7, 0), exit());
    w.array.slots[0] = self;
    const it = new Interpreter(self, { env: w.env, profile: PROFILES['linux-5.10'] });
    it.run();
    it.run();
    expect(w.counter(0)).toBe(68n);
  });
});

describe('empty slots count on 5.10, not on 6.18 (§8.3, §9.2)', () => {
  // Every level first tail-calls slot 1 (empty), then slot 0 (itself).
  const emptyThenSelf = (w: World) => {
    const p = program('empty_then_self', ...count(0), ...tailCall(1), ...tailCall(0), ldx('dw', 0, 7, 0), exit());
    w.array.slots[0] = p;
    return p;
  };

  test('linux-5.10: 17 runs (level k enters with count 2(k-1); at 17 the empty attempt reaches 33)', () => {
    const w = world(2);
    const res = w.run(emptyThenSelf(w), 'linux-5.10');
    expect(w.counter(0)).toBe(17n);
    // 17 empty attempts (levels 1..17), 16 self calls taken, level 17's self call refused
    expect(res.stats.tailCalls).toEqual({ taken: 16, refused: { emptySlot: 17, outOfBounds: 0, limit: 1 } });
  });

  test('linux-6.18: 34 runs', () => {
    const w = world(2);
    const res = w.run(emptyThenSelf(w), 'linux-6.18');
    expect(w.counter(0)).toBe(34n);
    // levels 1..33: empty refused, self taken; level 34 finds 33 on both attempts (limit first)
    expect(res.stats.tailCalls).toEqual({ taken: 33, refused: { emptySlot: 33, outOfBounds: 0, limit: 2 } });
  });

  test.each(['linux-5.10', 'linux-6.18'] as const)('an index >= max_entries does not count: 34 runs on %s', (profile) => {
    const w = world(2);
    const p = program('oob_then_self', ...count(0), ...tailCall(5), ...tailCall(0), ldx('dw', 0, 7, 0), exit());
    w.array.slots[0] = p;
    const res = w.run(p, profile);
    expect(w.counter(0)).toBe(34n);
    expect(res.stats.tailCalls).toEqual({ taken: 33, refused: { emptySlot: 0, outOfBounds: 34, limit: 1 } });
  });

  test('the index is compared as u32: r3 = 2^32 is index 0', () => {
    const w = world(1);
    const leaf = program('leaf', mov64(0, 7), exit());
    w.array.slots[0] = leaf;
    const p = program('main', ldMapFd(2, PROG_ARRAY_FD), mov64(3, 1), alu64('LSH', 3, 32), call(12), mov64(0, 1), exit());
    // r3 = 1 << 32: its low half is 0, so slot 0 is taken
    expect(w.run(p, 'linux-5.10').r0).toBe(7n);
  });
});

describe('the counter travels by value through bpf2bpf calls on 5.10, shared on 6.18 (§8.2)', () => {
  // entry calls sub() twice; sub() tail-calls slot 0; slot 0 holds a program that calls sub()
  // once (once_prog) or twice (twice_prog). Counter 0: once/twice_prog runs; counter 8: sub() calls.
  const sub: Item[] = [label('sub'), ...count(8), ...tailCall(0), mov64(0, 0), exit()];
  const entry = () => program('entry', callLocal('sub'), callLocal('sub'), ldMapValue(7, COUNTERS_FD), ldx('dw', 0, 7, 8), exit(), ...sub);
  const onceProg = () => program('once_prog', ...count(0), callLocal('sub'), mov64(0, 0), exit(), ...sub);
  const twiceProg = () => program('twice_prog', ...count(0), callLocal('sub'), callLocal('sub'), mov64(0, 0), exit(), ...sub);

  test('linux-5.10: once_prog runs 66 times, sub() is called 68 times, entry returns 68', () => {
    const w = world(1);
    w.array.slots[0] = onceProg();
    const res = w.run(entry(), 'linux-5.10');
    expect(w.counter(0)).toBe(66n);
    expect(w.counter(8)).toBe(68n);
    expect(res.r0).toBe(68n);
    expect(res.stats.tailCalls.taken).toBe(66);
    // two chains of 33; the deepest point: entry, then 33 once_prog frames each stacked on a
    // sub() frame they replaced, then the last sub() = 35 frames
    expect(res.stats.maxCallDepth).toBe(35);
    expect(res.stats.maxChainLength).toBe(33);
  });

  test('linux-6.18: once_prog runs 33 times, sub() is called 35 times, entry returns 35', () => {
    const w = world(1);
    w.array.slots[0] = onceProg();
    const res = w.run(entry(), 'linux-6.18');
    expect(w.counter(0)).toBe(33n);
    expect(w.counter(8)).toBe(35n);
    expect(res.r0).toBe(35n);
    expect(res.stats.tailCalls).toEqual({ taken: 33, refused: { emptySlot: 0, outOfBounds: 0, limit: 2 } });
  });

  test('linux-6.18: twice_prog runs 33 times', () => {
    const w = world(1);
    w.array.slots[0] = twiceProg();
    const res = w.run(entry(), 'linux-6.18');
    expect(w.counter(0)).toBe(33n);
    // sub() calls: 2 from entry + 2 from each of the 33 twice_prog runs
    expect(res.r0).toBe(68n);
  });

  test('linux-5.10: twice_prog is a binary tree of depth 33 that does not end; the budget stops it', () => {
    const w = world(1);
    w.array.slots[0] = twiceProg();
    let err: unknown;
    try {
      w.run(entry(), 'linux-5.10', { insns: 200_000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InterpError);
    const e = err as InterpError;
    expect(e.code).toBe('interp.budget');
    expect(e.details.stats?.insns).toBe(200_000);
    // every run of twice_prog is entered by a tail call (the last one may not have counted itself yet)
    const taken = BigInt(e.details.stats!.tailCalls.taken);
    expect(taken - w.counter(0)).toBeGreaterThanOrEqual(0n);
    expect(taken - w.counter(0)).toBeLessThanOrEqual(1n);
    expect(w.counter(0)).toBeGreaterThan(33n);
  });
});

describe('a tail call from a subprogram replaces only the subprogram (§3.2, §3.3)', () => {
  test.each(['linux-5.10', 'linux-6.18'] as const)('entry -> hop() -> tail call to entry: 34 runs, return 1000 + 34, r6 and stack intact (%s)', (profile) => {
    const w = world(1);
    const entry = program('entry',
      ...count(0),
      ldx('dw', 6, 7, 0), // r6 = this run's level
      stx('dw', 10, 6, -8), // and on the stack
      callLocal('hop'),
      ldx('dw', 1, 10, -8),
      jmpx('JNE', 1, 6, 'broken'), // stack slot and r6 must both still hold the level
      ldx('dw', 0, 7, 0),
      alu64('ADD', 0, 1000),
      exit(),
      label('broken'),
      mov64(0, -1),
      exit(),
      label('hop'),
      ...tailCall(0),
      mov64(0, 0),
      exit(),
    );
    w.array.slots[0] = entry;
    const res = w.run(entry, profile);
    expect(w.counter(0)).toBe(34n);
    expect(res.r0).toBe(1034n);
    // 34 entry frames, each (but the first) in the place of a hop() frame, plus the last hop()
    expect(res.stats.maxCallDepth).toBe(35);
  });
});

describe('registers around a tail call (§8.4)', () => {
  test('a refused tail call falls through with r0 and r6-r9 unchanged', () => {
    const w = world(1); // slot 0 empty
    const p = program('main',
      mov64(0, 5), mov64(6, 6), mov64(7, 7), mov64(8, 8), mov64(9, 9),
      ...tailCall(0),
      // r0 = r0 * 10000 + r6 * 1000 + r7 * 100 + r8 * 10 + r9
      alu64('MUL', 0, 10000), alu64('MUL', 6, 1000), alu64('MUL', 7, 100), alu64('MUL', 8, 10),
      alu64x('ADD', 0, 6), alu64x('ADD', 0, 7),
      alu64x('ADD', 0, 8), alu64x('ADD', 0, 9),
      exit(),
    );
    expect(w.run(p, 'linux-5.10').r0).toBe(56789n);
  });

  test('a taken tail call keeps r1 = ctx, r10 and the frame\'s stack', () => {
    const w = world(1);
    const target = program('target',
      ldx('dw', 0, 10, -8), // what the caller stored: 0x55
      jmpx('JNE', 10, 6, 'broken'), // r10 is the caller's r10 (kept in r6)
      exit(),
      label('broken'),
      mov64(0, -1),
      exit(),
    );
    w.array.slots[0] = target;
    const main = program('main', st('dw', 10, -8, 0x55), mov64x(6, 10), ...tailCall(0), mov64(0, -2), exit());
    const res = w.run(main, 'linux-5.10');
    expect(res.r0).toBe(0x55n);
    const r1 = program('r1_check', mov64x(0, 1), exit());
    w.array.slots[0] = r1;
    expect(w.run(main, 'linux-5.10').r0).toBe(INPUT_BASE);
  });

  test('a fault in a program entered by tail call names that program', () => {
    const w = world(1);
    w.array.slots[0] = program('faulty', mov64(1, 0), ldx('b', 0, 1, 0), exit());
    let err: unknown;
    try {
      w.run(program('main', ...tailCall(0), exit()), 'linux-5.10');
    } catch (e) {
      err = e;
    }
    const e = err as InterpError;
    expect(e.code).toBe('interp.fault');
    expect(e.location.insn).toBe(1);
    expect(e.details.program).toBe('faulty');
  });

  test('bpf_tail_call with an r2 that is no prog array is refused with interp.tail-call', () => {
    const w = world(1);
    let err: unknown;
    try {
      w.run(program('main', mov64(2, 0), mov64(3, 0), call(12), exit()), 'linux-5.10');
    } catch (e) {
      err = e;
    }
    expect((err as InterpError).code).toBe('interp.tail-call');
    expect((err as InterpError).location.insn).toBe(2);
  });
});
