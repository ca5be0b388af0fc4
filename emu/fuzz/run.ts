// The differential fuzzer's runners: each case (src/fuzz) is written as an ELF object and a
// scenario, then answered by the reference interpreter (emu/interp-scenario.ts), the emulated
// JIT (emu/scenario.ts) and, when the profile is the running kernel's, the live kernel
// (emu/live). Retvals, globals and how each run ended are compared run by run; a disagreement
// is minimized and saved as `<out>/<seed>-<index>/` with case.bpf.o, case.json (a scenario
// koracle runs too), answers.json (the three answers) and the unminimized original.
//
// Work bound: before anything runs on machine code, the interpreter runs the case under the
// profile's tail-call semantics and, for the live kernel, the host's; a case whose run exceeds
// the instruction budget (a by-value counter's tree of chains, 2^33 runs) is rejected and the
// next attempt of the same index is generated instead.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release as osRelease, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { loadObjectFile, writeObject, type GlobalValue } from '../../src/elf/index.js';
import { width } from '../../src/isa/index.js';
import { caseSize, emitObject, generateCase, minimize, scenarioDocument, type FuzzCase, type GenOptions } from '../../src/fuzz/index.js';
import { ProfileError, profileForKernelRelease } from '../../src/profile/release.js';
import { getProfile, type Profile, type ProfileName } from '../../src/profile/index.js';
import { runScenarioInterp, type InterpScenarioResult } from '../interp-scenario.js';
import { parseScenario, runScenario, type Scenario, type ScenarioResult } from '../scenario.js';
import type { RunBudget } from '../harness/run.js';

export interface AnswerRun {
  step: number;
  retval: number | null;
  globals: Record<string, GlobalValue>;
  /** null when the run ended normally; else how it ended (`budget`, `fault`, `load`, `check: NAME`). */
  error: string | null;
}

export interface Answer {
  backend: 'interpreter' | 'emulated' | 'live';
  profile: string;
  release: string;
  runs: AnswerRun[];
  /** Programs that did not load, with the message. */
  load_errors: string[];
}

export interface CaseOutcome {
  readonly case: FuzzCase;
  readonly answers: { interpreter: Answer; emulated: Answer; live?: Answer };
  /** Empty when every answer agrees. */
  readonly differences: string[];
  /** Known reasons for the differences (explain()), empty when none applies. */
  readonly explanations: string[];
}

export interface FuzzOptions {
  readonly profile: Profile;
  /** Also run on the live kernel (only when `profile` is the host's). */
  readonly live?: boolean;
  readonly gen?: GenOptions;
  /** Interpreter instructions per run before a case counts as too much work (default 200,000). */
  readonly workBudget?: number;
  /** Emulated runs' budget (default 2 s of wall time). */
  readonly emuBudget?: RunBudget;
  /** Predicate calls the minimizer may make per disagreement (default 300). */
  readonly minimizeBudget?: number;
  /** Attempts per index before giving up on it (default 20). */
  readonly attempts?: number;
}

const DEFAULT_WORK = 200_000;

/** The profile that models the running kernel, or null when no profile does. */
export function hostProfileName(release = osRelease()): ProfileName | null {
  try {
    return profileForKernelRelease(release).name;
  } catch (e) {
    if (e instanceof ProfileError) return null;
    throw e;
  }
}

