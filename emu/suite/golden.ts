// The goldens beside a scenario and how a run is compared with them. Run results come from
// `NAME.expected.json` when the suite's author wrote one, else from the kernel's answer in
// `expected/<release>/NAME.json` for the profile's release: retval and globals per run, matched
// by step. A kernel that refused to load the object (koracle_error) expects each run to end
// with tailjit's load error, its message among the kernel's stderr lines.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseJson, JsonNumber, type Json } from '../json.js';
import type { GlobalValue } from '../../src/elf/index.js';
import type { Profile } from '../../src/profile/index.js';
import type { ScenarioRun } from '../scenario.js';
import type { KernelImages, KernelProgram } from './kernel-image.js';

/** The kernel hung: only the first `completedRuns` run steps have answers. */
export interface Incomplete {
  readonly completedRuns: number;
  readonly status: string;
}

export interface GoldenRun {
  readonly step: number;
  readonly retval: string | null;
  /** Each global's value as canonical JSON text. */
  readonly globals: ReadonlyMap<string, string>;
}

export type RunGolden =
  | { readonly kind: 'runs'; readonly file: string; readonly runs: ReadonlyMap<number, GoldenRun>; readonly incomplete?: Incomplete }
  /** The oracle ended with an error (koracle_error): a load the verifier refused, a step the kernel refused. */
  | { readonly kind: 'error'; readonly file: string; readonly stderr: string }
  | { readonly kind: 'none'; readonly reason: string };

const scenarioName = (file: string): string => basename(file, '.json');

/** `NAME.<profile>.jit.txt` beside the scenario. */
export const listingGoldenPath = (scenarioFile: string, profile: string): string =>
  join(dirname(scenarioFile), `${scenarioName(scenarioFile)}.${profile}.jit.txt`);

/** The `expected/` subfolder holding the profile's kernel (`5.10.223` for linux-5.10, `profile.goldenFolder`), if any. */
export function releaseFolder(expectedDir: string, profile: Profile): string | undefined {
  if (!existsSync(expectedDir)) return undefined;
  return readdirSync(expectedDir).sort().find((d) => d.startsWith(profile.goldenFolder));
}

export function findRunGolden(scenarioFile: string, profile: Profile): RunGolden {
  const dir = dirname(scenarioFile);
  const name = scenarioName(scenarioFile);
  const own = join(dir, `${name}.expected.json`);
  if (existsSync(own)) return readRunGolden(own);
  const folder = releaseFolder(join(dir, 'expected'), profile);
  const kernel = folder === undefined ? undefined : join(dir, 'expected', folder, `${name}.json`);
  if (kernel === undefined || !existsSync(kernel)) {
    return { kind: 'none', reason: `no golden: neither ${name}.expected.json nor expected/${profile.goldenFolder}*/${name}.json` };
  }
  return readRunGolden(kernel);
}

/**
 * The kernel's programs for a scenario (koracle's `programs[]`: xlated and JIT-ed code) from
 * `expected/<profile's folder>/NAME.json`, with that folder's kallsyms.txt; undefined when there
 * is none or the kernel loaded nothing.
 */
export function findKernelImages(scenarioFile: string, profile: Profile): KernelImages | undefined {
  const dir = dirname(scenarioFile);
  const folder = releaseFolder(join(dir, 'expected'), profile);
  if (folder === undefined) return undefined;
  const file = join(dir, 'expected', folder, `${scenarioName(scenarioFile)}.json`);
  const kallsyms = join(dir, 'expected', folder, 'kallsyms.txt');
  if (!existsSync(file) || !existsSync(kallsyms)) return undefined;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { programs?: KernelProgram[]; koracle_error?: boolean };
  if (doc.koracle_error || !Array.isArray(doc.programs) || doc.programs.length === 0) return undefined;
  return { file, programs: doc.programs, kallsyms };
}

