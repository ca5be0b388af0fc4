// Finding the suite under the given paths: scenario files (`NAME.json` with `object` and
// `steps`) and conformance `.data` files, skipping `expected/` folders (kernel answers) and
// result documents; then every case id each file yields on each profile, known before anything
// runs so that shards can split the suite by sorted id.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TailjitError } from '../../src/errors.js';
import { readScenario } from '../scenario.js';
import type { WorkItem } from './types.js';

export class SuiteError extends TailjitError {}

const SKIPPED_DIRS = new Set(['expected', 'node_modules']);

/** Scenario and .data files under `paths`, sorted; a file named explicitly must be one of them. */
export function collectSuiteFiles(paths: readonly string[]): { file: string; kind: 'scenario' | 'data' }[] {
  const out: { file: string; kind: 'scenario' | 'data' }[] = [];
  const walk = (p: string, explicit: boolean): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new SuiteError('suite.no-such-path', `no such file or folder: ${p}`, { file: p });
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) {
        if (!e.startsWith('.') && !SKIPPED_DIRS.has(e)) walk(join(p, e), false);
      }
      return;
    }
    const kind = kindOf(p);
    if (kind) out.push({ file: p, kind });
    else if (explicit) throw new SuiteError('suite.not-a-test', `${p} is neither a scenario (JSON with "object" and "steps") nor a .data file`, { file: p });
  };
  for (const p of paths) walk(p, true);
  return out;
}

function kindOf(file: string): 'scenario' | 'data' | undefined {
  if (file.endsWith('.data')) return 'data';
  if (!file.endsWith('.json') || file.endsWith('.expected.json')) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // Not JSON at all: readScenario words the error with its position.
    readScenario(file);
    return undefined;
  }
  const isScenario = typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'object' in doc && 'steps' in doc;
  return isScenario ? 'scenario' : undefined;
}

/** `file [profile] step 3`: stable across runs; sorting them is the shard order. */
export const caseId = (shown: string, profile: string, what: string | null): string => `${shown} [${profile}]${what ? ` ${what}` : ''}`;

export const runCaseName = (step: number): string => `step ${step}`;
export const JIT_CASE = 'jit listing';

/** Every case of a file on a profile, in file order. */
export function casesOf(kind: 'scenario' | 'data', file: string, shown: string, profile: string): string[] {
  if (kind === 'data') return [caseId(shown, profile, null)];
  const sc = readScenario(file);
  const runs = sc.steps.flatMap((s, i) => (s.kind === 'run' ? [caseId(shown, profile, runCaseName(i))] : []));
  return [...runs, caseId(shown, profile, JIT_CASE)];
}

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new SuiteError('suite.bad-shard', `--shard must be I/N with 1 <= I <= N (got '${text}')`);
  }
  return { index, count };
}

/** The work of the suite: one item per file and profile holding the cases of this shard. */
export function planSuite(paths: readonly string[], profiles: readonly string[], cwd: string, options: { shard?: Shard; update?: boolean } = {}): WorkItem[] {
  const files = collectSuiteFiles(paths);
  const all: WorkItem[] = [];
  for (const profile of profiles) {
    for (const f of files) {
      const shown = relative(cwd, f.file) || f.file;
      all.push({ kind: f.kind, file: f.file, shown, profile, cases: casesOf(f.kind, f.file, shown, profile), update: options.update ?? false });
    }
  }
  const shard = options.shard;
  if (!shard || shard.count === 1) return all;
  const ids = all.flatMap((w) => w.cases).sort();
  const mine = new Set(ids.filter((_, i) => i % shard.count === shard.index - 1));
  return all.map((w) => ({ ...w, cases: w.cases.filter((c) => mine.has(c)) })).filter((w) => w.cases.length > 0);
}
