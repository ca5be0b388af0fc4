// `tailjit scenario FILE`: a scenario (shared/spec/scenario.md) on the emulated kernel: load one
// BPF object, change slots and globals, run programs, step by step. --json prints the result
// document with koracle's keys, so it can be compared with a real kernel's key by key; the text
// is one row per run (what the harness observed, the checks' verdicts, how a run ended) and the
// globals each run changed.

import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { defineCommand, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { VERSION } from '../version.js';
import { decodeGlobals, loadObjectFile, type GlobalValue } from '../../src/elf/index.js';
import { DEFAULT_PROFILE, PROFILES, getProfile } from '../../src/profile/index.js';
import { readScenario, runScenario, type ScenarioResult, type ScenarioRun } from '../../emu/scenario.js';
import type { RunBudget } from '../../emu/harness/run.js';
import { runScenarioLive } from '../../emu/live/index.js';
import { requireLive } from '../../emu/live/bpf.js';

/** JSON with integers past 2^53 (u64 globals) written as numbers, digit for digit. */
export function toJson(doc: unknown, indent = 2): string {
  const text = JSON.stringify(doc, (_k, v) => (typeof v === 'bigint' ? `\u0000big:${v}` : v), indent);
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

/** A run ended normally and every check of it held. */
export const runOk = (r: ScenarioRun): boolean => r.error === null && (r.trace?.checks.every((c) => c.ok) ?? true);

// --- text -------------------------------------------------------------------------------------

/** Columns padded to their widest cell; `right` columns are numbers. */
export function table(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string[] {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (right.has(c) ? cell.padStart(w[c]) : cell.padEnd(w[c]))).join('  ').trimEnd());
}

/** `name old -> new` for every global whose value differs (a name missing before counts as changed). */
export function changedGlobals(before: Record<string, GlobalValue>, after: Record<string, GlobalValue>): string[] {
  const text = (v: GlobalValue | undefined): string => (v === undefined ? '-' : toJson(v, 0));
  return Object.keys(after).flatMap((k) => (text(before[k]) === text(after[k]) ? [] : [`${k} ${text(before[k])} -> ${text(after[k])}`]));
}

function checksCell(r: ScenarioRun): string {
  if (!r.trace) return '-';
  const failed = r.trace.checks.filter((c) => !c.ok);
  return failed.length ? `FAILED ${failed.map((c) => c.check).join(', ')}` : `${r.trace.checks.length} ok`;
}

function runRow(r: ScenarioRun): string[] {
  const t = r.trace;
  const n = (v: number | undefined): string => (v === undefined ? '-' : String(v));
  return [String(r.step), r.prog, r.repeat > 1 ? `x${r.repeat}` : '', r.retval === null ? '-' : String(r.retval),
    n(t?.tail_calls), n(t?.tail_calls_refused), n(t?.max_tail_calls_in_chain), n(t?.max_call_depth), n(t?.max_stack_bytes), checksCell(r)];
}

/** What follows a run's row: its label, failed checks, error, printk output, changed globals. */
function runDetails(r: ScenarioRun, before: Record<string, GlobalValue>): string[] {
  const out: string[] = [];
  if (r.label !== undefined) out.push(r.label);
  for (const c of r.trace?.checks ?? []) if (!c.ok) out.push(`check ${c.check} failed: ${c.detail}`);
  const e = r.error;
  if (e) {
    out.push(`error (${e.kind}): ${e.message}`);
    const at = [e.x86_address ? `at ${e.x86_address}${e.where ? ` (${e.where})` : ''}` : '', e.bpf_insn !== null ? `BPF insn ${e.bpf_insn}` : '', e.prog ? `of ${e.prog}` : '']
      .filter(Boolean).join(' ');
    if (at) out.push(`  ${at}`);
    if (e.call_chain.length) out.push(`  call chain: ${e.call_chain.join(' -> ')}`);
  }
  if (r.trace && e?.kind === 'budget') {
    out.push(`  reached: ${r.trace.tail_calls} tail calls, ${r.trace.bpf2bpf_calls} bpf2bpf calls, deepest chain ${r.trace.max_tail_calls_in_chain}`);
  }
  for (const line of r.printk) out.push(`trace_printk: ${line}`);
  const changed = changedGlobals(before, r.globals);
  out.push(changed.length ? `globals: ${changed.join(', ')}` : 'globals: unchanged');
  return out;
}

export function formatScenarioResult(res: ScenarioResult, initialGlobals: Record<string, GlobalValue>): string {
  const loaded = res.programs.map((p) => p.name);
  const lines = [
    `${res.scenario}${res.description !== undefined ? `: ${res.description}` : ''}`,
    `object ${res.object}: ${loaded.length ? `${loaded.join(', ')} loaded` : 'nothing loaded'}; entry ${res.entry}`,
    `kernel ${res.kernel.profile}, ${res.kernel.release}, ${res.kernel.machine}`,
  ];
  for (const e of res.load_errors) lines.push(`load error: ${e.prog}: ${e.message} (${e.code})`);
  lines.push('');
  if (res.runs.length === 0) lines.push('no runs');
  else {
    const rows = [['step', 'prog', 'repeat', 'retval', 'tail calls', 'refused', 'chain', 'depth', 'stack', 'checks'], ...res.runs.map(runRow)];
    const [head, ...body] = table(rows, new Set([0, 3, 4, 5, 6, 7, 8]));
    lines.push(head);
    let before = initialGlobals;
    body.forEach((row, i) => {
      lines.push(row, ...runDetails(res.runs[i], before).map((d) => `      ${d}`));
      before = res.runs[i].globals;
    });
  }
  for (const s of res.snapshots ?? []) {
    lines.push(`snapshot at step ${s.step}${s.label !== undefined ? ` (${s.label})` : ''}: the images of ${s.programs.map((p) => p.name).join(', ')} (--json has the bytes)`);
  }
  const bad = res.runs.filter((r) => !runOk(r));
  lines.push('', bad.length === 0
    ? `${res.runs.length} run(s): every run ended normally and every check held`
    : `${bad.length} of ${res.runs.length} run(s) failed a check or ended with an error (step ${bad.map((r) => r.step).join(', ')})`);
  return lines.join('\n') + '\n';
}

/** The text for a run on the running kernel: what the kernel reports (no trace, no checks). */
export function formatLiveScenarioResult(res: ScenarioResult, initialGlobals: Record<string, GlobalValue>): string {
  const loaded = res.programs.map((p) => p.name);
  const lines = [
    `${res.scenario}${res.description !== undefined ? `: ${res.description}` : ''}`,
    `object ${res.object}: ${loaded.length ? `${loaded.join(', ')} loaded` : 'nothing loaded'}; entry ${res.entry}`,
    `kernel: the running kernel, Linux ${res.kernel.release}, ${res.kernel.machine}`,
  ];
  for (const e of res.load_errors) lines.push(`load error: ${e.prog}: ${e.message} (${e.code})`);
  lines.push('');
  if (res.runs.length === 0) lines.push('no runs');
  else {
    const rows = [['step', 'prog', 'repeat', 'retval', 'ns/run'], ...res.runs.map((r) => [
      String(r.step), r.prog, r.repeat > 1 ? `x${r.repeat}` : '', r.retval === null ? '-' : String(r.retval), r.duration_ns === null ? '-' : String(r.duration_ns),
    ])];
    const [head, ...body] = table(rows, new Set([0, 3, 4]));
    lines.push(head);
    let before = initialGlobals;
    body.forEach((row, i) => {
      const r = res.runs[i];
      const details = [...(r.label !== undefined ? [r.label] : []), ...(r.error ? [`error (${r.error.kind}): ${r.error.message}`] : [])];
      const changed = changedGlobals(before, r.globals);
      details.push(changed.length ? `globals: ${changed.join(', ')}` : 'globals: unchanged');
      lines.push(row, ...details.map((d) => `      ${d}`));
      before = r.globals;
    });
  }
  for (const s of res.snapshots ?? []) {
    lines.push(`snapshot at step ${s.step}${s.label !== undefined ? ` (${s.label})` : ''}: the images of ${s.programs.map((p) => p.name).join(', ')} (--json has the bytes)`);
  }
  const bad = res.runs.filter((r) => r.error !== null);
  lines.push('', bad.length === 0
    ? `${res.runs.length} run(s) on the running kernel`
    : `${bad.length} of ${res.runs.length} run(s) could not run (step ${bad.map((r) => r.step).join(', ')})`);
  return lines.join('\n') + '\n';
}

// --- the command ------------------------------------------------------------------------------

function budgetOf(text: string | undefined): RunBudget | undefined {
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new UsageError(`--budget-ms must be a positive integer (got '${text}')`);
  return { wallUs: ms * 1000 };
}

export const scenario = defineCommand({
  spec: {
    name: 'scenario',
    summary: 'run a scenario file (load an object, set slots and globals, run programs) on the emulated kernel',
    usage: 'FILE [--backend emulated|kernel] [--profile P] [--trace] [--budget-ms N] [--json]',
    details: `FILE is a scenario as shared/spec/scenario.md describes it, the same file koracle and
kvm-oracle run on real kernels. Prints one row per run: return value, tail calls taken and
refused, the deepest tail call chain, the most BPF frames at once, the bytes of kernel stack
used, the checks' verdicts; below it the run's label, why it did not end normally, and the
globals that changed since the previous run (the first run: since load). --json prints the
result document with koracle's keys plus tailjit's trace, error, printk, pokes, load_errors.
A run that would go on for hours on the real kernel ends with a budget error (default 10 s of
wall time per run, --budget-ms to change it); later runs still run.
Exit status 1 when a check failed or a run ended with an error; 2 when the file is invalid or
names an object, program, map or variable that does not exist, or the kernel refuses a step
(deleting an empty slot, filling a slot with a program that did not load).
With --backend kernel the scenario runs on the running Linux kernel instead (root, or bpf()
permitted; exit 2 otherwise), loaded as koracle loads it (libbpf 1.1's way, nothing pinned or
attached): the rows show the return value and the kernel's time per run, --json the same
document with trace and pokes empty and the kernel's xlated and JIT bytes; --profile, --trace
and --budget-ms do not apply.`,
    options: {
      ...COMMON_OPTIONS,
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose JIT and semantics are modeled' },
      trace: { type: 'boolean', description: 'count the x86 instructions of every run (slower)' },
      'budget-ms': { type: 'string', arg: 'N', description: 'wall time one run may take, in milliseconds (default 10000)' },
      backend: { type: 'string', arg: 'B', choices: ['emulated', 'kernel'], default: 'emulated', description: 'where the programs run: the emulated kernel of --profile, or the running kernel' },
    },
    minPositionals: 1,
    maxPositionals: 1,
  },
  async run({ options, positionals }, io) {
    const file = resolve(io.cwd, positionals[0]);
    const shown = relative(io.cwd, file) || file;
    const budget = budgetOf(options['budget-ms']);
    const sc = readScenario(file);
    if (options.backend === 'kernel') {
      if (options.trace || options['budget-ms'] !== undefined) throw new UsageError('--trace and --budget-ms need the emulated backend');
      requireLive();
      const res = runScenarioLive(sc, { version: VERSION });
      res.scenario = shown;
      if (options.json) io.out(toJson(res) + '\n');
      else {
        const objPath = isAbsolute(sc.object) ? sc.object : resolve(dirname(file), sc.object);
        io.out(formatLiveScenarioResult(res, decodeGlobals(loadObjectFile(objPath)).globals));
      }
      return res.runs.every((r) => r.error === null) ? EXIT_OK : EXIT_CHECK_FAILED;
    }
    const result = runScenario(sc, {
      profile: getProfile(options.profile), version: VERSION, trace: Boolean(options.trace), ...(budget ? { budget } : {}),
    });
    result.scenario = shown;
    const ok = result.runs.every(runOk);
    if (options.json) {
      io.out(toJson(result) + '\n');
    } else {
      // The same object file runScenario loaded: its globals before any step.
      const objPath = isAbsolute(sc.object) ? sc.object : resolve(dirname(file), sc.object);
      io.out(formatScenarioResult(result, decodeGlobals(loadObjectFile(objPath)).globals));
    }
    return ok ? EXIT_OK : EXIT_CHECK_FAILED;
  },
});
