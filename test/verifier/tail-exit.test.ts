// A tail call taken in a subprogram returns the tail-called program's r0 to the subprogram's
// caller. The 6.18.44 host's verifier explores that exit too (r0 unknown, the caller's r6-r9
// and stack kept); 5.10.223 and 6.1.192 follow only the fall-through, so code after the call
// that is dead for the subprogram's own r0 is removed (test/fuzz/found/tail_dead_code).
// test/verifier/fixtures/tail_exit/tail_exit.bpf.c branches on `!= 255` (the subprogram's own
// return) after each kind of call; expected/host-6.18.44-fc-v669/ is koracle's answer on the
// host, expected/5.10.223/ and expected/6.1.192/ kvm-oracle's (`run.sh 5.10|6.1` on that folder).
// The folder is apart from the other fixtures because the JIT oracle (test/jit/oracle-fixture.ts)
// derives tail_call_reachable from the xlated dump, and call_unreached's only tail call is dead
// code: the kernels mark its main function from the scan before dead code goes (its prologue
// has `push rax`), as src/verifier/stack.ts does, which the dump no longer shows.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decode } from '../../src/isa/index.js';
import { loadObjectFile } from '../../src/elf/index.js';
import { verify, xlatedForDump, slotCount, VerifierError } from '../../src/verifier/index.js';
import { PROFILES, type ProfileName } from '../../src/profile/index.js';
import { compareDumps, jit, reachableFromImage } from './helpers.js';

const DIR = join(import.meta.dirname, 'fixtures', 'tail_exit');
const obj = loadObjectFile(join(DIR, 'tail_exit.bpf.o'));
interface KernelProgram { name: string; xlated_hex: string; xlated_insn_count: number; map_ids: number[]; verifier_stats: string; jited_hex: string; jited_func_lens: number[] }
interface KernelAnswer {
  kernel: { release: string };
  runs: { prog: string; retval: number; globals: Record<string, number> }[];
  programs: KernelProgram[];
}
const answer = (folder: string) => JSON.parse(readFileSync(join(DIR, 'expected', folder, 'tail_exit.json'), 'utf8')) as KernelAnswer;
const host = answer('host-6.18.44-fc-v669');
const verifyAs = (profile: ProfileName, name: string) =>
  verify(obj.programs.find((p) => p.name === name)!, obj, { ...jit, profile: PROFILES[profile] });

/** The model's dump against a kernel's: instruction for instruction, its length and each function's stack depth. */
function sameXlated(profile: ProfileName, g: KernelProgram): void {
  const vp = verifyAs(profile, g.name);
  const ids = (index: number) => g.map_ids[vp.usedMaps.indexOf(index)];
  compareDumps(xlatedForDump(vp, ids), decode(Uint8Array.from(Buffer.from(g.xlated_hex, 'hex'))));
  expect(slotCount(vp)).toBe(g.xlated_insn_count);
  const depths = /stack depth (\S+)/.exec(g.verifier_stats)![1].split('+').map(Number);
  expect(vp.funcs.map((f) => f.stackDepth)).toEqual(depths);
}

// Slots of each entry and of the subprograms it calls as clang wrote them (llvm-objdump of
// tail_exit.bpf.o), and the branch `if r1 == 255 goto +4` guards: 4 slots (r1 = &sink as
// ld_imm64, r2 = N, *(u32 *)(r1 + 0) = r2), which go with the then-useless jump when it is dead.
const BRANCH = 5;
const WRITTEN: Record<string, number> = {
  leaf: 2,
  call_direct: 10 + 8, // + sub_direct
  call_indirect: 10 + 10, // + sub_indirect
  call_unreached: 10 + 12, // + sub_unreached
  call_outer: 10 + 5 + 8, // + sub_outer + sub_direct
  keep_r6: 14 + 8, // + sub_direct
  main_tail: 17,
};
/** Entries whose branch lives only if a taken tail call's r0 comes back in the subprogram's place. */
const LIVE_ON_618 = new Set(['call_direct', 'call_indirect']);
/** Every kernel also drops sub_unreached's `if (cfg_tail)` tail call (cfg_tail is a .rodata 0): 4 slots and the jump. */
const alsoDead = (name: string) => (name === 'call_unreached' ? BRANCH : 0);
/** Slots left when the branch after the call is dead (`live` false) or kept. */
const expected = (name: string, live: boolean) => WRITTEN[name] - alsoDead(name) - (live || name === 'leaf' ? 0 : BRANCH);

