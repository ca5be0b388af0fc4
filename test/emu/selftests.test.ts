// The kernel's own tail call tests (programs/selftests, re-created from shared/spec/selftests.md)
// on the emulated JIT, against what the real kernels answered for the same scenario files
// (programs/selftests/expected/<release>/, kvm-oracle): run by run the return value and every
// global, no failed check; each program's JIT images apart from the bytes that hold absolute
// addresses; the programs the verifier rejected, with its message; the refused map updates.
// Where the real kernel never finished a run (the hierarchy tests: 2^34 - 1 program runs by
// value, selftests.md §2), the emulated run must end with a `budget` error and the counts it
// reached, and the scenario's later runs must still run.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readScenario, runScenario, ScenarioError, type Scenario, type ScenarioResult, type Step } from '../../emu/scenario.js';
import { isProfileName, PROFILES, type ProfileName } from '../../src/profile/index.js';
import { ALL_SYMBOLS } from '../../emu/kernel/index.js';
import { byAddress, programsWithoutAddresses, readKallsyms } from '../helpers/images.js';

const DIR = join(import.meta.dirname, '../../programs/selftests');

interface GoldenRun { step: number; label?: string; retval: number; globals: Record<string, unknown> }
interface GoldenProgram { name: string; jited_func_lens: number[]; jited_ksyms: string[]; jited_hex: string }
interface Golden {
  koracle_error?: boolean;
  stderr?: string;
  runs?: GoldenRun[];
  programs?: GoldenProgram[];
  incomplete?: { status: string; completed_runs: number; stuck_run_index: number };
}

/** Profiles with the kernel whose goldens they are compared with (6.1 when the profile exists). */
const RELEASES: { profile: ProfileName; release: string }[] = [
  { profile: 'linux-5.10', release: '5.10.223' },
  ...(isProfileName('linux-6.1') ? [{ profile: 'linux-6.1' as ProfileName, release: '6.1.192' }] : []),
];

/** A run the real kernel never finished ends here instead (the oracle's guest hung after ~30 s). */
const HUNG_BUDGET = { wallUs: 250_000 };

/**
 * Programs using what the emulated kernel does not model yet. Their steps are left out of the
 * comparison (with the globals only they write); the test below keeps the gap visible.
 */
const NOT_MODELED: Record<string, { progs: { name: string; code: string; message: RegExp }[]; globals: string[] }> = {};

const names = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();

const stepProg = (s: Step): string | undefined => (s.kind === 'set' ? s.prog : s.kind === 'run' ? s.prog : undefined);

/** The scenario without the steps that name a program the model cannot load. */
function modeledPart(sc: Scenario, name: string): Scenario {
  const skip = new Set(NOT_MODELED[name]?.progs.map((p) => p.name) ?? []);
  if (skip.size === 0) return sc;
  return { ...sc, steps: sc.steps.filter((s) => !skip.has(stepProg(s) ?? (s.kind === 'run' ? sc.entry : ''))) };
}

