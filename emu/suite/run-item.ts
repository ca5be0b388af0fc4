// One work item (a file on a profile) run to its case outcomes: a scenario's runs compared with
// their golden and its listing with `NAME.<profile>.jit.txt` (written there with --update), or
// a conformance .data file on the emulated JIT (r0 against `-- result`).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { TailjitError } from '../../src/errors.js';
import { getProfile, type Profile } from '../../src/profile/index.js';
import { loadDataCase, runFile } from '../../src/conformance/index.js';
import { jitBackend } from '../conformance-backend.js';
import { readScenario, runScenario, type ScenarioResult, type ScenarioRun } from '../scenario.js';
import { caseId, JIT_CASE, runCaseName } from './discover.js';
import { compareRun, findKernelImages, findRunGolden, kernelErrorLine, listingGoldenPath, sameScenarioError, type RunGolden } from './golden.js';
import { compareKernelImages } from './kernel-image.js';
import { diffLines, unifiedDiff } from './diff.js';
import { placeOf, scenarioListing } from './listing.js';
import type { CaseOutcome, WorkItem } from './types.js';

export function runWorkItem(item: WorkItem): CaseOutcome[] {
  const profile = getProfile(item.profile);
  return item.kind === 'data' ? [runDataItem(item, profile)] : runScenarioItem(item, profile);
}

function runDataItem(item: WorkItem, profile: Profile): CaseOutcome {
  const r = runFile(jitBackend(profile), loadDataCase, item.file, item.shown);
  return {
    id: item.cases[0], file: item.shown, profile: item.profile, kind: 'data', name: item.shown.replace(/^.*[\\/]/, '').replace(/\.data$/, ''),
    status: r.status, ...('reason' in r ? { message: r.reason } : {}), ms: r.ms,
  };
}

function runScenarioItem(item: WorkItem, profile: Profile): CaseOutcome[] {
  const wanted = new Set(item.cases);
  const base = { file: item.shown, profile: item.profile };
  const out: CaseOutcome[] = [];
  const t0 = performance.now();
  let result: ScenarioResult | undefined;
  let failure: string | undefined;
  const sc = readScenario(item.file);
  const runIds = sc.steps.flatMap((s, i) => (s.kind === 'run' ? [{ step: i, id: caseId(item.shown, item.profile, runCaseName(i)) }] : []));
  const golden = findRunGolden(item.file, profile);
  // Runs after a kernel's hang have no answer: the scenario is cut after the last one that has.
  const answered = golden.kind === 'runs' && golden.incomplete ? golden.incomplete.completedRuns : Infinity;
  const needed = runIds.filter((r, nth) => wanted.has(r.id) && nth < answered);
  if (needed.length > 0) {
    const steps = answered === Infinity ? sc.steps : sc.steps.slice(0, needed[needed.length - 1].step + 1);
    try {
      result = runScenario({ ...sc, steps }, { profile });
    } catch (e) {
      if (!(e instanceof TailjitError)) throw e;
      failure = e.message;
    }
  }
  const runMs = (performance.now() - t0) / Math.max(1, runIds.length);
  runIds.forEach(({ step, id }, nth) => {
    if (!wanted.has(id)) return;
    const run = result?.runs.find((r) => r.step === step);
    const label = run?.label ?? labelOf(sc.steps[step]);
    const name = `${runCaseName(step)}${label ? `: ${label}` : ''}`;
    const c = { ...base, id, kind: 'run' as const, name, ms: runMs };
    out.push({ ...c, ...judgeRun(item, step, nth, run, failure, golden) });
  });
  const jitId = caseId(item.shown, item.profile, JIT_CASE);
  if (wanted.has(jitId)) out.push({ ...base, ...listingCase(item, profile, sc.object), id: jitId, kind: 'jit', name: JIT_CASE });
  return out;
}

type Verdict = Pick<CaseOutcome, 'status' | 'message' | 'details'>;

/** One run against its golden; `failure` is the error that ended tailjit's scenario early. */
function judgeRun(item: WorkItem, step: number, nth: number, run: ScenarioRun | undefined, failure: string | undefined, golden: RunGolden): Verdict {
  if (golden.kind === 'none') return { status: 'skipped', message: golden.reason };
  const g = relative(dirname(item.file), golden.file);
  const where = `${item.shown} [${item.profile}] ${runCaseName(step)}${run ? ` (${run.prog})` : ''}`;
  if (golden.kind === 'runs' && golden.incomplete && nth >= golden.incomplete.completedRuns && !golden.runs.has(step)) {
    return { status: 'skipped', message: `the kernel ${golden.incomplete.status} before this run (${g} has ${golden.incomplete.completedRuns} run(s))` };
  }
  if (!run) {
    if (failure !== undefined && golden.kind === 'error' && sameScenarioError(failure, golden.stderr)) return { status: 'passed' };
    const kernel = golden.kind === 'error' ? `; the kernel: ${kernelErrorLine(golden.stderr)}` : '';
    return { status: 'failed', message: `${where}: tailjit's scenario ended before this run: ${failure ?? 'no such run'}${kernel}` };
  }
  const diffs = compareRun(run, golden);
  if (diffs.length === 0) return { status: 'passed' };
  return { status: 'failed', message: `${where} differs from ${g}: ${diffs[0]}`, ...(diffs.length > 1 ? { details: diffs.join('\n') } : {}) };
}

