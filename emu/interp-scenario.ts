// Scenarios (shared/spec/scenario.md) on the reference interpreter: the same object and steps
// as emu/scenario.ts runs on the emulated JIT, with the semantics of src/interp (the profile's
// tail-call counter) instead of machine code. Prog arrays and global-data sections are the
// interpreter Environment's (the loader's map index is the fd, as ld_imm64 carries it), so the
// globals persist across runs exactly as the array maps do in a kernel.
//
// The answer has the keys of ScenarioResult's runs that mean something here: retval, globals,
// sections and an error ({kind, message}: `budget` for the interpreter's instruction budget,
// `fault` for any other failure of a run, with the interpreter's code in the message).

import { dirname, isAbsolute, resolve } from 'node:path';
import { TailjitError } from '../src/errors.js';
import { decodeGlobals, findWritableGlobal, globalMaps, integerBytes, loadObjectFile, MapType, type GlobalValue, type ObjectFile } from '../src/elf/index.js';
import { Environment, InterpError, InterpProgram, Interpreter, type Budget, type ProgArray } from '../src/interp/index.js';
import { getProfile, type Profile } from '../src/profile/index.js';
import { ScenarioError, type Scenario, type Step } from './scenario.js';

export interface InterpScenarioOptions {
  readonly profile?: Profile;
  /** Per run (default: 1,000,000 BPF instructions). */
  readonly budget?: Budget;
}

export interface InterpRun {
  step: number;
  prog: string;
  repeat: number;
  data_size: number;
  retval: number | null;
  globals: Record<string, GlobalValue>;
  sections: Record<string, string>;
  /** BPF instructions the run executed (the last repetition), or reached before its error. */
  insns: number;
  tail_calls: number;
  error: { kind: 'budget' | 'fault'; code: string; message: string } | null;
}

export interface InterpScenarioResult {
  scenario: string;
  object: string;
  entry: string;
  kernel: { profile: string; release: string; machine: 'interpreter' };
  runs: InterpRun[];
}

export const INTERP_SCENARIO_BUDGET: Budget = { insns: 1_000_000 };

export function runScenarioInterp(sc: Scenario, options: InterpScenarioOptions = {}): InterpScenarioResult {
  const profile = options.profile ?? getProfile('linux-5.10');
  const objPath = isAbsolute(sc.object) ? sc.object : resolve(dirname(sc.file), sc.object);
  const world = new InterpWorld(loadObjectFile(objPath));
  if (!world.programs.has(sc.entry)) throw new ScenarioError('scenario.unknown', `"entry": no program named ${sc.entry} in ${sc.object}`, { file: sc.file });
  const out: InterpScenarioResult = {
    scenario: sc.file, object: sc.object, entry: sc.entry,
    kernel: { profile: profile.name, release: profile.releaseString, machine: 'interpreter' }, runs: [],
  };
  sc.steps.forEach((step, i) => {
    try {
      const r = world.step(step, i, sc.entry, profile, options.budget ?? INTERP_SCENARIO_BUDGET);
      if (r) out.runs.push(r);
    } catch (e) {
      if (e instanceof TailjitError && !(e instanceof ScenarioError)) throw new ScenarioError(e.code, `step ${i} (${step.kind}): ${e.message}`, { file: sc.file });
      throw e;
    }
  });
  return out;
}

/** An object loaded into one interpreter Environment. */
class InterpWorld {
  readonly env = new Environment();
  readonly programs = new Map<string, InterpProgram>();
  private readonly arrays = new Map<string, ProgArray>();
  /** Global-data sections: their live bytes (shared with the Environment's regions). */
  private readonly sections = new Map<string, Uint8Array>();

