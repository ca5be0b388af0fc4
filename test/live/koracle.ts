// koracle's answer (../shared/oracle/koracle) read into emu/scenario.ts's result shape, so that
// emu/live/compare.ts can hold it against the live backend's. koracle is run now, on this host,
// when it is built (/tmp/kor/koracle or $KORACLE); otherwise the committed host golden is used.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { JsonNumber, parseJson, type Json } from '../../emu/json.js';
import type { GlobalValue } from '../../src/elf/index.js';
import type { ScenarioProgram, ScenarioResult, ScenarioRun } from '../../emu/scenario.js';

export type KoracleAnswer =
  | { readonly kind: 'result'; readonly source: string; readonly result: ScenarioResult; readonly tags: ReadonlyMap<string, string> }
  | { readonly kind: 'error'; readonly source: string; readonly stderr: string };

export const KORACLE = process.env.KORACLE ?? '/tmp/kor/koracle';

const isObj = (j: Json): j is { [k: string]: Json } => typeof j === 'object' && j !== null && !Array.isArray(j) && !(j instanceof JsonNumber);

function value(j: Json): GlobalValue {
  if (j instanceof JsonNumber) {
    const n = j.integer;
    return n !== undefined && (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) ? n : j.value;
  }
  if (Array.isArray(j)) return j.map(value);
  if (isObj(j)) return Object.fromEntries(Object.entries(j).map(([k, v]) => [k, value(v)]));
  return String(j);
}

const num = (j: Json | undefined): number => (j instanceof JsonNumber ? j.value : 0);
const str = (j: Json | undefined): string => (typeof j === 'string' ? j : '');
const arr = (j: Json | undefined): Json[] => (Array.isArray(j) ? j : []);

export function koracleResult(text: string, source: string): KoracleAnswer {
  const doc = parseJson(text, source);
  if (!isObj(doc)) throw new Error(`${source}: not a koracle document`);
  if (doc.koracle_error === true) return { kind: 'error', source, stderr: str(doc.stderr) };
  const runs: ScenarioRun[] = arr(doc.runs).filter(isObj).map((r) => ({
    step: num(r.step), prog: str(r.prog), repeat: num(r.repeat), data_size: num(r.data_size),
    retval: r.retval instanceof JsonNumber ? r.retval.value : null, duration_ns: null,
    globals: isObj(r.globals) ? (value(r.globals) as Record<string, GlobalValue>) : {},
    sections: {}, trace: null, printk: [], error: null,
  }));
  const programs: ScenarioProgram[] = arr(doc.programs).filter(isObj).map((p) => ({
    name: str(p.name), section: str(p.section), type: str(p.type),
    xlated_insn_count: num(p.xlated_insn_count), jited_len: num(p.jited_len),
    jited_func_lens: arr(p.jited_func_lens).map(num), jited_ksyms: arr(p.jited_ksyms).map(str),
    stack_depths: [], tail_call_reachable: [], map_ids: arr(p.map_ids).map(num),
    xlated_hex: str(p.xlated_hex), jited_hex: str(p.jited_hex),
  }));
  const tags = new Map(arr(doc.programs).filter(isObj).map((p) => [str(p.name), str(p.tag)] as const));
  return {
    kind: 'result', source, tags,
    result: {
      tailjit: 'koracle', scenario: str(doc.scenario), object: str(doc.object), entry: str(doc.entry),
      kernel: { profile: 'kernel', release: isObj(doc.kernel) ? str(doc.kernel.release) : '', machine: 'x86_64' },
      runs, pokes: [], load_errors: [], programs,
      ...(Array.isArray(doc.snapshots) ? {
        snapshots: doc.snapshots.filter(isObj).map((sn) => ({
          step: num(sn.step),
          programs: arr(sn.programs).filter(isObj).map((p) => ({ name: str(p.name), jited_hex: str(p.jited_hex) })),
        })),
      } : {}),
    },
  };
}

/** koracle run now on `scenario` (when built and bpf() is usable), else the host golden. */
export function askKoracle(scenario: string, goldenDir?: string): KoracleAnswer | undefined {
  if (existsSync(KORACLE)) {
    const r = spawnSync(KORACLE, [scenario], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
    if (r.status === 0) return koracleResult(r.stdout, `${KORACLE} ${scenario}`);
    if (r.status === 2) return { kind: 'error', source: `${KORACLE} ${scenario}`, stderr: r.stderr };
  }
  if (goldenDir === undefined) return undefined;
  const g = join(goldenDir, `${basename(scenario, '.json')}.json`);
  return existsSync(g) ? koracleResult(readFileSync(g, 'utf8'), g) : undefined;
}

export const hostGoldenDir = (scenario: string): string => join(dirname(scenario), 'expected', 'host-6.18.44-fc-v857');
