// Linux 5.10's tail call semantics on the emulated JIT, each with a real kernel's answer as the
// reason (kvm-oracle goldens, cited per test) and the harness's own view of the run (the
// observer's counts and checks), which the kernel cannot report: the counter travels by value
// through bpf2bpf calls, so a subprogram called twice starts two chains of 33; two tail-calling
// calls per program make a binary tree that does not end in practice; a tail call into an
// empty slot still uses up the count. 6.1 has the same semantics (tailcalls.md §9.1, and the
// 6.1.192 goldens say the same numbers), so each test runs under both profiles.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenarioFile, type ScenarioResult } from '../../emu/scenario.js';
import { isProfileName, PROFILES, type ProfileName } from '../../src/profile/index.js';

const PROGRAMS = join(import.meta.dirname, '../../programs');
const SELFTESTS = join(PROGRAMS, 'selftests');

const PROFILE_RELEASES: [ProfileName, string][] = [
  ['linux-5.10', '5.10.223'],
  ...(isProfileName('linux-6.1') ? [['linux-6.1', '6.1.192'] as [ProfileName, string]] : []),
];

interface GoldenRun { step: number; retval: number; globals: Record<string, number> }
const goldenRuns = (dir: string, release: string, name: string): GoldenRun[] =>
  (JSON.parse(readFileSync(join(dir, 'expected', release, `${name}.json`), 'utf8')) as { runs: GoldenRun[] }).runs;

/** 0, 1, ..., n. */
const upTo = (n: number): number[] => Array.from({ length: n + 1 }, (_, i) => i);