describe('the 6.18.44 host on tail_exit (koracle)', () => {
  test('keeps the branch after a subprogram that reaches a tail call, direct or indirect, and no other', () => {
    expect(host.kernel.release).toBe('6.18.44-fc-v669');
    expect(host.programs.map((p) => p.name).sort()).toEqual(Object.keys(WRITTEN).sort());
    for (const p of host.programs) expect(p.xlated_insn_count, p.name).toBe(expected(p.name, LIVE_ON_618.has(p.name)));
  });

  test('runs with jmp_table[0] = leaf (returns 3): a taken tail call in a subprogram returns 3 to its caller', () => {
    // call_direct/indirect: 3 != 255, so sink = 11, then 12; call_unreached and call_outer
    // return their own 255; keep_r6 returns 3 + 255; main_tail's tail call replaces it (3).
    expect(host.runs.map((r) => [r.prog, r.retval, r.globals.sink])).toEqual([
      ['call_direct', 3, 11], ['call_indirect', 3, 12], ['call_unreached', 255, 12],
      ['call_outer', 255, 12], ['keep_r6', 258, 12], ['main_tail', 3, 12],
    ]);
  });
});

describe('linux-6.18: the verifier explores a taken tail call in a subprogram as its exit', () => {
  test('the profile says so', () => expect(PROFILES['linux-6.18'].verifier.tailCallExitsSubprog).toBe(true));
  for (const g of host.programs) test(`${g.name}: xlated program, count and stack depths as the host's`, () => sameXlated('linux-6.18', g));
});

for (const [profile, release] of [['linux-5.10', '5.10.223'], ['linux-6.1', '6.1.192']] as const) {
  describe(`${profile}: only the fall-through, so the branch is dead after every call (${release}, kvm-oracle)`, () => {
    const kernel = answer(release);
    test('the profile says so', () => expect(PROFILES[profile].verifier.tailCallExitsSubprog).toBe(false));
    test(`${release} drops the branch everywhere; the runs never store to sink although r0 is 3 at run time`, () => {
      expect(kernel.kernel.release).toMatch(release === '5.10.223' ? /^5\.10\./ : /^6\.1\./);
      expect(kernel.programs.map((p) => [p.name, p.xlated_insn_count])).toEqual(host.programs.map((p) => [p.name, expected(p.name, false)]));
      // The host's retvals (the same tail calls run), but sink stays 0: the stores are gone.
      expect(kernel.runs.map((r) => [r.prog, r.retval, r.globals.sink])).toEqual(host.runs.map((r) => [r.prog, r.retval, 0]));
    });
    for (const g of kernel.programs) {
      test(`${g.name}: xlated program, count and stack depths as ${release}'s`, () => sameXlated(profile, g));
      test(`${g.name}: tail-call-reachable functions as ${release}'s prologues show them`, () => {
        const vp = verifyAs(profile, g.name);
        expect(vp.funcs.map((f) => f.tailCallReachable || f.hasTailCall)).toEqual(reachableFromImage(g));
      });
    }
  });
}

describe('r0 after a tail call that fell through is unset (bpf_tail_call returns void)', () => {
  // r0_main reads it right after its own tail call, r0_sub in the caller of a subprogram that
  // exits with it (the exit itself passes: prepare_func_exit hands r0 over unchecked).
  for (const [profile, folder] of [['linux-5.10', '5.10.223'], ['linux-6.1', '6.1.192'], ['linux-6.18', 'host-6.18.44-fc-v669']] as const) {
    for (const name of ['r0_main', 'r0_sub']) {
      test(`${name} on ${profile}: refused where ${folder} refused it`, () => {
        const stderr = readFileSync(join(DIR, 'expected', folder, `${name}.stderr.txt`), 'utf8');
        const log = stderr.slice(stderr.indexOf(`-- full verifier log of ${name} --`));
        // The kernel's message, and the last instruction its log printed before it.
        const m = /\n(\d+): \([0-9a-f]{2}\)[^\n]*\n(?:;[^\n]*\n)*R0 !read_ok\n/.exec(log);
        expect(m, stderr).not.toBeNull();
        const o = loadObjectFile(join(DIR, `${name}.bpf.o`));
        let err: unknown;
        try {
          verify(o.programs[0], o, { ...jit, profile: PROFILES[profile] });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(VerifierError);
        expect([(err as VerifierError).kernelMessage, (err as VerifierError).slot]).toEqual(['R0 !read_ok', Number(m![1])]);
      });
    }
  }
});
