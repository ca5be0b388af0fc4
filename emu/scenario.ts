// Scenarios on the emulated 5.10 machine (/work/shared/spec/scenario.md): a JSON file that loads
// one BPF object and runs steps (set, del, setvar, reset, snapshot, run), answered with the
// document koracle prints, keys and all, plus what only tailjit knows (`trace`, `error`).
// The file is checked as koracle checks it (known keys only, exactly one action per step) before
// anything runs; a step the kernel refuses (deleting an empty slot, an unknown variable) ends the
// scenario with an error naming the step, while a run that faults or exhausts its budget is
// reported in its `error` and later steps still run.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { TailjitError } from '../src/errors.js';
import { JsonNumber, parseJson, type Json } from './json.js';
import { loadObjectFile, toHex, type GlobalValue } from '../src/elf/index.js';
import { getProfile, type Profile } from '../src/profile/index.js';
import { slotCount, xlatedForDump } from '../src/verifier/index.js';
import { encode } from '../src/isa/index.js';
import { Machine, type MachineOptions } from './harness/machine.js';
import type { RunBudget } from './harness/run.js';
import type { LoadedProgram } from './harness/program.js';
import type { RunTrace } from './harness/observer.js';
import type { RunError } from './harness/errors.js';
import type { PokeRunReport } from './kernel/poke.js';

export class ScenarioError extends TailjitError {}

export type Step =
  | { readonly kind: 'set'; readonly map: string; readonly slot: number; readonly prog: string }
  | { readonly kind: 'del'; readonly map: string; readonly slot: number }
  | { readonly kind: 'setvar'; readonly name: string; readonly value: bigint }
  | { readonly kind: 'reset' }
  | { readonly kind: 'snapshot'; readonly label?: string }
  | { readonly kind: 'run'; readonly prog?: string; readonly repeat: number; readonly dataSize: number; readonly label?: string };

export interface Scenario {
  readonly file: string;
  readonly description?: string;
  readonly object: string;
  readonly entry: string;
  readonly steps: readonly Step[];
}

export interface ScenarioOptions {
  readonly profile?: Profile;
  /** Count x86 instructions in every run (slower). */
  readonly trace?: boolean;
  /** Record every call, tail call and return with its rsp in each run's `trace.events`. */
  readonly events?: boolean;
  readonly budget?: RunBudget;
  /** Written as `tailjit` in the output. */
  readonly version?: string;
  readonly machine?: Omit<MachineOptions, 'profile'>;
}

export interface ScenarioRun {
  step: number;
  label?: string;
  prog: string;
  repeat: number;
  data_size: number;
  retval: number | null;
  duration_ns: number | null;
  globals: Record<string, GlobalValue>;
  sections: Record<string, string>;
  trace: RunTrace | null;
  printk: readonly string[];
  error: RunError | null;
}

export interface ScenarioProgram {
  name: string;
  section: string | null;
  type: string;
  xlated_insn_count: number;
  jited_len: number;
  jited_func_lens: number[];
  jited_ksyms: string[];
  stack_depths: number[];
  tail_call_reachable: boolean[];
  map_ids: number[];
  xlated_hex: string;
  jited_hex: string;
}

export interface ScenarioResult {
  tailjit: string;
  scenario: string;
  description?: string;
  object: string;
  entry: string;
  kernel: { profile: string; release: string; machine: string };
  runs: ScenarioRun[];
  snapshots?: { step: number; label?: string; programs: { name: string; jited_hex: string }[] }[];
  /** The text pokes each set/del made (tailjit only). */
  pokes: { step: number; map: string; slot: number; prog: string | null; report: PokeRunReport }[];
  /** Programs that did not load, with the verifier's or the JIT's message (tailjit only). */
  load_errors: { prog: string; code: string; message: string }[];
  programs: ScenarioProgram[];
}

// --- parsing -------------------------------------------------------------------------------

const TOP_KEYS = ['object', 'entry', 'steps', 'description'];
const ACTIONS = ['set', 'del', 'run', 'setvar', 'reset', 'snapshot'] as const;

export function readScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError('scenario.io', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): Scenario {
  let doc: Json;
  try {
    doc = parseJson(text, file);
  } catch (e) {
    if (e instanceof TailjitError) throw new ScenarioError(e.code, e.message, e.location);
    throw e;
  }
  const where = { file };
  const top = object(doc, 'the scenario', where);
  onlyKeys(top, TOP_KEYS, 'the scenario', where);
  const objectName = str(top, 'object', 'the scenario', where, true)!;
  const entry = str(top, 'entry', 'the scenario', where, true)!;
  const description = str(top, 'description', 'the scenario', where, false);
  const steps = top.steps;
  if (!Array.isArray(steps)) throw new ScenarioError('scenario.bad-step', '"steps" must be an array', where);
  return {
    file, object: objectName, entry, ...(description !== undefined ? { description } : {}),
    steps: steps.map((s, i) => parseStep(s, i, where)),
  };
}