for (const [profile, release] of PROFILE_RELEASES) {
  const options = { profile: PROFILES[profile] };

  describe(`${profile}: a subprogram that tail-calls, called twice, starts two chains of 33 (programs/sub_twice)`, () => {
    // programs/expected/<release>/sub_twice.json, run at step 4: retval 68, cnt_target 66
    // (once_prog runs; once_prog is entered only by a tail call), cnt_calls 68.
    const golden = goldenRuns(PROGRAMS, release, 'sub_twice')[1];
    const run = runScenarioFile(join(PROGRAMS, 'sub_twice.json'), options).runs[1];

    it('answers as the kernel did', () => {
      expect(golden).toMatchObject({ step: 4, retval: 68, globals: { cnt_target: 66, cnt_calls: 68 } });
      expect(run.retval).toBe(golden.retval);
      expect(run.globals).toEqual(golden.globals);
    });

    it('takes 66 tail calls in one run, never more than 33 in one chain, and the limit check says so', () => {
      const t = run.trace!;
      expect(t.tail_calls).toBe(golden.globals.cnt_target);
      expect(t.max_tail_calls_in_chain).toBe(33);
      // sub's fall-through (cnt_refused) is reached once per chain, at the limit.
      expect(t.refused).toEqual({ limit: 2, empty_slot: 0, out_of_bounds: 0 });
      expect(t.checks.find((c) => c.check === 'tail_call_limit')).toEqual({
        check: 'tail_call_limit', ok: true, detail: 'at most 33 tail calls in one chain (limit 33)',
      });
    });

    it('reads the counter 0..33 in each chain: entry\'s second call passes entry\'s own count, still 0', () => {
      // Hand computation (tailcalls.md §10.1): each sub call reads the count it was given, 0 for
      // the first of a chain; the read of 33 is refused, 68 reads for 68 sub calls.
      expect(run.trace!.counter_values).toEqual([...upTo(33), ...upTo(33)]);
      expect(run.trace!.bpf2bpf_calls).toBe(golden.globals.cnt_calls);
    });
  });

  describe(`${profile}: two tail-calling calls per program make a binary tree of chains (twice_prog)`, () => {
    // programs/selftests/expected/<release>/tailcall_bpf2bpf_hierarchy1.json: the guest hung in
    // the run at step 3 ("incomplete": {"status": "hung", "stuck_run_index": 1}), after run 0
    // (slot empty) gave retval 1, count 1.
    const golden = JSON.parse(readFileSync(join(SELFTESTS, 'expected', release, 'tailcall_bpf2bpf_hierarchy1.json'), 'utf8')) as {
      runs: GoldenRun[]; incomplete: { status: string; stuck_run_index: number };
    };
    // An x86 instruction budget (not wall time) so that where the run stops, and so every count
    // below, is the same on every run of the test.
    const result: ScenarioResult = runScenarioFile(join(SELFTESTS, 'tailcall_bpf2bpf_hierarchy1.json'), { ...options, budget: { x86Insns: 2_000_000 } });

    it('the run the kernel never finished ends with a budget error and the counts it reached', () => {
      expect(golden.incomplete).toMatchObject({ status: 'hung', stuck_run_index: 1 });
      const stuck = result.runs[golden.incomplete.stuck_run_index];
      expect(stuck.error?.kind).toBe('budget');
      const t = stuck.trace!;
      // After the reset count starts at 0; entry runs once from the test run and once per
      // taken tail call (slot 0 holds entry). The budget may stop the CPU between a tail call's
      // jump and entry's count++.
      expect([t.tail_calls + 1, t.tail_calls]).toContain(stuck.globals.count);
      expect(t.tail_calls).toBeGreaterThan(1000);
      // The leftmost path of the tree is walked first: 33 tail calls, 2 + 33 frames deep
      // (entry and subprog_tail, then one entry/subprog_tail pair per taken tail call).
      expect(t.max_tail_calls_in_chain).toBe(33);
      expect(t.max_call_depth).toBe(35);
      expect(t.refused.limit).toBeGreaterThan(0);
      expect(t.checks.filter((c) => !c.ok)).toEqual([]);
    });

    it('the next run, slot 0 emptied, runs as the first did (both tail calls fall through)', () => {
      expect(golden.runs[0]).toMatchObject({ retval: 1, globals: { count: 1 } });
      const [first, stuck, after] = result.runs;
      expect(first.retval).toBe(golden.runs[0].retval);
      expect(after.error).toBeNull();
      expect(after.retval).toBe(golden.runs[0].retval);
      expect(after.globals.count).toBe((stuck.globals.count as number) + 1);
      expect(after.trace!.refused).toEqual({ limit: 0, empty_slot: 2, out_of_bounds: 0 });
    });
  });

  describe(`${profile}: the tree entered at count c has 2^(34 - c) - 1 nodes (programs/selftests/hierarchy3_ramp)`, () => {
    // programs/selftests/expected/<release>/hierarchy3_ramp.json: retvals 1, 7, 15, 31, 1023,
    // 16383 for c = 33, 31, 30, 29, 24, 20 (selftests.md §2: N(c) = 2^(34 - c) - 1).
    const golden = goldenRuns(SELFTESTS, release, 'hierarchy3_ramp');
    const result = runScenarioFile(join(SELFTESTS, 'hierarchy3_ramp.json'), options);
    const ramps = [33, 31, 30, 29, 24, 20];

    it.each(ramps.map((c, i) => [c, i]))('c = %i: classifier_0 runs as often as on the kernel', (c, i) => {
      const n = 2 ** (34 - c) - 1;
      expect(golden[i].retval).toBe(n);
      expect(result.runs[i].retval).toBe(golden[i].retval);
      expect(result.runs[i].globals).toEqual(golden[i].globals);
    });

    it.each(ramps.map((c, i) => [c, i]))('c = %i: c ramp tail calls, then 2 per inner node; each leaf at count 33 is refused twice', (c, i) => {
      // Hand count: ramp tail-calls itself c - 1 times and classifier_0 once (c taken); every
      // classifier_0 but the first is entered by a taken tail call (N - 1); the 2^(33 - c)
      // classifier_0 runs at count 33 each have both attempts refused.
      const n = 2 ** (34 - c) - 1;
      const t = result.runs[i].trace!;
      expect(t.tail_calls).toBe(c + n - 1);
      expect(t.refused).toEqual({ limit: 2 * 2 ** (33 - c), empty_slot: 0, out_of_bounds: 0 });
      expect(t.max_tail_calls_in_chain).toBe(33);
      expect(t.checks.filter((x) => !x.ok)).toEqual([]);
    });
  });

  describe(`${profile}: a tail call into an empty slot still consumes the count (programs/empty_slot)`, () => {
    // programs/expected/<release>/empty_slot.json: empty_first 17 (runs), oob_first 34.
    const golden = goldenRuns(PROGRAMS, release, 'empty_slot');
    const [empty, oob] = runScenarioFile(join(PROGRAMS, 'empty_slot.json'), options).runs;

    it('empty slot first: 17 runs, as on the kernel', () => {
      expect(golden[0]).toMatchObject({ retval: 17, globals: { empty_runs: 17 } });
      expect(empty.retval).toBe(golden[0].retval);
      expect(empty.globals).toEqual(golden[0].globals);
    });

    it('empty slot first: each level spends two counts, one on the empty slot and one on itself', () => {
      // Hand computation (tailcalls.md §8.3): level k reads 2(k - 1) at the empty slot and
      // 2k - 1 at the self call; at level 17 the empty attempt takes 32 to 33 and the self call
      // is refused: 16 taken, 17 refused for the empty slot, 1 at the limit.
      const t = empty.trace!;
      expect(t.counter_values).toEqual(upTo(33));
      expect(t.tail_calls).toBe(golden[0].globals.empty_runs - 1);
      expect(t.refused).toEqual({ limit: 1, empty_slot: 17, out_of_bounds: 0 });
      expect(t.max_tail_calls_in_chain).toBe(16);
    });

    it('an index past max_entries first does not count: 34 runs, as on the kernel', () => {
      // The bounds check comes before the counter: only the self calls read it, 0..33.
      expect(golden[1]).toMatchObject({ retval: 34, globals: { oob_runs: 34 } });
      expect(oob.retval).toBe(golden[1].retval);
      expect(oob.globals).toEqual(golden[1].globals);
      const t = oob.trace!;
      expect(t.counter_values).toEqual(upTo(33));
      expect(t.refused).toEqual({ limit: 1, empty_slot: 0, out_of_bounds: 34 });
      expect(t.tail_calls).toBe(33);
    });
  });
}
