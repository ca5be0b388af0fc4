// The differential fuzzer (src/fuzz, emu/fuzz): the same seed gives the same programs, every
// generated program passes tailjit's verifier on each profile, the interpreter and the
// emulated JIT agree on a small run (both model the same kernel: any difference is a bug in
// one of them), and the minimizer shrinks a disagreement down to what it needs.

import { describe, expect, it } from 'vitest';
import { loadObject, writeObject } from '../../src/elf/index.js';
import { allOps, caseSize, emitObject, generateCase, minimize, type FuzzCase } from '../../src/fuzz/index.js';
import { PROFILES } from '../../src/profile/index.js';
import { verify } from '../../src/verifier/index.js';
import { Fuzzer, writeCase } from '../../emu/fuzz/run.js';
import { runScenarioInterp } from '../../emu/interp-scenario.js';
import { layout } from '../verifier/helpers.js';

describe('generation', () => {
  it('is reproducible: the same seed and index give the same case and the same object bytes', () => {
    for (const i of [0, 1, 17]) {
      const a = generateCase(42, i);
      const b = generateCase(42, i);
      expect(b).toEqual(a);
      expect(Buffer.from(writeObject(emitObject(b))).equals(Buffer.from(writeObject(emitObject(a))))).toBe(true);
    }
  });

  it('depends on the seed, the index and the attempt', () => {
    const a = JSON.stringify(generateCase(42, 3), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    for (const other of [generateCase(43, 3), generateCase(42, 4), generateCase(42, 3, 1)]) {
      expect(JSON.stringify(other, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toBe(a);
    }
  });

  it('makes what the issue asks for, across 200 cases: calls, direct and indirect tail calls, stack traffic, empty slots', () => {
    const kinds = new Map<string, number>();
    let dels = 0;
    for (let i = 0; i < 200; i++) {
      const c = generateCase(7, i);
      for (const f of [...c.programs, ...c.subprograms]) {
        for (const o of allOps(f.ops)) {
          const k = o.k === 'tail' ? ('const' in o.key ? 'tail-direct' : 'tail-indirect') : o.k;
          kinds.set(k, (kinds.get(k) ?? 0) + 1);
        }
      }
      dels += c.steps.filter((s) => 'del' in s).length;
    }
    for (const k of ['alu', 'spill', 'fill', 'count', 'store', 'load', 'call', 'tail-direct', 'tail-indirect', 'skip']) expect(kinds.get(k) ?? 0).toBeGreaterThan(10);
    expect(dels).toBeGreaterThan(10);
  });
});

describe('validity', () => {
  for (const name of ['linux-5.10', 'linux-6.1', 'linux-6.18'] as const) {
    it(`every program of 150 cases passes tailjit's verifier (${name})`, () => {
      for (let i = 0; i < 150; i++) {
        const c = generateCase(11, i);
        const obj = loadObject(writeObject(emitObject(c)), '/x/case.bpf.o');
        expect(obj.programs.map((p) => p.name)).toEqual(c.programs.map((p) => p.name));
        for (const p of obj.programs) {
          expect(() => verify(p, obj, { profile: PROFILES[name], layout, backend: 'jit' }), `case ${i} ${p.name}`).not.toThrow();
        }
      }
    });
  }
});

describe('interpreter against the emulated JIT', () => {
  for (const name of ['linux-5.10', 'linux-6.1'] as const) {
    it(`agree on 50 programs (${name})`, () => {
      const f = new Fuzzer({ profile: PROFILES[name] });
      try {
        const reports = Array.from({ length: 50 }, (_, i) => f.one(5, i, '/nonexistent-never-written'));
        expect(reports.filter((r) => r.status === 'disagree')).toEqual([]);
        expect(reports.filter((r) => r.status === 'agree').length).toBe(50);
      } finally {
        f.close();
      }
    }, 60_000);
  }
});

describe('minimization', () => {
  it('shrinks to the one operation a planted predicate needs', () => {
    // Planted: "the disagreement" is the presence of a 64-bit multiply by a register in a program.
    const needs = (c: FuzzCase) => c.programs.some((p) => [...allOps(p.ops)].some((o) => o.k === 'alu' && o.op === 'mul' && o.src !== null && o.is64));
    let c: FuzzCase | undefined;
    for (let i = 0; !c; i++) { const x = generateCase(3, i); if (needs(x) && caseSize(x).ops > 8) c = x; }
    const m = minimize(c, needs, 1000);
    // What is left: one program holding only that op, no subprogram, one run.
    expect(m.case.subprograms).toEqual([]);
    expect(m.case.programs.length).toBe(1);
    expect(m.case.programs[0].ops).toHaveLength(1);
    expect(m.case.steps).toEqual([{ run: {} }]);
    expect(needs(m.case)).toBe(true);
  });

  it('shrinks a real semantic difference: 5.10 counts a tail call into an empty slot, 6.18 does not', () => {
    // tailcalls.md §9: the by-value counter that an empty slot still uses up (5.10) against the
    // shared one counted only when a tail call is taken (6.18). The interpreter models both.
    const f = new Fuzzer({ profile: PROFILES['linux-5.10'] });
    const answer = (c: FuzzCase, p: 'linux-5.10' | 'linux-6.18'): string => {
      const sc = writeCase(c, f.work, 'x');
      return JSON.stringify(runScenarioInterp(sc, { profile: PROFILES[p], budget: { insns: 100_000 } }).runs
        .map((r) => [r.retval, r.error?.kind ?? null, Object.values(r.globals).map(String)]));
    };
    const differs = (c: FuzzCase) => answer(c, 'linux-5.10') !== answer(c, 'linux-6.18');
    let c: FuzzCase | undefined;
    for (let i = 0; i < 400 && !c; i++) { const x = generateCase(9, i); if (differs(x)) c = x; }
    expect(c).toBeDefined();
    const m = minimize(c!, differs, 300);
    expect(differs(m.case)).toBe(true);
    expect(caseSize(m.case).ops).toBeLessThan(caseSize(c!).ops);
    // A difference in counting needs a tail call site at least.
    expect([...m.case.programs, ...m.case.subprograms].some((fn) => [...allOps(fn.ops)].some((o) => o.k === 'tail'))).toBe(true);
    f.close();
  }, 120_000);
});
