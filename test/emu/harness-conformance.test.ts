// The conformance suite (/work/shared/conformance/tests) on the emulated 5.10 JIT: every test
// 5.10 can run gives the suite's r0; the rest are skipped with the feature and the release that
// added it; and every test that runs on both backends gives the same r0 on the reference
// interpreter and on the JIT (the differential).

import { describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  collectDataFiles, interpBackend, loadDataCase, runCase, type BackendOutcome, type ConformanceCase,
} from '../../src/conformance/index.js';
import { readFileSync } from 'node:fs';
import { assemble } from '../../src/asm/index.js';
import { PROFILES } from '../../src/profile/index.js';
import { jitBackend, patchProgram, unsupportedReason } from '../../emu/conformance-backend.js';

const SUITE = join(import.meta.dirname, '../../../shared/conformance/tests');
const profile = PROFILES['linux-5.10'];

const cases: ConformanceCase[] = existsSync(SUITE)
  ? collectDataFiles([SUITE]).flatMap((f) => {
    const c = loadDataCase(f, readFileSync(f, 'utf8'));
    return 'skip' in c ? [] : [c];
  })
  : [];

describe.runIf(cases.length > 0)('conformance suite on the 5.10 JIT', () => {
  const jit = jitBackend(profile);
  const interp = interpBackend(profile, { insns: 10_000_000 });
  const jitOut = new Map<string, BackendOutcome>();
  const interpOut = new Map<string, BackendOutcome>();
  for (const c of cases) {
    jitOut.set(c.name, jit.run(c));
    interpOut.set(c.name, interp.run(c));
  }

  test('every test the profile can run passes', () => {
    const failed = cases.map((c) => ({ c, r: runCase({ name: 'jit', run: () => jitOut.get(c.name)! }, c) }))
      .filter(({ r }) => r.status === 'failed').map(({ c, r }) => `${c.name}: ${'reason' in r ? r.reason : ''}`);
    expect(failed).toEqual([]);
    const ran = [...jitOut.values()].filter((o) => o.kind !== 'skipped').length;
    expect(ran).toBeGreaterThan(200);
  });

  test('skips name the feature and the release that added it', () => {
    const reasons = [...jitOut.values()].flatMap((o) => (o.kind === 'skipped' ? [o.reason] : []));
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons) expect(r).toMatch(/ needs Linux \d+\.\d+; profile linux-5\.10$| is in no Linux release( \([^)]*\))?; profile linux-5\.10$/);
    const sdiv = cases.find((c) => c.name === 'sdiv32-imm' || c.name.startsWith('sdiv'));
    if (sdiv) expect((jitOut.get(sdiv.name) as { reason: string }).reason).toMatch(/^sdiv(32)? \(signed division and modulo \(cpu v4\)\) needs Linux 6\.6; profile linux-5\.10$/);
  });

  test('the differential: same r0 on the interpreter and the JIT wherever both run', () => {
    const diffs: string[] = [];
    let both = 0;
    for (const c of cases) {
      const a = interpOut.get(c.name)!;
      const b = jitOut.get(c.name)!;
      if (a.kind !== 'returned' || b.kind !== 'returned') continue;
      both++;
      if (BigInt.asUintN(64, a.r0) !== BigInt.asUintN(64, b.r0)) diffs.push(`${c.name}: interp 0x${a.r0.toString(16)}, jit 0x${b.r0.toString(16)}`);
    }
    expect(diffs).toEqual([]);
    expect(both).toBeGreaterThan(200);
  });
});

describe('building the JIT input without a verifier', () => {
  test('atomics beyond add are 5.12 features (BPF_ATOMIC), callx is in no release', () => {
    expect(unsupportedReason(assemble('lock fetch add [%r10-8], %r1\nexit'), profile)).toBe(
      'lock fetch add (atomic fetch add (BPF_ATOMIC, cpu v3)) needs Linux 5.12; profile linux-5.10');
    expect(unsupportedReason(assemble('call %r2\nexit'), profile)).toMatch(/callx.* is in no Linux release/);
    expect(unsupportedReason(assemble('lock add [%r10-8], %r1\nmov %r0, 0\nexit'), profile)).toBeUndefined();
  });

  test('division by a register gets the kernel\'s zero check; jumps across it still reach their targets', () => {
    // div by zero gives 0 and mod by zero keeps the dividend (RFC 9669 §4.1), which 5.10 gets
    // from fixup_bpf_calls()'s patch: `if src != 0 goto +2; dst ^= dst; goto +1; dst /= src`.
    const insns = assemble(`
      mov %r0, 7
      mov %r1, 0
      jeq %r0, 7, over
      mov %r0, 1
    over:
      div %r0, %r1
      exit`);
    const patched = patchProgram(insns, (i) => (i.code === 0x3f ? [{ ...i, code: 0x55, dst: i.src, imm: 0, off: 2 }, i] : null));
    // the jeq (slot 2) jumped to slot 4; slot 4 is now the start of the 2-slot sequence
    expect(patched[2].off).toBe(1);
    expect(patched).toHaveLength(insns.length + 1);
  });

  test('a div/mod by zero program gives the suite\'s answers on the JIT', () => {
    const jit = jitBackend(profile);
    const run = (text: string, name: string) => jit.run({ file: name, name, insns: assemble(text), mem: new Uint8Array(0), expected: 0n });
    expect(run('mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit', 'div0')).toEqual({ kind: 'returned', r0: 0n });
    expect(run('mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit', 'mod0')).toEqual({ kind: 'returned', r0: 7n });
    expect(run('lddw %r0, 0x100000007\nmov32 %r1, 0\nmod32 %r0, %r1\nexit', 'mod32')).toEqual({ kind: 'returned', r0: 7n });
  });
});

