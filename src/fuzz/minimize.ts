// Shrinks a fuzz case while a predicate (the disagreement) still holds: greedy passes that try
// dropping a step, a program, a subprogram (with its call sites), an operation, a skip's
// condition (keeping its body) and a stack frame's slots, keeping each change that keeps the
// predicate true, until a whole pass changes nothing or the budget of predicate calls is spent.
// Every candidate is a valid case again (normalizeSteps), so the predicate never sees a program
// the verifier would refuse for a reason the original did not have.

import { allOps, type CaseStep, type Func, type FuzzCase, type Op } from './case.js';

export interface MinimizeResult {
  readonly case: FuzzCase;
  /** Predicate calls made. */
  readonly tries: number;
  /** Changes kept. */
  readonly kept: number;
}

/** Steps that make sense for the case: no `set` of a missing program, no `del` of an empty slot, one run at least. */
export function normalizeSteps(c: FuzzCase, steps: readonly CaseStep[]): CaseStep[] | null {
  const names = new Set(c.programs.map((p) => p.name));
  const filled = new Set<number>();
  const out: CaseStep[] = [];
  for (const s of steps) {
    if ('set' in s) {
      if (!names.has(s.set.prog)) continue;
      filled.add(s.set.slot);
    } else if ('del' in s) {
      if (!filled.has(s.del.slot)) continue;
      filled.delete(s.del.slot);
    }
    out.push(s);
  }
  return out.some((s) => 'run' in s) ? out : null;
}

/** What a function's ops become without the op at `path` (indices into nested skip bodies). */
function variants(ops: readonly Op[]): Op[][] {
  const out: Op[][] = [];
  ops.forEach((o, i) => {
    const without = [...ops.slice(0, i), ...ops.slice(i + 1)];
    out.push(without);
    if (o.k === 'skip') {
      out.push([...ops.slice(0, i), ...o.body, ...ops.slice(i + 1)]);
      for (const b of variants(o.body)) if (b.length) out.push([...ops.slice(0, i), { ...o, body: b }, ...ops.slice(i + 1)]);
    }
  });
  return out;
}

/** Function ops with calls of `sub` removed. */
function dropCalls(ops: readonly Op[], sub: string): Op[] {
  return ops.flatMap((o): Op[] => {
    if (o.k === 'call' && o.sub === sub) return [];
    if (o.k === 'skip') {
      const body = dropCalls(o.body, sub);
      return body.length ? [{ ...o, body }] : [];
    }
    return [o];
  });
}

function* candidates(c: FuzzCase): Generator<FuzzCase> {
  const withSteps = (steps: readonly CaseStep[]) => {
    const n = normalizeSteps(c, steps);
    return n && n.length < c.steps.length ? { ...c, steps: n } : null;
  };
  // Whole steps first (cheapest to lose), from the end.
  for (let i = c.steps.length - 1; i >= 0; i--) {
    const x = withSteps([...c.steps.slice(0, i), ...c.steps.slice(i + 1)]);
    if (x) yield x;
  }
  // Programs other than the entry, and the steps that name them.
  for (let i = c.programs.length - 1; i >= 1; i--) {
    const programs = [...c.programs.slice(0, i), ...c.programs.slice(i + 1)];
    const x = { ...c, programs };
    const steps = normalizeSteps(x, c.steps);
    if (steps) yield { ...x, steps, globals: c.globals.filter((g) => g.name !== `runs_${c.programs[i].name}`) };
  }
  // Subprograms, with their call sites.
  for (let i = c.subprograms.length - 1; i >= 0; i--) {
    const name = c.subprograms[i].name;
    const strip = (f: Func): Func => ({ ...f, ops: dropCalls(f.ops, name) });
    yield {
      ...c,
      programs: c.programs.map(strip),
      subprograms: [...c.subprograms.slice(0, i), ...c.subprograms.slice(i + 1)].map(strip),
      globals: c.globals.filter((g) => g.name !== `runs_${name}`),
    };
  }
  // Operations, function by function.
  const funcs: ['programs' | 'subprograms', number][] = [
    ...c.programs.map((_, i): ['programs', number] => ['programs', i]),
    ...c.subprograms.map((_, i): ['subprograms', number] => ['subprograms', i]),
  ];
  for (const [list, i] of funcs) {
    const f = c[list][i];
    for (const ops of variants(f.ops)) {
      const copy = [...c[list]];
      copy[i] = { ...f, ops };
      yield { ...c, [list]: copy };
    }
    // A smaller frame, if no op touches the slots dropped.
    const used = Math.max(0, ...[...allOps(f.ops)].map((o) => (o.k === 'spill' || o.k === 'fill' ? o.slot + 1 : 0)));
    if (used < f.frame) {
      const copy = [...c[list]];
      copy[i] = { ...f, frame: used };
      yield { ...c, [list]: copy };
    }
  }
}

/** Greedy shrinking; `holds` must be true for `c` itself. */
export function minimize(c: FuzzCase, holds: (x: FuzzCase) => boolean, budget = 400): MinimizeResult {
  let best = c;
  let tries = 0;
  let kept = 0;
  for (let changed = true; changed && tries < budget;) {
    changed = false;
    for (const x of candidates(best)) {
      if (tries >= budget) break;
      tries++;
      if (holds(x)) {
        best = x;
        kept++;
        changed = true;
        break; // candidates of the smaller case
      }
    }
  }
  return { case: best, tries, kept };
}

/** Instructions-ish size of a case, for reports: ops (skip bodies included) and steps. */
export function caseSize(c: FuzzCase): { ops: number; functions: number; steps: number } {
  const fs = [...c.programs, ...c.subprograms];
  return { ops: fs.reduce((n, f) => n + [...allOps(f.ops)].length, 0), functions: fs.length, steps: c.steps.length };
}
