// Every scenario of programs/ on the emulated machine against what Linux 5.10.223 answered
// (programs/expected/5.10.223, from kvm-oracle): retval and every global variable run by run,
// the images of every snapshot and of the final programs instruction for instruction (only the
// bytes that hold addresses may differ), and for the programs the kernel rejected, a `load`
// error carrying the verifier's message. Plus the scenario format's own rules.

import { describe, expect, test } from 'vitest';
import { instructionShape } from '../helpers/images.js';
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario, runScenarioFile, ScenarioError } from '../../emu/scenario.js';

const PROGRAMS = join(import.meta.dirname, '../../programs');
const EXPECTED = join(PROGRAMS, 'expected/5.10.223');

interface GoldenRun { retval: number; globals: Record<string, unknown>; label?: string }
interface Golden {
  koracle_error?: boolean;
  stderr?: string;
  runs?: GoldenRun[];
  snapshots?: { programs: { name: string; jited_hex: string }[] }[];
  programs?: { name: string; jited_hex: string; jited_func_lens: number[] }[];
}


const scenarios = readdirSync(PROGRAMS).filter((f) => f.endsWith('.json'));

for (const file of scenarios) {
  const golden = JSON.parse(readFileSync(join(EXPECTED, file), 'utf8')) as Golden;
  describe(file, () => {
    const result = runScenarioFile(join(PROGRAMS, file));
    if (golden.koracle_error) {
      test('the program the kernel rejected does not load, with the verifier\'s message', () => {
        const m = /the verifier rejected (\S+):\n(.*)\n/.exec(golden.stderr!)!;
        expect(result.load_errors.find((e) => e.prog === m[1])?.message).toBe(m[2]);
        for (const run of result.runs.filter((r) => r.prog === m[1])) expect(run.error?.kind).toBe('load');
      });
      return;
    }
    golden.runs!.forEach((g, i) => {
      test(`run ${i}: ${g.label ?? ''}`, () => {
        const r = result.runs[i];
        expect(r.error).toBeNull();
        expect(r.retval).toBe(g.retval);
        expect(r.globals).toEqual(g.globals);
        expect(r.trace!.checks.filter((c) => !c.ok)).toEqual([]);
      });
    });
    (golden.snapshots ?? []).forEach((s, i) => {
      test(`snapshot ${i}: each program's image as the kernel had it`, () => {
        for (const gp of s.programs) {
          const mine = result.snapshots![i].programs.find((p) => p.name === gp.name)!;
          expect(instructionShape(mine.jited_hex)).toEqual(instructionShape(gp.jited_hex));
        }
      });
    });
    test('the programs after the last step', () => {
      for (const gp of golden.programs!) {
        const mine = result.programs.find((p) => p.name === gp.name)!;
        expect(mine.jited_func_lens).toEqual(gp.jited_func_lens);
        expect(instructionShape(mine.jited_hex)).toEqual(instructionShape(gp.jited_hex));
      }
    });
  });
}

describe('the scenario format (scenario.md, as koracle checks it)', () => {
  const parse = (doc: unknown) => () => parseScenario(JSON.stringify(doc), '/x/s.json');
  const base = { object: 'o.bpf.o', entry: 'e' };
  test.each([
    ['an unknown top-level key', { ...base, steps: [], profile: 'x' }, /the scenario: unknown key "profile"/],
    ['an unknown action, named with its step', { ...base, steps: [{ run: {} }, { jump: {} }] }, /step 1: unknown action "jump"/],
    ['two actions in one step', { ...base, steps: [{ run: {}, reset: {} }] }, /step 0 must have exactly one action/],
    ['no action', { ...base, steps: [{ comment: 'x' }] }, /step 0 must have exactly one action/],
    ['an unknown key of an action', { ...base, steps: [{ run: { prog: 'e', count: 2 } }] }, /step 0 \(run\): unknown key "count"/],
    ['a missing slot', { ...base, steps: [{ set: { map: 'm', prog: 'p' } }] }, /step 0 \(set\): missing "slot"/],
    ['a packet below 14 bytes', { ...base, steps: [{ run: { data_size: 13 } }] }, /data_size >= 14/],
    ['a repeat of 0', { ...base, steps: [{ run: { repeat: 0 } }] }, /"repeat" must be an integer in 1\.\./],
  ])('refuses %s', (_n, doc, msg) => {
    expect(parse(doc)).toThrow(ScenarioError);
    expect(parse(doc)).toThrow(msg);
  });

  test('a step may carry a comment; reset takes {} or true', () => {
    const s = parseScenario(JSON.stringify({ ...base, steps: [{ comment: 'c', reset: true }, { reset: {} }, { run: {} }] }), '/x/s.json');
    expect(s.steps.map((x) => x.kind)).toEqual(['reset', 'reset', 'run']);
    expect(s.steps[2]).toMatchObject({ repeat: 1, dataSize: 64 });
  });

  test('invalid JSON is reported with its line and column', () => {
    try {
      parseScenario('{\n  "object": ,\n}', '/x/s.json');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      expect((e as ScenarioError).location).toMatchObject({ file: '/x/s.json', line: 2 });
    }
  });

  test('a refused step ends the scenario with an error naming the step', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailjit-scen-'));
    const f = join(dir, 's.json');
    writeFileSync(f, JSON.stringify({ object: join(PROGRAMS, 'tail_direct.bpf.o'), entry: 'entry', steps: [{ run: {} }, { del: { map: 'jmp_table', slot: 0 } }] }));
    try {
      expect(() => runScenarioFile(f)).toThrow(/step 1 \(del\): slot 0 of jmp_table is empty \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the result document is plain JSON (no bigints)', () => {
    const r = runScenarioFile(join(PROGRAMS, 'tail_direct.json'));
    expect(() => JSON.stringify(r)).not.toThrow();
    expect(r.kernel).toEqual({ profile: 'linux-5.10', release: '5.10.223 (modeled)', machine: 'x86_64 (emulated)' });
  });
});