function parseStep(s: Json, i: number, loc: { file: string }): Step {
  const st = object(s, `step ${i}`, loc);
  const actions = Object.keys(st).filter((k) => k !== 'comment');
  for (const k of actions) {
    if (!(ACTIONS as readonly string[]).includes(k)) {
      throw new ScenarioError('scenario.bad-step', `step ${i}: unknown action "${k}" (${ACTIONS.join(', ')})`, loc);
    }
  }
  if (actions.length !== 1) throw new ScenarioError('scenario.bad-step', `step ${i} must have exactly one action`, loc);
  const act = actions[0] as (typeof ACTIONS)[number];
  const where = `step ${i} (${act})`;
  const a = st[act];
  switch (act) {
    case 'set': {
      const o = object(a, where, loc);
      onlyKeys(o, ['map', 'slot', 'prog'], where, loc);
      return { kind: 'set', map: str(o, 'map', where, loc, true)!, slot: int(o, 'slot', where, loc, 0, 0xffffffff, true)!, prog: str(o, 'prog', where, loc, true)! };
    }
    case 'del': {
      const o = object(a, where, loc);
      onlyKeys(o, ['map', 'slot'], where, loc);
      return { kind: 'del', map: str(o, 'map', where, loc, true)!, slot: int(o, 'slot', where, loc, 0, 0xffffffff, true)! };
    }
    case 'setvar': {
      const o = object(a, where, loc);
      onlyKeys(o, ['name', 'value'], where, loc);
      const v = o.value;
      const n = v instanceof JsonNumber ? v.integer : undefined;
      if (n === undefined || n < -(1n << 63n) || n >= 1n << 64n) throw new ScenarioError('scenario.bad-step', `${where}: "value" must be a 64-bit integer`, loc);
      return { kind: 'setvar', name: str(o, 'name', where, loc, true)!, value: n };
    }
    case 'reset':
      if (typeof a !== 'boolean') onlyKeys(object(a, where, loc), [], where, loc);
      return { kind: 'reset' };
    case 'snapshot': {
      const o = object(a, where, loc);
      onlyKeys(o, ['label'], where, loc);
      const label = str(o, 'label', where, loc, false);
      return { kind: 'snapshot', ...(label !== undefined ? { label } : {}) };
    }
    case 'run': {
      const o = object(a, where, loc);
      onlyKeys(o, ['repeat', 'data_size', 'prog', 'label'], where, loc);
      const label = str(o, 'label', where, loc, false);
      const prog = str(o, 'prog', where, loc, false);
      const dataSize = int(o, 'data_size', where, loc, 0, 65536, false) ?? 64;
      if (dataSize < 14) throw new ScenarioError('scenario.bad-step', `${where}: a packet program needs data_size >= 14 (an Ethernet header)`, loc);
      return {
        kind: 'run', repeat: int(o, 'repeat', where, loc, 1, 0x7fffffff, false) ?? 1, dataSize,
        ...(prog !== undefined ? { prog } : {}), ...(label !== undefined ? { label } : {}),
      };
    }
  }
}

function object(v: Json, where: string, loc: { file: string }): { [k: string]: Json } {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof JsonNumber) throw new ScenarioError('scenario.bad-step', `${where} must be an object`, loc);
  return v;
}

function onlyKeys(o: { [k: string]: Json }, allowed: readonly string[], where: string, loc: { file: string }): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ScenarioError('scenario.bad-step', `${where}: unknown key "${k}"`, loc);
}

function str(o: { [k: string]: Json }, key: string, where: string, loc: { file: string }, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined) {
    if (required) throw new ScenarioError('scenario.bad-step', `${where}: missing "${key}"`, loc);
    return undefined;
  }
  if (typeof v !== 'string') throw new ScenarioError('scenario.bad-step', `${where}: "${key}" must be a string`, loc);
  return v;
}

function int(o: { [k: string]: Json }, key: string, where: string, loc: { file: string }, lo: number, hi: number, required: boolean): number | undefined {
  const v = o[key];
  if (v === undefined) {
    if (required) throw new ScenarioError('scenario.bad-step', `${where}: missing "${key}"`, loc);
    return undefined;
  }
  const n = v instanceof JsonNumber ? v.integer : undefined;
  if (n === undefined || n < BigInt(lo) || n > BigInt(hi)) {
    throw new ScenarioError('scenario.bad-step', `${where}: "${key}" must be an integer in ${lo}..${hi}`, loc);
  }
  return Number(n);
}

// --- running -------------------------------------------------------------------------------

export function runScenarioFile(file: string, options: ScenarioOptions = {}): ScenarioResult {
  return runScenario(readScenario(file), options);
}