/** Writes a case as `name.bpf.o` and `name.json` in `dir`; returns the scenario. */
export function writeCase(c: FuzzCase, dir: string, name = 'case', description?: string): Scenario {
  const obj = writeObject(emitObject(c));
  writeFileSync(join(dir, `${name}.bpf.o`), obj);
  const text = JSON.stringify(scenarioDocument(c, `${name}.bpf.o`, description), null, 2) + '\n';
  const file = join(dir, `${name}.json`);
  writeFileSync(file, text);
  return parseScenario(text, file);
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' || typeof x === 'number' ? String(x) : x));

function fromInterp(r: InterpScenarioResult): Answer {
  return {
    backend: 'interpreter', profile: r.kernel.profile, release: r.kernel.release, load_errors: [],
    runs: r.runs.map((x) => ({ step: x.step, retval: x.retval, globals: x.globals, error: x.error ? x.error.kind : null })),
  };
}

function fromScenario(r: ScenarioResult, backend: 'emulated' | 'live'): Answer {
  return {
    backend, profile: r.kernel.profile, release: r.kernel.release,
    load_errors: r.load_errors.map((e) => `${e.prog}: ${e.message}`),
    runs: r.runs.map((x) => {
      const failed = x.trace?.checks.filter((c) => !c.ok).map((c) => c.check) ?? [];
      const error = x.error ? x.error.kind : failed.length ? `check: ${failed.join(', ')}` : null;
      return { step: x.step, retval: x.retval, globals: x.globals, error };
    }),
  };
}

/** What differs between a reference answer and another, run by run. */
export function compareAnswers(ref: Answer, other: Answer): string[] {
  const out: string[] = [];
  const who = `${other.backend} (${other.profile})`;
  for (const e of other.load_errors) out.push(`${who}: did not load ${e}`);
  if (ref.runs.length !== other.runs.length) out.push(`${who}: ${other.runs.length} runs, ${ref.backend} ${ref.runs.length}`);
  ref.runs.forEach((a, i) => {
    const b = other.runs[i];
    if (!b) return;
    if (a.error !== b.error) out.push(`step ${a.step}: ${ref.backend} ${a.error ?? 'ended normally'}, ${who} ${b.error ?? 'ended normally'}`);
    else if (a.retval !== b.retval) out.push(`step ${a.step}: retval ${ref.backend} ${a.retval}, ${who} ${b.retval}`);
    const ka = stable(a.globals);
    const kb = stable(b.globals);
    if (ka !== kb && a.error === null && b.error === null) {
      const names = [...new Set([...Object.keys(a.globals), ...Object.keys(b.globals)])].filter((k) => stable(a.globals[k]) !== stable(b.globals[k]));
      out.push(`step ${a.step}: globals differ (${names.map((k) => `${k}: ${ref.backend} ${stable(a.globals[k])}, ${who} ${stable(b.globals[k])}`).join('; ')})`);
    }
  });
  return out;
}

type LiveRunner = (sc: Scenario) => ScenarioResult;

/** A fuzzer bound to a work folder: answers cases, minimizes and saves disagreements. */
export class Fuzzer {
  readonly work: string;
  private readonly hostProfile: Profile | null;
  readonly liveEnabled: boolean;

  constructor(readonly options: FuzzOptions, private readonly liveRunner?: LiveRunner) {
    this.work = mkdtempSync(join(tmpdir(), 'tailjit-fuzz-'));
    const host = hostProfileName();
    this.hostProfile = host ? getProfile(host) : null;
    this.liveEnabled = Boolean(options.live && liveRunner && host === options.profile.name);
  }

  close(): void {
    rmSync(this.work, { recursive: true, force: true });
  }

  /**
   * The interpreter's answer under the profile when the case's work is bounded there (and under
   * the host's semantics, for the live kernel); null when it is not.
   */
  bounded(sc: Scenario): InterpScenarioResult | null {
    const budget = { insns: this.options.workBudget ?? DEFAULT_WORK };
    const run = (p: Profile) => runScenarioInterp(sc, { profile: p, budget });
    const ok = (r: InterpScenarioResult) => r.runs.every((x) => x.error?.kind !== 'budget');
    const mine = run(this.options.profile);
    if (!ok(mine)) return null;
    if (this.liveEnabled && this.hostProfile && this.hostProfile !== this.options.profile && !ok(run(this.hostProfile))) return null;
    return mine;
  }

  /** The answers to one case. */
  answer(c: FuzzCase, name = 'case'): CaseOutcome {
    const sc = writeCase(c, this.work, name);
    return this.answerScenario(c, sc);
  }

  private answerScenario(c: FuzzCase, sc: Scenario, interpResult?: InterpScenarioResult): CaseOutcome {
    const budget = { insns: this.options.workBudget ?? DEFAULT_WORK };
    const interpreter = fromInterp(interpResult ?? runScenarioInterp(sc, { profile: this.options.profile, budget }));
    const emuResult = runScenario(sc, { profile: this.options.profile, budget: this.options.emuBudget ?? { wallUs: 2_000_000 } });
    const emulated = fromScenario(emuResult, 'emulated');
    const liveResult = this.liveEnabled ? this.liveRunner!(sc) : undefined;
    const live = liveResult ? fromScenario(liveResult, 'live') : undefined;
    const differences = [...compareAnswers(interpreter, emulated), ...(live ? compareAnswers(interpreter, live) : [])];
    const explanations = differences.length ? explain(sc, emuResult, liveResult, interpreter, emulated, live) : [];
    return { case: c, answers: { interpreter, emulated, ...(live ? { live } : {}) }, differences, explanations };
  }

  /** Case `index` of `seed`: the first attempt whose work is bounded, or null. */
  generate(seed: number, index: number): { case: FuzzCase; scenario: Scenario; interp: InterpScenarioResult; rejected: number } | null {
    const attempts = this.options.attempts ?? 20;
    for (let a = 0; a < attempts; a++) {
      const c = generateCase(seed, index, a, this.options.gen);
      const sc = writeCase(c, this.work);
      const interp = this.bounded(sc);
      if (interp) return { case: c, scenario: sc, interp, rejected: a };
    }
    return null;
  }

  /** Generates, answers, and on a disagreement minimizes and saves case `index`. */
  one(seed: number, index: number, outDir: string): FuzzCaseReport {
    const g = this.generate(seed, index);
    if (!g) return { index, status: 'rejected', rejected: this.options.attempts ?? 20 };
    const outcome = this.answerScenario(g.case, g.scenario, g.interp);
    if (outcome.differences.length === 0) return { index, status: 'agree', rejected: g.rejected };
    const kinds = pairsOf(outcome.differences);
    const holds = (x: FuzzCase): boolean => {
      const sc = writeCase(x, this.work, 'shrink');
      const interp = this.bounded(sc);
      if (!interp) return false;
      try {
        const o = this.answerScenario(x, sc, interp);
        return o.differences.length > 0 && pairsOf(o.differences).some((k) => kinds.includes(k));
      } catch {
        return false;
      }
    };
    const m = minimize(g.case, holds, this.options.minimizeBudget ?? 300);
    const final = this.answerScenario(m.case, writeCase(m.case, this.work, 'final'));
    const dir = join(outDir, `${seed}-${index}`);
    this.save(dir, g.case, outcome, final, m.tries);
    const shown = final.differences.length ? final : outcome;
    return { index, status: 'disagree', rejected: g.rejected, dir, case: m.case, differences: shown.differences, explanations: shown.explanations, size: caseSize(m.case), originalSize: caseSize(g.case) };
  }

  save(dir: string, original: FuzzCase, first: CaseOutcome, final: CaseOutcome, tries: number): void {
    mkdirSync(dir, { recursive: true });
    const c = final.differences.length ? final : first;
    const what = `tailjit fuzz seed ${original.seed} index ${original.index}, profile ${this.options.profile.name}`;
    writeCase(c.case, dir, 'case', `${what}${c === final ? ` (minimized, ${tries} tries)` : ''}`);
    writeCase(original, dir, 'original', `${what} (as generated)`);
    // The cases as src/fuzz describes them (operations, not instructions), to edit and re-run.
    const json = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
    writeFileSync(join(dir, 'case.fuzz.json'), json(c.case));
    writeFileSync(join(dir, 'original.fuzz.json'), json(original));
    writeFileSync(join(dir, 'answers.json'), JSON.stringify({
      seed: original.seed, index: original.index, profile: this.options.profile.name,
      differences: c.differences, explanations: c.explanations, answers: c.answers, original: { differences: first.differences, answers: first.answers },
    }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
  }
}

export type FuzzCaseReport =
  | { index: number; status: 'agree'; rejected: number }
  | { index: number; status: 'rejected'; rejected: number }
  | { index: number; status: 'disagree'; rejected: number; dir: string; case: FuzzCase; differences: string[]; explanations: string[]; size: ReturnType<typeof caseSize>; originalSize: ReturnType<typeof caseSize> };

/** Which backends a difference is about (for "the same disagreement" while minimizing). */
function pairsOf(differences: readonly string[]): string[] {
  return [...new Set(differences.map((d) => (/\b(live)\b/.test(d) ? 'live' : 'emulated')))];
}

/**
 * Known reasons for a disagreement, from what the backends report:
 * - the verifier removed instructions (xlated shorter than the object's program): Linux 5.10
 *   and 6.1 take a subprogram's r0 at its own exit as the call's result and hard-wire branches
 *   and drop code on it, but a tail call taken in the subprogram returns the target's r0 (the
 *   interpreter runs the object's instructions, so it takes branches the kernel removed);
 * - which answer the live kernel sides with.
 */
export function explain(sc: Scenario, emu: ScenarioResult, live: ScenarioResult | undefined, interp: Answer, emulated: Answer, liveAnswer: Answer | undefined): string[] {
  const out: string[] = [];
  const objPath = isAbsolute(sc.object) ? sc.object : resolve(dirname(sc.file), sc.object);
  const raw = new Map(loadObjectFile(objPath).programs.map((p) => [p.name, p.insns.reduce((n, i) => n + width(i), 0)]));
  for (const [who, r] of [['emulated', emu], ['live', live]] as const) {
    for (const p of r?.programs ?? []) {
      const n = raw.get(p.name);
      if (n !== undefined && p.xlated_insn_count < n) {
        out.push(`dead code: the ${who === 'live' ? 'live kernel\'s' : `${emu.kernel.profile} modeled`} verifier kept ${p.xlated_insn_count} of ${p.name}'s ${n} instructions, the interpreter runs the object's; where the code removed follows a call of a subprogram that tail-calls, the verifier assumed the subprogram's own r0, but a taken tail call returns its target's`);
      }
    }
  }
  if (liveAnswer) {
    const withInterp = compareAnswers(interp, liveAnswer).length === 0;
    const withEmu = compareAnswers(emulated, liveAnswer).length === 0;
    out.push(`the live kernel (${liveAnswer.release}) agrees with ${withInterp && withEmu ? 'both' : withInterp ? 'the interpreter' : withEmu ? 'the emulated JIT' : 'neither'}`);
  }
  return out;
}
