// The real proof: images the Linux 5.10.223 JIT produced (kvm-oracle, Debian 5.10.223-1 cloud
// kernel, qemu TCG, CPU EPYC-Milan, nokaslr; see each folder's meta.json), reproduced from their
// xlated instructions with the kernel's own image addresses and symbols. Only map addresses
// (which the dump replaces by map ids) are masked. Two corpora: the JIT's purpose-built programs
// (test/jit/oracle) and the ELF layer's programs (programs/expected/5.10.223).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jitProgram } from '../../src/jit/index.js';
import { PROFILES } from '../../src/profile/index.js';
import { hex, unhex } from './fixtures.js';
import { maskMapLoads, restore, symbolsFromKallsyms, type OracleProgram } from './oracle-fixture.js';

const DIR = join(import.meta.dirname, 'oracle');
/** Per object: the prog array's max_entries and its slots at each snapshot and at the end. */
type Sidecar = Record<string, { maxEntries: number; slots: Record<string, Record<string, string>> }>;
const CORPORA = [
  { name: 'test/jit/oracle', dir: join(DIR, 'expected-5.10.223'), sidecar: join(DIR, 'sites.json') },
  { name: 'programs', dir: join(import.meta.dirname, '..', '..', 'programs', 'expected', '5.10.223'), sidecar: join(DIR, 'programs-sites.json') },
].filter((c) => existsSync(c.dir));

interface OracleDoc {
  programs: (OracleProgram & { jited_hex: string })[];
  snapshots?: { label: string; programs: { name: string; jited_hex: string }[] }[];
}

/** Per function: my image (map loads masked) and the kernel's, split by jited_func_lens. */
function compare(p: OracleProgram, kernelHex: string, maxEntries: number, slots: Record<string, string>, ksymsOf: (name: string) => bigint, symbols: ReturnType<typeof symbolsFromKallsyms>) {
  const { prog, mapLoads } = restore(p, maxEntries);
  const addresses = p.jited_ksyms.map((a) => BigInt(a));
  const r = jitProgram(prog, PROFILES['linux-5.10'], {
    symbols,
    images: ({ func }) => addresses[func],
    slotTarget: (_map, key) => (slots[String(key)] ? ksymsOf(slots[String(key)]) : null),
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

for (const corpus of CORPORA) {
  describe(`5.10.223 kernel images (kvm-oracle): ${corpus.name}`, () => {
    const symbols = symbolsFromKallsyms(readFileSync(join(corpus.dir, 'kallsyms.txt'), 'utf8'));
    const sidecar = JSON.parse(readFileSync(corpus.sidecar, 'utf8')) as Sidecar;
    const docs = readdirSync(corpus.dir).filter((f) => f.endsWith('.json') && f !== 'meta.json');
    for (const file of docs) {
      const base = file.replace(/\.json$/, '');
      const doc = JSON.parse(readFileSync(join(corpus.dir, file), 'utf8')) as OracleDoc & { koracle_error?: boolean };
      if (doc.koracle_error) continue; // a program the verifier rejected: nothing JITed
      const side = sidecar[base] ?? { maxEntries: 0, slots: { final: {} } };
      const ksymsOf = (name: string): bigint => {
        const q = doc.programs.find((x) => x.name === name);
        if (!q) throw new Error(`no program ${name}`);
        return BigInt(q.jited_ksyms[0]);
      };
      for (const p of doc.programs) {
        it(`${base}/${p.name}: every function byte for byte (after the last step)`, () => {
          for (const c of compare(p, p.jited_hex, side.maxEntries, side.slots.final ?? {}, ksymsOf, symbols)) {
            expect(c.ours, `function ${c.func}`).toBe(c.theirs);
          }
        });
        for (const snap of doc.snapshots ?? []) {
          const snapHex = snap.programs.find((x) => x.name === p.name)?.jited_hex;
          if (snapHex === undefined) continue;
          it(`${base}/${p.name}: snapshot '${snap.label}'`, () => {
            expect(snap.label in side.slots, `slots of snapshot '${snap.label}' in the sidecar`).toBe(true);
            for (const c of compare(p, snapHex, side.maxEntries, side.slots[snap.label], ksymsOf, symbols)) {
              expect(c.ours, `function ${c.func}`).toBe(c.theirs);
            }
          });
        }
      }
    }
  });
}

describe('the direct/indirect rule applied to the xlated dumps', () => {
  it('agrees with the decisions derived by hand from tc_mix.c (key 3 direct, key 9 and a global key indirect)', () => {
    const doc = JSON.parse(readFileSync(join(DIR, 'expected-5.10.223', 'tc_mix.json'), 'utf8')) as OracleDoc;
    const byName = (n: string) => restore(doc.programs.find((p) => p.name === n)!, 4).prog;
    for (const n of ['entry', 'big224']) {
      const prog = byName(n);
      expect(prog.pokes.map((p) => p.key)).toEqual([3]);
      expect(prog.insns.filter((i) => i.code === 0xf5).map((i) => i.imm)).toEqual([1, 0, 0]);
    }
    expect(byName('self_loop').pokes.map((p) => p.key)).toEqual([2]);
  });
});
