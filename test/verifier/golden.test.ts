// Every program of programs/ and programs/selftests/ against what Linux 5.10.223 and 6.1.192
// answered for it (programs/expected/<release>/*.json, from kvm-oracle), each with its release's
// profile: the xlated dump instruction for
// instruction (map ids mapped through the golden's map_ids; helper-call immediates, which are
// kernel addresses, compared as a consistent renaming), xlated_insn_count, and each
// function's stack depth from verifier_stats. Programs the kernel rejected must fail with
// the message of their .stderr.txt. The verifier's own fixtures in test/verifier/fixtures
// are checked the same way.

import { describe, expect, test } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '../../src/isa/index.js';
import { loadObjectFile } from '../../src/elf/index.js';
import { verify, xlatedForDump, slotCount, VerifierError } from '../../src/verifier/index.js';
import { PROFILES } from '../../src/profile/index.js';
import { compareDumps, jit as jit510, reachableFromImage } from './helpers.js';

interface GoldenProgram {
  name: string;
  jited_hex: string;
  jited_func_lens: number[];
  xlated_insn_count: number;
  xlated_hex: string;
  map_ids: number[];
  verifier_stats: string;
}

const ROOT = join(import.meta.dirname, '../..');
/**
 * The layout with each kernel's own `jiffies` (the address bpf_jiffies64's inlining loads, as
 * the nokaslr guests' xlated dumps of test_bpf_tailcalls/tail_call_helpers show it).
 */
const withJiffies = (options: typeof jit510, jiffies: bigint): typeof jit510 => ({
  ...options,
  layout: { ...options.layout, kernelSymbol: (name) => (name === 'jiffies' ? jiffies : options.layout.kernelSymbol?.(name)) },
});
const RELEASES = [
  { release: '5.10.223', options: withJiffies(jit510, 0xffffffff82607980n) },
  { release: '6.1.192', options: withJiffies({ ...jit510, profile: PROFILES['linux-6.1'] }, 0xffffffff82a079c0n) },
];
const SETS = RELEASES.flatMap(({ release, options }) => [
  { release, options, objects: join(ROOT, 'programs'), expected: join(ROOT, `programs/expected/${release}`) },
  { release, options, objects: join(ROOT, 'test/verifier/fixtures'), expected: join(ROOT, `test/verifier/fixtures/expected-${release}`) },
  { release, options, objects: join(ROOT, 'programs/selftests'), expected: join(ROOT, `programs/selftests/expected/${release}`) },
]);

/**
 * Selftests that need what the verifier does not model (it accepts them, or stops with "not
 * modeled"); the same on both releases. Key: scenario, or scenario/program.
 */
const OUTSIDE_MODEL: Record<string, string> = {};

function scenarios(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'meta.json').map((f) => f.slice(0, -5)) : [];
}

function objectOf(objects: string, name: string): string {
  const scen = JSON.parse(readFileSync(join(objects, `${name}.json`), 'utf8')) as { object: string };
  return join(objects, scen.object);
}

for (const set of SETS) {
  const jit = set.options;
  for (const name of scenarios(set.expected)) {
    const golden = JSON.parse(readFileSync(join(set.expected, `${name}.json`), 'utf8')) as { programs?: GoldenProgram[]; koracle_error?: boolean };
    describe(`${name} on ${set.release}`, () => {
      const obj = loadObjectFile(objectOf(set.objects, name));
      if (golden.koracle_error) {
        const stderr = readFileSync(join(set.expected, `${name}.stderr.txt`), 'utf8');
        if (!stderr.includes('the verifier rejected')) {
          // A later step failed (tailcall1_enoent_*: deleting an empty slot): the load succeeded.
          test('every program verifies (the kernel loaded the object; a later step failed)', () => {
            for (const spec of obj.programs) verify(spec, obj, jit);
          });
          return;
        }
        // koracle prints the log's tail: line-info lines, the error, then the statistics.
        const m = /the verifier rejected (\S+):\n((?:.*\n)*?.*)\nverification time/.exec(stderr);
        if (OUTSIDE_MODEL[name]) {
          test.skip(`rejects ${m?.[1]} with the kernel's message (outside the model: ${OUTSIDE_MODEL[name]})`, () => {});
          return;
        }
        test(`rejects ${m?.[1]} with the kernel's message`, () => {
          expect(m).not.toBeNull();
          const spec = obj.programs.find((p) => p.name === m![1])!;
          let err: unknown;
          try {
            verify(spec, obj, jit);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(VerifierError);
          // The model's message is the tail of the kernel's: the rule's lines, without the
          // line-info lines the kernel printed before them.
          const want = m![2].split('\n');
          const got = (err as VerifierError).kernelMessage.split('\n');
          expect(want.slice(-got.length)).toEqual(got);
        });
        return;
      }
      for (const g of golden.programs ?? []) {
        const gap = OUTSIDE_MODEL[`${name}/${g.name}`];
        if (gap) {
          test.skip(`${g.name} (outside the model: ${gap})`, () => {});
          continue;
        }
        test(`${g.name}: xlated program, count and stack depths`, () => {
          const spec = obj.programs.find((p) => p.name === g.name)!;
          const vp = verify(spec, obj, jit);
          const ids = (index: number) => g.map_ids[vp.usedMaps.indexOf(index)];
          const kernel = decode(Uint8Array.from(Buffer.from(g.xlated_hex, 'hex')));
          compareDumps(xlatedForDump(vp, ids), kernel);
          expect(slotCount(vp)).toBe(g.xlated_insn_count);
          const depths = /stack depth (\S+)/.exec(g.verifier_stats)![1].split('+').map(Number);
          expect(vp.funcs.map((f) => f.stackDepth)).toEqual(depths);
        });
        test(`${g.name}: direct and indirect tail calls as the JIT's image shows them`, () => {
          const vp = verify(obj.programs.find((p) => p.name === g.name)!, obj, jit);
          const sites = vp.insns.filter((i) => i.code === 0xf5).length;
          // Every indirect site starts `mov edx,edx; cmp [rsi+0x24],edx` (tailcalls.md §4.1).
          const indirect = g.jited_hex.split('89d2395624').length - 1;
          expect(vp.pokes.length).toBe(sites - indirect);
        });
        test(`${g.name}: tail-call-reachable functions as the JIT's prologues show them`, () => {
          const vp = verify(obj.programs.find((p) => p.name === g.name)!, obj, jit);
          expect(vp.funcs.map((f) => f.tailCallReachable || f.hasTailCall)).toEqual(reachableFromImage(g));
        });
      }
    });
  }
}

