// Disagreements the fuzzer found, kept as scenarios with the kernels' answers.
//
// tail_dead_code (seed 2026, index 9459 of `tailjit fuzz`, minimized): p0 calls s1, s1
// tail-calls jmp_table[key1] = p0, so the call returns the r0 of the tail-called p0, not s1's
// own `return 255`. Right after the call, p0 has `if r7 s< 0 goto +1; r8 = *(u64 *)(r10 - 8)`
// and r7 = -469 + r0: with s1's own r0 (255) the branch is always taken and the load dead.
// Linux 5.10.223 and 6.1.192 (kvm-oracle) hard-wire the branch and drop the load (38 of 40
// instructions left, the xlated dumps below); the 6.18.44 host keeps all 40. At run time the
// load does run (r7 >= 0 after a deep return), so the kernels answer differently.
// expected/5.10.223 and 6.1.192 were recorded from the same object under the name case.bpf.o.
// The 6.18 verifier explores a tail call reached in a subprogram as that subprogram's exit
// with r0 unknown (profile field verifier.tailCallExitsSubprog; the rule's boundaries are
// test/verifier/tail-exit.test.ts against the host), which keeps the branch.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenarioFile, readScenario } from '../../emu/scenario.js';
import { runScenarioInterp } from '../../emu/interp-scenario.js';
import { PROFILES } from '../../src/profile/index.js';
import { explain, type Answer } from '../../emu/fuzz/run.js';
import { decode, LD_IMM64, PseudoSrc, type Insn } from '../../src/isa/index.js';
import { compareDumps } from '../verifier/helpers.js';

const DIR = join(import.meta.dirname, 'found', 'tail_dead_code');
const FILE = join(DIR, 'tail_dead_code.json');
interface Golden { kernel: { release: string }; runs: { retval: number; globals: Record<string, number> }[]; programs: { name: string; xlated_insn_count: number; xlated_hex: string }[] }
const golden = (release: string): Golden => JSON.parse(readFileSync(join(DIR, 'expected', release, 'tail_dead_code.json'), 'utf8')) as Golden;

/** Compares xlated dumps with map ids (the model numbers maps from 1) renamed one to one to the kernel's. */
function compareXlated(mineHex: string, kernelHex: string): void {
  const dump = (hex: string) => decode(Uint8Array.from(Buffer.from(hex, 'hex')));
  const mine = dump(mineHex);
  const kernel = dump(kernelHex);
  const ids = new Map<number, number>();
  const isMapLoad = (i: Insn | undefined) => i !== undefined && i.code === LD_IMM64 && (i.src === PseudoSrc.MAP_FD || i.src === PseudoSrc.MAP_VALUE);
  const renamed = mine.map((i, n) => {
    if (!isMapLoad(i) || !isMapLoad(kernel[n])) return i;
    const k = kernel[n].imm;
    expect(ids.get(i.imm) ?? k, `map id at ${n}`).toBe(k);
    ids.set(i.imm, k);
    return { ...i, imm: k };
  });
  expect(new Set(ids.values()).size).toBe(ids.size);
  compareDumps(renamed, kernel);
}

// Hand computation for the kernels that drop the load (r8 = 0 at every shift): 34 levels of p0
// (33 tail calls), each r7 = -469 + r0(s1) then r7 += acc1, the deepest s1 returning 255:
// 34 * (acc1 - 469) + 255 mod 2^32 with acc1 = 3659139956 (its .data value).
const WITHOUT_LOAD = Number((34n * (3659139956n - 469n) + 255n) % (1n << 32n));

describe('tail_dead_code: a tail call in a subprogram changes the r0 the verifier assumed', () => {
  it('the kernels: 5.10 and 6.1 drop two instructions and answer the hand computation, 6.18 keeps them', () => {
    expect(WITHOUT_LOAD).toBe(4151658525);
    for (const r of ['5.10.223', '6.1.192']) {
      const g = golden(r);
      expect(g.kernel.release).toMatch(/^(5\.10|6\.1)\.0-/);
      expect(g.runs.map((x) => x.retval)).toEqual([WITHOUT_LOAD]);
      expect(g.programs[0].xlated_insn_count).toBe(38);
      // No `79 a8 f8 ff` (r8 = *(u64 *)(r10 - 8)) and no jslt `c5 07` after the call.
      expect(g.programs[0].xlated_hex).not.toContain('79a8f8ff');
    }
    const host = golden('host-6.18.44-fc-v669');
    expect(host.programs[0].xlated_insn_count).toBe(40);
    expect(host.programs[0].xlated_hex).toContain('c507010000000000' + '79a8f8ff');
    expect(host.runs.map((x) => x.retval)).toEqual([492519252]);
  });

  for (const [profile, release] of [['linux-5.10', '5.10.223'], ['linux-6.1', '6.1.192']] as const) {
    it(`the emulated ${profile} verifier and JIT answer as ${release} did`, () => {
      const res = runScenarioFile(FILE, { profile: PROFILES[profile] });
      expect(res.programs[0].xlated_insn_count).toBe(golden(release).programs[0].xlated_insn_count);
      expect(res.runs.map((r) => [r.retval, r.globals])).toEqual(golden(release).runs.map((r) => [r.retval, r.globals]));
    });
  }

  it('the interpreter, which runs the object as written, answers as the 6.18.44 host did', () => {
    const res = runScenarioInterp(readScenario(FILE), { profile: PROFILES['linux-6.18'] });
    expect(res.runs.map((r) => [r.retval, r.globals])).toEqual(golden('host-6.18.44-fc-v669').runs.map((r) => [r.retval, r.globals]));
  });

  it('the fuzzer names the cause: the verifier kept 38 of the 40 instructions', () => {
    const res = runScenarioFile(FILE, { profile: PROFILES['linux-5.10'] });
    const none: Answer = { backend: 'interpreter', profile: 'linux-5.10', release: '', runs: [], load_errors: [] };
    expect(explain(readScenario(FILE), res, undefined, none, { ...none, backend: 'emulated' }, undefined)[0])
      .toMatch(/^dead code: the linux-5\.10 modeled verifier kept 38 of p0's 40 instructions/);
  });

  it('the emulated linux-6.18 answers as the 6.18.44 host did: retval, globals and the xlated program', () => {
    const res = runScenarioFile(FILE, { profile: PROFILES['linux-6.18'] });
    const host = golden('host-6.18.44-fc-v669');
    expect(res.runs.map((r) => [r.retval, r.globals])).toEqual(host.runs.map((r) => [r.retval, r.globals]));
    expect(res.programs[0].xlated_insn_count).toBe(40);
    compareXlated(res.programs[0].xlated_hex, host.programs[0].xlated_hex);
  });
});
