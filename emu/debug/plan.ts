// The runs a debugging session goes through: a scenario's steps in order (set, del, setvar,
// reset and snapshot carried out as `tailjit scenario` does them, each `run` handed to the
// target), or runs of one program of an object. Steps are taken one at a time so that the
// target can stop at a text poke between runs.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { TailjitError } from '../../src/errors.js';
import { loadObject, loadObjectFile, type ObjectFile } from '../../src/elf/index.js';
import type { Machine, RunRequest } from '../harness/index.js';
import { parseScenario, type Scenario, type Step } from '../scenario.js';
import { DebugError } from './errors.js';
import type { KernelEvent } from './target.js';

/** What a session debugs. */
export type DebugInput =
  | { readonly kind: 'scenario'; readonly scenario: Scenario }
  /** `runs` runs of `prog` (default: the first program that loaded), 64 zero bytes of packet each. */
  | { readonly kind: 'object'; readonly file: string; readonly object: ObjectFile; readonly prog?: string; readonly runs?: number };

export interface PlannedRun {
  readonly prog: string;
  readonly request: RunRequest;
  /** The scenario step, or null for an object's runs. */
  readonly step: number | null;
  readonly label?: string;
}

export type PlanItem =
  | { readonly kind: 'run'; readonly run: PlannedRun }
  | { readonly kind: 'poke'; readonly event: Extract<KernelEvent, { kind: 'poke' }> }
  | { readonly kind: 'end' }
  /** A step the kernel refused (deleting an empty slot, an unknown variable): the scenario ends. */
  | { readonly kind: 'error'; readonly message: string };

/** The path of the object a session's machine loads. */
export function inputObjectPath(input: DebugInput): string {
  if (input.kind === 'object') return input.file;
  const sc = input.scenario;
  return isAbsolute(sc.object) ? sc.object : resolve(dirname(sc.file), sc.object);
}

/** The object a session's machine loads. */
export function inputObject(input: DebugInput): ObjectFile {
  return input.kind === 'object' ? input.object : loadObjectFile(inputObjectPath(input));
}

export class RunPlan {
  readonly #machine: Machine;
  readonly #input: DebugInput;
  #next = 0;

  constructor(machine: Machine, input: DebugInput) {
    this.#machine = machine;
    this.#input = input;
    if (input.kind === 'scenario') {
      const e = input.scenario.entry;
      if (!machine.programs.has(e) && !machine.failures.has(e)) {
        throw new DebugError('debug.load', `"entry": no program named ${e} in ${input.scenario.object}`, { file: input.scenario.file });
      }
    } else if (input.prog !== undefined) {
      machine.program(input.prog);
    }
  }

  /** The program the object's runs use. */
  get objectProg(): string | undefined {
    if (this.#input.kind !== 'object') return undefined;
    if (this.#input.prog !== undefined) return this.#input.prog;
    const first = this.#machine.programs.keys().next();
    if (first.done) throw new DebugError('debug.load', `no program of ${this.#input.file} loaded`, { file: this.#input.file });
    return first.value;
  }

  /** Carries out steps up to the next run, poke or the end. */
  advance(): PlanItem {
    if (this.#input.kind === 'object') {
      const runs = this.#input.runs ?? 1;
      if (this.#next >= runs) return { kind: 'end' };
      this.#next++;
      return { kind: 'run', run: { prog: this.objectProg!, request: { dataSize: 64 }, step: null } };
    }
    const sc = this.#input.scenario;
    while (this.#next < sc.steps.length) {
      const i = this.#next++;
      const step = sc.steps[i];
      try {
        const item = this.#do(step, i);
        if (item) return item;
      } catch (e) {
        if (!(e instanceof TailjitError)) throw e;
        this.#next = sc.steps.length;
        return { kind: 'error', message: `step ${i} (${step.kind}): ${e.message}` };
      }
    }
    return { kind: 'end' };
  }

  #do(step: Step, i: number): PlanItem | undefined {
    const m = this.#machine;
    switch (step.kind) {
      case 'set':
      case 'del': {
        const prog = step.kind === 'set' ? step.prog : null;
        const report = m.updateSlot(step.map, step.slot, prog);
        return { kind: 'poke', event: { kind: 'poke', step: i, map: step.map, slot: step.slot, prog, report } };
      }
      case 'setvar':
        m.setvar(step.name, step.value);
        return undefined;
      case 'reset':
        m.reset();
        return undefined;
      case 'snapshot':
        return undefined;
      case 'run': {
        const prog = step.prog ?? (this.#input as Extract<DebugInput, { kind: 'scenario' }>).scenario.entry;
        const failure = m.failures.get(prog);
        if (failure) return { kind: 'error', message: `step ${i} (run): ${prog} did not load: ${failure.message}` };
        return {
          kind: 'run',
          run: { prog, request: { dataSize: step.dataSize, repeat: step.repeat }, step: i, ...(step.label !== undefined ? { label: step.label } : {}) },
        };
      }
    }
  }
}

/** A scenario (`.json`) or an ELF object, by its contents; `prog` picks an object's program. */
export function readDebugInput(file: string, prog?: string): DebugInput {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DebugError('debug.load', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    return { kind: 'object', file, object: loadObject(bytes, file), ...(prog !== undefined ? { prog } : {}) };
  }
  if (prog !== undefined) throw new DebugError('debug.usage', '--prog applies to objects; a scenario names its programs in its steps');
  return { kind: 'scenario', scenario: parseScenario(bytes.toString('utf8'), file) };
}
