// The kernel-image corpora of oracle.test.ts and linux-6.18.test.ts: a kernel's answers (koracle
// documents: xlated instructions, JIT images, image addresses) and what the dump hides about
// prog arrays, turned into one test per program that JITs the restored program with the kernel's
// image addresses and symbols and compares every function byte for byte (map addresses masked).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadObjectFile } from '../../src/elf/index.js';
import { MapType, type ObjectFile } from '../../src/elf/types.js';
import { jitProgram } from '../../src/jit/index.js';
import type { Profile } from '../../src/profile/index.js';
import { hex, unhex } from './fixtures.js';
import { maskMapLoads, restore, symbolsFromKallsyms, type MaxEntries, type OracleProgram } from './oracle-fixture.js';

export interface OracleDoc {
  programs: (OracleProgram & { jited_hex: string; map_ids: number[] })[];
  snapshots?: { label: string; programs: { name: string; jited_hex: string }[] }[];
  runs?: unknown[];
  incomplete?: unknown;
  koracle_error?: boolean;
}

/** What the dump hides about prog arrays: their sizes, and which program each slot held. */
export interface Sites {
  readonly maxEntries: MaxEntries;
  /** Per snapshot label ('final' = after the last step): the program in (map, key), if any. */
  readonly slots: Record<string, (map: number, key: number) => string | undefined>;
}

/** Per object: the prog array's max_entries and its slots at each snapshot and at the end. */
type Sidecar = Record<string, { maxEntries: number; slots: Record<string, Record<string, string>> }>;

/** A hand-written sidecar (one prog array per object): test/jit/oracle and programs/. */
export function fromSidecar(file: string): (scenario: string, doc: OracleDoc) => Sites {
  const sidecar = JSON.parse(readFileSync(file, 'utf8')) as Sidecar;
  return (scenario) => {
    const side = sidecar[scenario] ?? { maxEntries: 0, slots: { final: {} } };
    const slots = Object.fromEntries(Object.entries(side.slots).map(([label, s]) => [label, (_map: number, key: number) => s[String(key)]]));
    return { maxEntries: side.maxEntries, slots };
  };
}

interface ScenarioStep {
  set?: { map: string; slot: number; prog: string };
  del?: { map: string; slot: number };
  run?: unknown;
}

/**
 * The prog arrays of a scenario folder (programs/selftests, test/verifier/fixtures), from their inputs: the ELF object (map order, sizes, libbpf's
 * `.values` fill) and the scenario's set/del steps up to the last run the golden has. Map ids:
 * the kernel lists a program's maps (`map_ids`) in the order its instructions first name them,
 * so the ELF program's first references give each id its map (then .rodata, which libbpf binds).
 */
export const fromScenario = (dir: string) => (scenario: string, doc: OracleDoc): Sites => {
  const scen = JSON.parse(readFileSync(join(dir, `${scenario}.json`), 'utf8')) as { object: string; steps: ScenarioStep[] };
  const obj: ObjectFile = loadObjectFile(join(dir, scen.object));
  const mapOfId = new Map<number, number>();
  for (const p of doc.programs) {
    const spec = obj.programs.find((s) => s.name === p.name);
    if (!spec) throw new Error(`${scenario}: no program ${p.name} in ${scen.object}`);
    const order: number[] = [];
    for (const i of spec.insns) if (i.code === 0x18 && (i.src === 1 || i.src === 2) && !order.includes(i.imm)) order.push(i.imm);
    // libbpf 1.1 binds .rodata to every program after the load (BPF_PROG_BIND_MAP): listed last.
    const rodata = obj.maps.findIndex((m) => m.section === '.rodata');
    if (rodata >= 0 && !order.includes(rodata)) order.push(rodata);
    if (order.length !== p.map_ids.length) throw new Error(`${scenario}/${p.name}: ${order.length} maps named, the kernel lists ${p.map_ids.length}`);
    p.map_ids.forEach((id, k) => mapOfId.set(id, order[k]));
  }
  const slots = new Map<string, string>(); // "map/key" -> program
  obj.maps.forEach((m) => m.values?.forEach((v, key) => v !== null && slots.set(`${m.name}/${key}`, v)));
  const runsDone = doc.incomplete ? (doc.runs ?? []).length : Infinity;
  let runs = 0;
  for (const step of scen.steps) {
    if (step.set) slots.set(`${step.set.map}/${step.set.slot}`, step.set.prog);
    if (step.del) slots.delete(`${step.del.map}/${step.del.slot}`);
    if (step.run !== undefined && ++runs === runsDone) break; // a cut scenario ends with its last run
  }
  const map = (id: number) => {
    const index = mapOfId.get(id);
    return index === undefined ? undefined : obj.maps[index];
  };
  return {
    maxEntries: (id) => (map(id)?.type === MapType.PROG_ARRAY ? map(id)!.maxEntries : undefined),
    slots: { final: (id, key) => slots.get(`${map(id)?.name}/${key}`) },
  };
};