const without = (g: Record<string, unknown>, drop: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(Object.entries(g).filter(([k]) => !drop.includes(k)));

for (const { profile, release } of RELEASES) {
  const expected = join(DIR, 'expected', release);
  const symbols = { mine: byAddress(ALL_SYMBOLS), theirs: readKallsyms(join(expected, 'kallsyms.txt')) };
  const options = { profile: PROFILES[profile] };

  describe(`programs/selftests on ${profile} against ${release}`, () => {
    for (const name of names) {
      const golden = JSON.parse(readFileSync(join(expected, `${name}.json`), 'utf8')) as Golden;
      const sc = readScenario(join(DIR, `${name}.json`));

      if (golden.koracle_error) {
        const refusedStep = /step (\d+) \(del\): deleting (\w+)\[(\d+)\] failed: No such file or directory/.exec(golden.stderr!);
        if (refusedStep) {
          it(`${name}: step ${refusedStep[1]} is refused as on the kernel (ENOENT)`, () => {
            const [, step, map, slot] = refusedStep;
            expect(() => runScenario(sc, options)).toThrow(ScenarioError);
            expect(() => runScenario(sc, options)).toThrow(`step ${step} (del): slot ${slot} of ${map} is empty (ENOENT)`);
          });
          continue;
        }
        // The log's tail up to the statistics: one line, or several for one rule (check_reference_leak()
        // names each unreleased reference, then the tail call's reason).
        const rejected = /the verifier rejected (\S+):\n((?:.*\n)*?.*)\nverification time/.exec(golden.stderr!)!;
        const gapProg = NOT_MODELED[name]?.progs.find((p) => p.name === rejected[1]);
        if (gapProg) {
          it(`${name}: ${rejected[1]} does not load, as on the kernel, but refused earlier by what the model lacks`, () => {
            const e = runScenario({ ...sc, steps: [] }, options).load_errors.find((x) => x.prog === gapProg.name);
            expect(e?.code).toBe(gapProg.code);
            expect(e?.message).toMatch(gapProg.message);
          });
          continue;
        }
        it(`${name}: ${rejected[1]} does not load, with the verifier's message`, () => {
          const [, prog, message] = rejected;
          let result: ScenarioResult | undefined;
          try {
            result = runScenario(sc, options);
          } catch (e) {
            // The scenario fills a slot with the program: the step fails, naming why.
            expect(e).toBeInstanceOf(ScenarioError);
            expect((e as Error).message).toMatch(/^step \d+ \(set\): /);
            expect((e as Error).message).toContain(`program ${prog} did not load: ${message}`);
            return;
          }
          expect(result.load_errors.find((x) => x.prog === prog)?.message).toBe(message);
          for (const run of result.runs.filter((r) => r.prog === prog)) expect(run.error?.kind).toBe('load');
        });
        continue;
      }

      const gap = NOT_MODELED[name];
      const hung = golden.incomplete?.status === 'hung' ? golden.incomplete : undefined;
      const runnable = modeledPart(sc, name);
      const result = runScenario(runnable, hung ? { ...options, budget: HUNG_BUDGET } : options);
      const dropped = gap?.globals ?? [];

      if (gap) {
        it(`${name}: what the model lacks still keeps ${gap.progs.map((p) => p.name).join(', ')} from loading`, () => {
          const all = runScenario({ ...sc, steps: [] }, options);
          for (const p of gap.progs) {
            const e = all.load_errors.find((x) => x.prog === p.name);
            expect(e?.code, p.name).toBe(p.code);
            expect(e?.message, p.name).toMatch(p.message);
          }
        });
      }

      // Golden runs whose steps the comparison kept, matched by label (labels are unique).
      const compared = golden.runs!.filter((g) => result.runs.some((r) => r.label === g.label));
      compared.forEach((g) => {
        it(`${name}: run at step ${g.step}: retval and globals as on the kernel, every check held`, () => {
          const r = result.runs.find((x) => x.label === g.label)!;
          expect(r.error).toBeNull();
          expect(r.retval).toBe(g.retval);
          expect(without(r.globals, dropped)).toEqual(without(g.globals, dropped));
          expect(r.trace!.checks.filter((c) => !c.ok)).toEqual([]);
        });
      });

      if (hung) {
        it(`${name}: the run the kernel never finished ends with a budget error and its counts; later runs still run`, () => {
          const stuck = result.runs[hung.stuck_run_index];
          expect(stuck.error?.kind).toBe('budget');
          expect(stuck.retval).toBeNull();
          // selftests.md §2: a binary tree of chains, each at most 33 long (the limit check holds).
          expect(stuck.trace!.tail_calls).toBeGreaterThan(1000);
          expect(stuck.trace!.max_tail_calls_in_chain).toBe(33);
          expect(stuck.trace!.checks.filter((c) => !c.ok)).toEqual([]);
          expect(stuck.error!.message).toMatch(/did not return within the wall-time budget of 250000 us/);
          expect(result.runs.length).toBe(runnable.steps.filter((s) => s.kind === 'run').length);
          for (const later of result.runs.slice(hung.stuck_run_index + 1)) {
            expect(later.error).toBeNull();
            expect(later.trace!.checks.filter((c) => !c.ok)).toEqual([]);
          }
        });
      }

      it(`${name}: every function's JIT image, apart from absolute addresses, as on the kernel`, () => {
        // A hung kernel reported its programs as after the runs it finished (the oracle reran
        // the scenario cut after them): compare with the same prefix.
        const lastStep = golden.runs!.at(-1)!.step;
        const images = hung ? runScenario(modeledPart({ ...sc, steps: sc.steps.slice(0, lastStep + 1) }, name), options) : result;
        const skip = new Set(gap?.progs.map((p) => p.name) ?? []);
        const theirs = golden.programs!.filter((p) => !skip.has(p.name));
        for (const gp of theirs) {
          expect(images.programs.find((p) => p.name === gp.name)?.jited_func_lens, gp.name).toEqual(gp.jited_func_lens);
        }
        for (const f of programsWithoutAddresses(images.programs, theirs, symbols)) {
          expect(f.ours, `${f.name} function ${f.func}`).toEqual(f.theirs);
        }
      });
    }
  });
}