  constructor(readonly obj: ObjectFile) {
    for (const p of obj.programs) this.programs.set(p.name, new InterpProgram(p.insns, p.name));
    obj.maps.forEach((m, fd) => {
      if (m.type === MapType.PROG_ARRAY) {
        const slots: (InterpProgram | null)[] = (m.values ?? []).map((n) => (n === null ? null : this.programs.get(n) ?? null));
        while (slots.length < m.maxEntries) slots.push(null);
        const array: ProgArray = { maxEntries: m.maxEntries, slots };
        this.arrays.set(m.name, array);
        this.env.addProgArray(array, fd);
      } else if (m.section !== undefined) {
        // A copy: the loader's `initial` may be a view of a Buffer (whose slice() does not copy).
        const bytes = Uint8Array.from(m.initial ?? new Uint8Array(m.valueSize));
        this.sections.set(m.section, bytes);
        this.env.addRegion(m.name, bytes, { mapFd: fd, writable: !m.section.startsWith('.rodata') });
      }
    });
  }

  step(step: Step, i: number, entry: string, profile: Profile, budget: Budget): InterpRun | null {
    switch (step.kind) {
      case 'set':
      case 'del': {
        const a = this.arrays.get(step.map);
        if (!a) throw new ScenarioError('scenario.unknown', `step ${i} (${step.kind}): no prog array named ${step.map}`);
        if (step.slot >= a.maxEntries) throw new ScenarioError('scenario.step', `step ${i} (${step.kind}): slot ${step.slot} of ${step.map} is out of range (E2BIG)`);
        if (step.kind === 'del') {
          if (a.slots[step.slot] === null) throw new ScenarioError('scenario.step', `step ${i} (del): slot ${step.slot} of ${step.map} is empty (ENOENT)`);
          a.slots[step.slot] = null;
        } else {
          const p = this.programs.get(step.prog);
          if (!p) throw new ScenarioError('scenario.unknown', `step ${i} (set): no program named ${step.prog}`);
          a.slots[step.slot] = p;
        }
        return null;
      }
      case 'setvar': this.setvar(step.name, step.value, i); return null;
      case 'reset':
        for (const m of globalMaps(this.obj)) {
          if (m.section!.startsWith('.rodata')) continue;
          this.sections.get(m.section!)!.set(m.initial ?? new Uint8Array(m.valueSize));
        }
        return null;
      case 'snapshot': return null;
      case 'run': return this.run(step, i, entry, profile, budget);
    }
  }

  private setvar(name: string, value: bigint, i: number): void {
    const g = findWritableGlobal(this.obj, name);
    if (!g.ok) throw new ScenarioError('scenario.unknown', `step ${i} (setvar): ${g.message}`);
    this.sections.get(g.spec.section!)!.set(integerBytes(value, g.size), g.offset);
  }

  private run(step: Extract<Step, { kind: 'run' }>, i: number, entry: string, profile: Profile, budget: Budget): InterpRun {
    const name = step.prog ?? entry;
    const prog = this.programs.get(name);
    if (!prog) throw new ScenarioError('scenario.unknown', `step ${i} (run): no program named ${name}`);
    let retval: number | null = null;
    let error: InterpRun['error'] = null;
    let insns = 0;
    let tailCalls = 0;
    for (let k = 0; k < step.repeat && !error; k++) {
      const interp = new Interpreter(prog, { profile, env: this.env, mem: new Uint8Array(step.dataSize), budget });
      try {
        const r = interp.run();
        retval = Number(r.r0 & 0xffffffffn);
        insns = r.stats.insns;
        tailCalls = r.stats.tailCalls.taken;
      } catch (e) {
        if (!(e instanceof InterpError)) throw e;
        retval = null;
        insns = e.details.stats?.insns ?? 0;
        tailCalls = e.details.stats?.tailCalls.taken ?? 0;
        error = { kind: e.code === 'interp.budget' ? 'budget' : 'fault', code: e.code, message: e.message };
      }
    }
    const g = decodeGlobals(this.obj, this.sections);
    return { step: i, prog: name, repeat: step.repeat, data_size: step.dataSize, retval, globals: g.globals, sections: g.sections, insns, tail_calls: tailCalls, error };
  }
}