/** Per function: my image (map loads masked) and the kernel's, split by jited_func_lens. */
export function compare(
  profile: Profile, p: OracleProgram, kernelHex: string, sites: Sites, label: string,
  ksymsOf: (name: string) => bigint, symbols: ReturnType<typeof symbolsFromKallsyms>,
) {
  const { prog, mapLoads } = restore(p, sites.maxEntries);
  const addresses = p.jited_ksyms.map((a) => BigInt(a));
  const slotOf = sites.slots[label];
  const r = jitProgram(prog, profile, {
    symbols,
    images: ({ func }) => addresses[func],
    slotTarget: (map, key) => {
      const name = slotOf(map, key);
      return name ? ksymsOf(name) : null;
    },
  });
  const kernel = unhex(kernelHex);
  let at = 0;
  return r.funcs.map((f, i) => {
    const len = p.jited_func_lens[i];
    const theirs = kernel.subarray(at, at + len);
    at += len;
    const vf = prog.funcs[i];
    const n = vf.end - vf.start;
    return {
      ours: hex(maskMapLoads(f.image, f.addrs, vf.start, mapLoads, n)),
      theirs: hex(maskMapLoads(theirs, f.addrs, vf.start, mapLoads, n)),
      func: i,
    };
  });
}

/** One folder of kernel answers and how to read it. */
export interface Corpus {
  readonly name: string;
  /** What produced the answers, for the test names: kvm-oracle, koracle on the host. */
  readonly oracle: string;
  readonly release: string;
  readonly profile: Profile;
  readonly dir: string;
  readonly sites: (scenario: string, doc: OracleDoc) => Sites;
  /** kallsyms.txt when not in `dir`. */
  readonly kallsyms?: string;
  /** The symbol x86_return_thunk points at on that machine (default: the SRSO alias thunk). */
  readonly returnThunk?: string;
}

/** The tests of one corpus: each program after the last step, and at each snapshot. */
export function describeCorpus(corpus: Corpus): void {
describe(`${corpus.release} kernel images (${corpus.oracle}): ${corpus.name}`, () => {
  const symbols = symbolsFromKallsyms(readFileSync(corpus.kallsyms ?? join(corpus.dir, 'kallsyms.txt'), 'utf8'), corpus.returnThunk);
  const docs = readdirSync(corpus.dir).filter((f) => f.endsWith('.json') && f !== 'meta.json');
  for (const file of docs) {
    const base = file.replace(/\.json$/, '');
    const doc = JSON.parse(readFileSync(join(corpus.dir, file), 'utf8')) as OracleDoc;
    if (doc.koracle_error) continue; // a program the verifier rejected: nothing JITed
    const ksymsOf = (name: string): bigint => {
      const q = doc.programs.find((x) => x.name === name);
      if (!q) throw new Error(`no program ${name}`);
      return BigInt(q.jited_ksyms[0]);
    };
    for (const p of doc.programs) {
      it(`${base}/${p.name}: every function byte for byte (after the last step)`, () => {
        const sites = corpus.sites(base, doc);
        for (const c of compare(corpus.profile, p, p.jited_hex, sites, 'final', ksymsOf, symbols)) {
          expect(c.ours, `function ${c.func}`).toBe(c.theirs);
        }
      });
      for (const snap of doc.snapshots ?? []) {
        const snapHex = snap.programs.find((x) => x.name === p.name)?.jited_hex;
        if (snapHex === undefined) continue;
        it(`${base}/${p.name}: snapshot '${snap.label}'`, () => {
          const sites = corpus.sites(base, doc);
          expect(snap.label in sites.slots, `slots of snapshot '${snap.label}' in the sidecar`).toBe(true);
          for (const c of compare(corpus.profile, p, snapHex, sites, snap.label, ksymsOf, symbols)) {
            expect(c.ours, `function ${c.func}`).toBe(c.theirs);
          }
        });
      }
    }
  }
});
}