export function runScenario(sc: Scenario, options: ScenarioOptions = {}): ScenarioResult {
  const profile = options.profile ?? getProfile('linux-5.10');
  const objPath = isAbsolute(sc.object) ? sc.object : resolve(dirname(sc.file), sc.object);
  const obj = loadObjectFile(objPath);
  const machine = new Machine({ ...options.machine, profile });
  try {
    machine.loadObject(obj);
    if (!machine.programs.has(sc.entry) && !machine.failures.has(sc.entry)) {
      throw new ScenarioError('scenario.unknown', `"entry": no program named ${sc.entry} in ${sc.object}`, { file: sc.file });
    }
    const out: ScenarioResult = {
      tailjit: options.version ?? 'dev', scenario: sc.file, ...(sc.description !== undefined ? { description: sc.description } : {}),
      object: sc.object, entry: sc.entry,
      kernel: { profile: profile.name, release: profile.releaseString, machine: 'x86_64 (emulated)' },
      runs: [], pokes: [],
      load_errors: [...machine.failures].map(([prog, e]) => ({ prog, code: e.code, message: e.message })),
      programs: [],
    };
    const snapshots: NonNullable<ScenarioResult['snapshots']> = [];
    sc.steps.forEach((step, i) => {
      try {
        doStep(machine, sc, step, i, out, snapshots, options);
      } catch (e) {
        if (e instanceof TailjitError && !(e instanceof ScenarioError)) {
          throw new ScenarioError(e.code, `step ${i} (${step.kind}): ${e.message}`, { file: sc.file }, e.notes);
        }
        throw e;
      }
    });
    if (snapshots.length) out.snapshots = snapshots;
    out.programs = programsOf(machine);
    return out;
  } finally {
    machine.close();
  }
}

function doStep(machine: Machine, sc: Scenario, step: Step, i: number, out: ScenarioResult, snapshots: NonNullable<ScenarioResult['snapshots']>, options: ScenarioOptions): void {
  switch (step.kind) {
    case 'set':
      out.pokes.push({ step: i, map: step.map, slot: step.slot, prog: step.prog, report: machine.updateSlot(step.map, step.slot, step.prog) });
      return;
    case 'del':
      out.pokes.push({ step: i, map: step.map, slot: step.slot, prog: null, report: machine.updateSlot(step.map, step.slot, null) });
      return;
    case 'setvar':
      machine.setvar(step.name, step.value);
      return;
    case 'reset':
      machine.reset();
      return;
    case 'snapshot':
      snapshots.push({ step: i, ...(step.label !== undefined ? { label: step.label } : {}), programs: machine.snapshot() });
      return;
    case 'run':
      out.runs.push(doRun(machine, sc, step, i, options));
      return;
  }
}

function doRun(machine: Machine, sc: Scenario, step: Extract<Step, { kind: 'run' }>, i: number, options: ScenarioOptions): ScenarioRun {
  const prog = step.prog ?? sc.entry;
  const head = { step: i, ...(step.label !== undefined ? { label: step.label } : {}), prog, repeat: step.repeat, data_size: step.dataSize };
  const failure = machine.failures.get(prog);
  if (!failure && !machine.programs.has(prog)) {
    throw new ScenarioError('scenario.unknown', `step ${i} (run): no program named ${prog} in ${sc.object}`, { file: sc.file });
  }
  if (failure) {
    const g = machine.globals();
    return {
      ...head, retval: null, duration_ns: null, globals: g.globals, sections: g.sections, trace: null, printk: [],
      error: {
        kind: 'load', message: failure.message,
        x86_address: null, bpf_insn: failure.location.insn ?? null, prog, call_chain: [],
      },
    };
  }
  const r = machine.run(prog, { dataSize: step.dataSize, repeat: step.repeat, trace: options.trace, events: options.events, budget: options.budget });
  const g = machine.globals();
  return {
    ...head, retval: r.error && r.error.kind !== 'check' ? null : r.retval, duration_ns: r.duration_ns,
    globals: g.globals, sections: g.sections, trace: r.trace, printk: r.printk, error: r.error,
  };
}

function programsOf(machine: Machine): ScenarioProgram[] {
  return [...machine.programs.values()].map((p) => programInfo(machine, p));
}

/** A loaded program as koracle's `programs` entries describe it (images as they are now). */
export function programInfo(machine: Machine, p: LoadedProgram): ScenarioProgram {
  const images = p.jit.funcs.map((f) => machine.imageBytes(f));
  return {
    name: p.name, section: p.section ?? null, type: p.type,
    xlated_insn_count: slotCount(p.verified),
    jited_len: images.reduce((n, b) => n + b.length, 0),
    jited_func_lens: images.map((b) => b.length),
    jited_ksyms: p.jit.funcs.map((f) => `0x${f.address.toString(16)}`),
    stack_depths: p.verified.funcs.map((f) => f.stackDepth),
    tail_call_reachable: p.jit.funcs.map((f) => f.tailCallReachable),
    map_ids: p.verified.usedMaps.map((m) => m + 1),
    xlated_hex: toHex(encode(xlatedForDump(p.verified, (m) => m + 1))),
    jited_hex: images.map(toHex).join(''),
  };
}
