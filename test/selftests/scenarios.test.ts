// The re-created kernel tail call tests in programs/selftests/: every scenario is well formed,
// every golden in programs/selftests/expected/ belongs to its scenario run for run, and the
// kernels' answers are the values shared/spec/selftests.md predicts for their semantics.
//
// Expected values: selftests.md (sections cited per row) for the upstream tests; for the ramp
// scenarios (not upstream) the hand formula of selftests.md 2, N(c) = 2^(34 - c) - 1 runs by
// value and 34 - c with a shared counter, c = the count at which the chain is entered.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '../../programs/selftests');
const ACTIONS = ['set', 'del', 'setvar', 'reset', 'snapshot', 'run'];

interface Step { [action: string]: Record<string, unknown> | string | undefined; comment?: string }
interface Scenario { description: string; object: string; entry: string; steps: Step[] }
interface Run { step: number; label?: string; prog: string; retval: number; globals: Record<string, number> }
interface Doc {
  runs?: Run[]; programs?: { name: string }[];
  incomplete?: { status: string; completed_runs: number; stuck_run_index: number };
  koracle_error?: boolean; status?: string; stderr?: string;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const scenarioNames = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
const scenario = (name: string): Scenario => readJson<Scenario>(join(DIR, `${name}.json`));
const actionOf = (s: Step): string => Object.keys(s).filter((k) => k !== 'comment')[0];
const runSteps = (sc: Scenario): { index: number; run: Record<string, unknown> }[] =>
  sc.steps.flatMap((s, index) => (actionOf(s) === 'run' ? [{ index, run: s.run as Record<string, unknown> }] : []));

/** Kernels with the by-value tail call counter (5.10, 6.1) or the shared one (6.12+). */
type Semantics = 'byValue' | 'shared';
const KERNELS: { dir: string; semantics: Semantics }[] = readdirSync(join(DIR, 'expected')).sort().map((dir) => ({
  dir,
  semantics: dir === '5.10.223' || dir === '6.1.192' ? 'byValue' : 'shared',
}));

type Want = { retval: number; globals?: Record<string, number> };
/** What one kernel must answer for one scenario. */
type Outcome =
  | { runs: Want[] }
  | { hung: Want[] }                        // kvm-oracle stopped the guest (soft lockup / RCU stall)
                                             // after these runs
  | { error: string };                       // koracle ended with this message (load failure, ENOENT)

const r = (retval: number, globals?: Record<string, number>): Want => ({ retval, globals });
const same = (o: Outcome): Record<Semantics, Outcome> => ({ byValue: o, shared: o });
const byValueRuns = (c: number): number => 2 ** (34 - c) - 1;
const sharedRuns = (c: number): number => Math.max(34 - c, 0);
const STACK_256 = 'tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large';
const REF_LEAK = 'tail_call would lead to reference leak';
const enoent = (slot: number): Record<Semantics, Outcome> =>
  same({ error: `deleting jmp_table[${slot}] failed: No such file or directory (the slot is already empty)` });

const EXPECT: Record<string, Record<Semantics, Outcome>> = {
  // 3.1: first filled slot in call order wins; 3 when all are empty.
  tailcall1: same({ runs: [0, 1, 2, 3, 0, 2, 1, 0, 3, 3].map((v) => r(v)) }),
  tailcall1_enoent_0: enoent(0),
  tailcall1_enoent_1: enoent(1),
  tailcall1_enoent_2: enoent(2),
  // 3.2: 2, 1, then the 3 <-> 4 ping-pong ends in classifier_3 under both semantics.
  tailcall2: same({ runs: [r(2), r(1), r(3)] }),
  // 3.3 / 3.6: 33 classifier_0 runs, then the empty slot.
  tailcall3: same({ runs: [r(1, { count: 33 }), r(0, { count: 33 })] }),
  tailcall6: same({ runs: [r(1, { count: 33, which: 0 }), r(0, { count: 33, which: 0 })] }),
  // 3.4 / 3.5: key i -> i; emptied slots -> 3.
  tailcall4: same({ runs: [0, 1, 2, 3, 3, 3].map((v, i) => r(v, { selector: i % 3 })) }),
  tailcall5: same({ runs: [0, 1, 2, 3, 3, 3].map((v, i) => r(v, { selector: [1111, 1234, 5678][i % 3] })) }),
  // 3.7: 1, 0, 54 * 2.
  tailcall_bpf2bpf1: same({ runs: [r(1), r(0), r(108)] }),
  // 3.8 and 3.14 (classifier_0 run directly: 1 + 33 runs, then one more).
  tailcall_bpf2bpf2: same({ runs: [r(1, { count: 33 }), r(0, { count: 33 })] }),
  tailcall_bpf2bpf_fentry_entry: same({ runs: [r(1, { count: 34 }), r(1, { count: 35 })] }),
  // 3.13 through globals: 33 calls of subprog_tail seen on entry and on return.
  tailcall_bpf2bpf_fentry_fexit: same({
    runs: [r(1, { count: 33, fentry_count: 33, fexit_count: 33 }), r(0, { count: 33, fentry_count: 33, fexit_count: 33 })],
  }),
  // 3.9: 54 * 3, 54, 54 * 2.
  tailcall_bpf2bpf3: same({ runs: [r(162), r(54), r(108)] }),
  // 3.10: 162 and 31 counted runs, without and with noise.
  tailcall_bpf2bpf4: same({ runs: [r(162, { count: 31, noise: 0 })] }),
  tailcall_bpf2bpf5: same({ runs: [r(162, { count: 31, noise: 1 })] }),
  // 3.11: the fixed counter offset (5.10.198 and later).
  tailcall_bpf2bpf6: same({ runs: [r(0, { done: 1 })] }),
  // 3.16 / 3.17 / 3.20: 2^34 - 1 or 2^33 - 1 runs by value; the modern numbers when shared.
  // Each scenario first runs once with the slots empty (not upstream; the tail calls fail).
  tailcall_bpf2bpf_hierarchy1: {
    byValue: { hung: [r(1, { count: 1 })] },
    shared: { runs: [r(1, { count: 1 }), r(1, { count: 34 }), r(1, { count: 35 })] },
  },
  tailcall_bpf2bpf_hierarchy_fentry_fexit: {
    byValue: { hung: [r(1, { count: 1, fentry_count: 2, fexit_count: 2 })] },
    shared: {
      runs: [r(1, { count: 1, fentry_count: 2, fexit_count: 2 }),
        r(1, { count: 34, fentry_count: 68, fexit_count: 68 }), r(1, { count: 35, fentry_count: 70, fexit_count: 70 })],
    },
  },
  tailcall_bpf2bpf_hierarchy3: {
    byValue: { hung: [r(0, { count: 0 })] },
    shared: { runs: [r(0, { count: 0 }), r(33, { count: 33 })] },
  },
  // 3.19: two chains of 33 by value, (33 << 16) | 33; the first chain takes all when shared.
  tailcall_bpf2bpf_hierarchy2: {
    byValue: { runs: [r((33 << 16) | 33, { count0: 33, count1: 33 })] },
    shared: { runs: [r(33, { count0: 33, count1: 0 })] },
  },
  // Ramps (section 2 formula). ramp_len 34: the tail call into entry is refused, ramp returns 2.
  hierarchy1_ramp: Object.fromEntries((['byValue', 'shared'] as Semantics[]).map((sem) => {
    const n = (c: number): number => (sem === 'byValue' ? byValueRuns(c) : sharedRuns(c));
    const runs = [r(2, { count: 0, ramp_runs: 34 })].concat([33, 32, 31, 30, 29, 24, 20].map((c) =>
      r(1, { count: n(c), fentry_count: 2 * n(c), fexit_count: 2 * n(c), ramp_runs: c, ramp_len: c })));
    return [sem, { runs }];
  })) as Record<Semantics, Outcome>,
  hierarchy3_ramp: Object.fromEntries((['byValue', 'shared'] as Semantics[]).map((sem) => {
    const n = (c: number): number => (sem === 'byValue' ? byValueRuns(c) : sharedRuns(c));
    return [sem, { runs: [33, 31, 30, 29, 24, 20].map((c) => r(n(c), { count: n(c), ramp_runs: c })) }];
  })) as Record<Semantics, Outcome>,
  // 5.1: leaf chains 1, 3, 6, 10; load/store 0, 0; state counters (33 + 1) * 1000 and 1000.
  test_bpf_tailcalls: same({
    runs: [r(1), r(3), r(6), r(10), r(0), r(0), r(34000, { state_max_count: 34000 }),
      r(34000, { state_helpers: 34000 }), r(1000, { state_null: 1000 }), r(1000, { state_range: 1000 })],
  }),
  // 4.1, privileged column.
  verifier_runtime_jit: same({ runs: [42, 41, 1, 24, 24, 24, 24, 42, 1, 42, 2, 2, 42].map((v) => r(v)) }),
  // 4.2 and 3.23.
  verifier_ref_tailcall: same({ runs: [r(0), r(0)] }),
  verifier_ref_leak_possible: same({ error: REF_LEAK }),
  verifier_ref_leak_checked: same({ error: REF_LEAK }),
  tailcall_fail_spin_lock: same({ error: 'function calls are not allowed while holding a lock' }),
  // 4.4: 5.10 rounds frames to 32 (240 -> 256); the 6.18 host rounds to 16 and accepts 240.
  verifier_tailcall_stack240: { byValue: { error: STACK_256 }, shared: { runs: [r(0)] } },
  verifier_tailcall_stack256: same({ error: STACK_256 }),
};

describe('scenario files are well formed', () => {
  it.each(scenarioNames)('%s: object exists, one known action per step, labelled runs', (name) => {
    const sc = scenario(name);
    expect(Object.keys(sc).sort()).toEqual(['description', 'entry', 'object', 'steps']);
    expect(existsSync(join(DIR, sc.object))).toBe(true);
    expect(existsSync(join(DIR, sc.object.replace(/\.o$/, '.c')))).toBe(true);
    for (const s of sc.steps) {
      const actions = Object.keys(s).filter((k) => k !== 'comment');
      expect(actions).toHaveLength(1);
      expect(ACTIONS).toContain(actions[0]);
    }
    for (const { run } of runSteps(sc)) expect(typeof run.label).toBe('string');
  });

  it('every scenario has an expectation row and every row a scenario', () => {
    expect(Object.keys(EXPECT).sort()).toEqual(scenarioNames);
  });
});

describe.each(KERNELS)('goldens of $dir ($semantics counter)', ({ dir, semantics }) => {
  const gdir = join(DIR, 'expected', dir);

  it('keep the machine description next to the answers', () => {
    expect(existsSync(join(gdir, 'meta.json'))).toBe(true);
    expect(existsSync(join(gdir, 'kallsyms.txt'))).toBe(true);
  });

  it.each(scenarioNames)('%s: the kernel answers what selftests.md predicts', (name) => {
    const sc = scenario(name);
    const doc = readJson<Doc>(join(gdir, `${name}.json`));
    const want = EXPECT[name][semantics];
    const steps = runSteps(sc);

    if ('error' in want) {
      expect(doc.koracle_error).toBe(true);
      expect(doc.stderr).toContain(want.error);
      return;
    }
    const done = 'hung' in want ? want.hung : want.runs;
    if ('hung' in want) {
      // kvm-oracle keeps the document of the longest scenario prefix that finished.
      expect(doc.incomplete).toMatchObject({ status: 'hung', completed_runs: done.length, stuck_run_index: done.length });
    } else {
      expect(doc.koracle_error).toBeUndefined();
      expect(doc.incomplete).toBeUndefined();
    }
    const runs = doc.runs ?? [];
    expect(runs.map((x) => [x.step, x.label])).toEqual(steps.slice(0, done.length).map((s) => [s.index, s.run.label]));
    done.forEach((w, i) => {
      expect(runs[i].retval, `run ${i}: ${runs[i].label}`).toBe(w.retval);
      if (w.globals) expect(runs[i].globals, `run ${i}: ${runs[i].label}`).toMatchObject(w.globals);
    });
    expect(runs).toHaveLength(done.length);
    // Every program a step names was loaded.
    const loaded = new Set((doc.programs ?? []).map((p) => p.name));
    for (const s of sc.steps) {
      const a = s[actionOf(s)] as Record<string, unknown>;
      if (typeof a.prog === 'string') expect(loaded).toContain(a.prog);
    }
    expect(loaded).toContain(sc.entry);
  });
});