function readRunGolden(file: string): RunGolden {
  const doc = parseJson(readFileSync(file, 'utf8'), file);
  const top = isObject(doc) ? doc : {};
  if (top.koracle_error === true) return { kind: 'error', file, stderr: typeof top.stderr === 'string' ? top.stderr : '' };
  const runs = new Map<number, GoldenRun>();
  for (const r of Array.isArray(top.runs) ? top.runs : []) {
    if (!isObject(r) || !(r.step instanceof JsonNumber)) continue;
    const globals = new Map(Object.entries(isObject(r.globals) ? r.globals : {}).map(([k, v]) => [k, jsonText(v)] as const));
    runs.set(r.step.value, { step: r.step.value, retval: r.retval instanceof JsonNumber ? r.retval.text : null, globals });
  }
  const inc = isObject(top.incomplete) ? top.incomplete : undefined;
  const incomplete = inc && inc.completed_runs instanceof JsonNumber
    ? { completedRuns: inc.completed_runs.value, status: typeof inc.status === 'string' ? inc.status : 'incomplete' }
    : undefined;
  return { kind: 'runs', file, runs, ...(incomplete ? { incomplete } : {}) };
}

const stepOf = (text: string): string | undefined => /\bstep (\d+) \(/.exec(text)?.[1];

/**
 * Whether the kernel's error and the one that ended tailjit's scenario are the same refusal:
 * both name the same step, or tailjit's message holds one of the kernel's lines (the verifier's
 * message of a program the kernel did not load).
 */
export function sameScenarioError(tailjit: string, stderr: string): boolean {
  const step = stepOf(tailjit);
  const kernelLines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length >= 12 && !l.startsWith('libbpf:'));
  if (step !== undefined && kernelLines.some((l) => l.startsWith('koracle:') && stepOf(l) === step)) return true;
  return kernelLines.some((l) => !l.startsWith('koracle:') && tailjit.includes(l));
}

/** What ended the oracle's run: the verifier's message of a refused program, else koracle's last line. */
export function kernelErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const refused = lines.findIndex((l) => /^koracle: the verifier rejected \S+:$/.test(l));
  if (refused >= 0 && lines[refused + 1]) return `${lines[refused].slice('koracle: '.length)} ${lines[refused + 1]}`;
  return lines.filter((l) => l.startsWith('koracle:')).pop() ?? lines.filter(Boolean).pop() ?? '';
}

const isObject = (j: Json): j is { [key: string]: Json } => typeof j === 'object' && j !== null && !Array.isArray(j) && !(j instanceof JsonNumber);

/** Canonical JSON text: numbers digit for digit, object keys sorted. */
export function jsonText(j: Json): string {
  if (j instanceof JsonNumber) return j.text;
  if (Array.isArray(j)) return `[${j.map(jsonText).join(',')}]`;
  if (isObject(j)) return `{${Object.keys(j).sort().map((k) => `${JSON.stringify(k)}:${jsonText(j[k])}`).join(',')}}`;
  return JSON.stringify(j);
}

export function globalText(v: GlobalValue): string {
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(globalText).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${globalText(v[k])}`).join(',')}}`;
}

/** The differences of one run from its golden, one line each; empty when it holds. */
export function compareRun(run: ScenarioRun, golden: Exclude<RunGolden, { kind: 'none' }>): string[] {
  if (golden.kind === 'error') {
    const kernel = kernelErrorLine(golden.stderr);
    if (run.error?.kind !== 'load') return [`the kernel ended the scenario with an error (${kernel}); tailjit ${run.error ? `ended the run with ${run.error.kind}: ${run.error.message}` : `ran it: retval ${run.retval}`}`];
    return sameScenarioError(run.error.message, golden.stderr) ? [] : [`the kernel refused to load with another message (${kernel}); tailjit: ${run.error.message}`];
  }
  const want = golden.runs.get(run.step);
  if (!want) return [`the golden has no run for step ${run.step}`];
  if (run.error?.kind === 'load') return [`tailjit did not load ${run.prog} (${run.error.message}); the kernel ran it: retval ${want.retval}`];
  const out: string[] = [];
  const got = run.retval === null ? null : String(run.retval);
  if (got !== want.retval) {
    out.push(`retval: expected ${want.retval ?? 'none'}, got ${got ?? 'none'}${run.error ? ` (${run.error.kind}: ${run.error.message})` : ''}`);
  }
  const names = [...new Set([...want.globals.keys(), ...Object.keys(run.globals)])];
  for (const k of names) {
    const w = want.globals.get(k);
    const g = k in run.globals ? globalText(run.globals[k]) : undefined;
    if (w !== g) out.push(`global ${k}: expected ${w ?? '(absent)'}, got ${g ?? '(absent)'}`);
  }
  return out;
}