const labelOf = (s: { kind: string; label?: string }): string | undefined => s.label;

function listingCase(item: WorkItem, profile: Profile, object: string): Pick<CaseOutcome, 'status' | 'message' | 'details' | 'updated' | 'ms'> {
  const t0 = performance.now();
  const ms = (): number => performance.now() - t0;
  const objPath = isAbsolute(object) ? object : resolve(dirname(item.file), object);
  let actual: string;
  // The kernel's own code for the same programs, when its golden has it (expected/<folder>/):
  // a listing is only written (--update) and only passes while the code is the kernel's.
  const kernel = findKernelImages(item.file, profile);
  let kernelDiffs: string[] = [];
  try {
    actual = scenarioListing(objPath, profile, kernel && ((m, names) => { kernelDiffs = compareKernelImages(m, names, kernel); }));
  } catch (e) {
    if (!(e instanceof TailjitError)) throw e;
    return { status: 'failed', message: e.format({ file: item.shown }), ms: ms() };
  }
  if (kernel && kernelDiffs.length > 0) {
    const shownKernel = relative(dirname(item.file), kernel.file);
    return {
      status: 'failed',
      message: `${item.shown} [${item.profile}]: the code differs from the kernel's in ${shownKernel} (modulo addresses): ${kernelDiffs[0]}`,
      ...(kernelDiffs.length > 1 ? { details: kernelDiffs.join('\n') } : {}),
      ms: ms(),
    };
  }
  const goldenPath = listingGoldenPath(item.file, item.profile);
  const shownGolden = relative(dirname(item.file), goldenPath);
  const expected = existsSync(goldenPath) ? readFileSync(goldenPath, 'utf8') : undefined;
  if (expected === actual) return { status: 'passed', ms: ms() };
  if (item.update) {
    writeFileSync(goldenPath, actual);
    const what = expected === undefined ? 'created' : `updated (${changeCount(expected, actual)})`;
    return { status: 'passed', updated: `${join(dirname(item.shown), basename(goldenPath))}: ${what}`, ms: ms() };
  }
  if (expected === undefined) {
    return { status: 'failed', message: `${item.shown} [${item.profile}]: no listing golden ${shownGolden} (run with --update to write it)`, ms: ms() };
  }
  const a = lines(expected), b = lines(actual);
  return {
    status: 'failed',
    message: `${item.shown} [${item.profile}]: the JIT's code differs from ${shownGolden}`,
    details: [...describeChanges(a, b), '', unifiedDiff(a, b, `${shownGolden} (golden)`, `${shownGolden} (now)`).trimEnd()].join('\n'),
    ms: ms(),
  };
}

const lines = (text: string): string[] => text.replace(/\n$/, '').split('\n');

function changeCount(a: string, b: string): string {
  const edits = diffLines(lines(a), lines(b));
  return `+${edits.filter((e) => e.op === 'add').length} -${edits.filter((e) => e.op === 'del').length} lines`;
}

/**
 * Per changed x86 region: the function, the BPF instruction behind it and its source line,
 * and the first x86 line before and after (what a reviewer looks for first).
 */
export function describeChanges(a: readonly string[], b: readonly string[]): string[] {
  const edits = diffLines(a, b);
  const out: string[] = [];
  let i = 0;
  while (i < edits.length) {
    if (edits[i].op === 'same') { i++; continue; }
    const start = i;
    while (i < edits.length && edits[i].op !== 'same') i++;
    const region = edits.slice(start, i);
    const first = region[0];
    const place = first.op === 'del' ? placeOf(a, first.a) : placeOf(b, first.b);
    const was = region.find((e) => e.op === 'del')?.line.trim();
    const now = region.find((e) => e.op === 'add')?.line.trim();
    out.push(`in ${place.func ?? '(header)'}, ${place.bpf === undefined ? 'outside any instruction' : place.bpf === 'prologue' ? 'the prologue' : `BPF insn ${place.bpf}`}`);
    if (place.source) out.push(`  source: ${place.source}`);
    if (was !== undefined) out.push(`  was: ${was}`);
    if (now !== undefined) out.push(`  now: ${now}`);
  }
  return out;
}
