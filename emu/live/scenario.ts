// Scenarios on the running kernel: the steps of scenario.md carried out through bpf() as
// koracle carries them out, answered in emu/scenario.ts's document (koracle's keys). What only
// the modeled kernel can observe (`trace`, `pokes`, `printk`) is absent: null or empty.

import { dirname, isAbsolute, resolve } from 'node:path';
import { TailjitError } from '../../src/errors.js';
import { loadObjectFile, toHex } from '../../src/elf/index.js';
import { readScenario, ScenarioError, type Scenario, type ScenarioResult, type ScenarioRun, type Step } from '../scenario.js';
import { kernelRelease } from './bpf.js';
import { LiveObject, progInfo } from './object.js';

export interface LiveScenarioOptions {
  /** Written as `tailjit` in the output. */
  readonly version?: string;
}

export function runScenarioFileLive(file: string, options: LiveScenarioOptions = {}): ScenarioResult {
  return runScenarioLive(readScenario(file), options);
}

export function runScenarioLive(sc: Scenario, options: LiveScenarioOptions = {}): ScenarioResult {
  const objPath = isAbsolute(sc.object) ? sc.object : resolve(dirname(sc.file), sc.object);
  const obj = loadObjectFile(objPath);
  const live = LiveObject.load(obj);
  try {
    if (!live.programs.has(sc.entry) && !live.failures.has(sc.entry)) {
      throw new ScenarioError('scenario.unknown', `"entry": no program named ${sc.entry} in ${sc.object}`, { file: sc.file });
    }
    const out: ScenarioResult = {
      tailjit: options.version ?? 'dev', scenario: sc.file, ...(sc.description !== undefined ? { description: sc.description } : {}),
      object: sc.object, entry: sc.entry,
      kernel: { profile: 'kernel', release: kernelRelease(), machine: 'x86_64' },
      runs: [], pokes: [],
      load_errors: [...live.failures].map(([prog, e]) => ({ prog, code: e.code, message: e.message })),
      programs: [],
    };
    const snapshots: NonNullable<ScenarioResult['snapshots']> = [];
    sc.steps.forEach((step, i) => {
      try {
        doStep(live, sc, step, i, out, snapshots);
      } catch (e) {
        if (e instanceof TailjitError && !(e instanceof ScenarioError)) {
          throw new ScenarioError(e.code, `step ${i} (${step.kind}): ${e.message}`, { file: sc.file }, e.notes);
        }
        throw e;
      }
    });
    if (snapshots.length) out.snapshots = snapshots;
    out.programs = [...live.programs.keys()].map((name) => live.programInfo(name));
    return out;
  } finally {
    live.close();
  }
}

function doStep(live: LiveObject, sc: Scenario, step: Step, i: number, out: ScenarioResult, snapshots: NonNullable<ScenarioResult['snapshots']>): void {
  switch (step.kind) {
    case 'set':
      live.updateSlot(step.map, step.slot, step.prog);
      return;
    case 'del':
      live.updateSlot(step.map, step.slot, null);
      return;
    case 'setvar':
      live.setvar(step.name, step.value);
      return;
    case 'reset':
      live.reset();
      return;
    case 'snapshot':
      snapshots.push({
        step: i, ...(step.label !== undefined ? { label: step.label } : {}),
        programs: [...live.programs.values()].map((p) => ({ name: p.name, jited_hex: toHex(progInfo(p.fd).jited) })),
      });
      return;
    case 'run':
      out.runs.push(doRun(live, sc, step, i));
      return;
  }
}

function doRun(live: LiveObject, sc: Scenario, step: Extract<Step, { kind: 'run' }>, i: number): ScenarioRun {
  const prog = step.prog ?? sc.entry;
  const head = { step: i, ...(step.label !== undefined ? { label: step.label } : {}), prog, repeat: step.repeat, data_size: step.dataSize };
  const failure = live.failures.get(prog);
  if (!failure && !live.programs.has(prog)) {
    throw new ScenarioError('scenario.unknown', `step ${i} (run): no program named ${prog} in ${sc.object}`, { file: sc.file });
  }
  if (failure) {
    const g = live.globals();
    return {
      ...head, retval: null, duration_ns: null, globals: g.globals, sections: g.sections, trace: null, printk: [],
      error: { kind: 'load', message: failure.message, x86_address: null, bpf_insn: null, prog, call_chain: [] },
    };
  }
  const r = live.run(prog, { dataSize: step.dataSize, repeat: step.repeat });
  const g = live.globals();
  return { ...head, retval: r.retval, duration_ns: r.duration_ns, globals: g.globals, sections: g.sections, trace: null, printk: [], error: null };
}
