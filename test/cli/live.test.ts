// The CLI's live-kernel pieces: `--backend kernel` of conformance, scenario and run, and
// `tailjit diff`. They need bpf() (root here); without it each test is skipped, saying why.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';
import { liveAvailability } from '../../emu/live/index.js';
import { profileForKernelRelease } from '../../src/profile/release.js';

const ROOT = join(__dirname, '..', '..');
const SUITE = join(ROOT, '..', 'shared', 'conformance', 'tests');
const live = liveAvailability();

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'tailjit-live-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

describe.skipIf(!live.ok)(`tailjit conformance --backend kernel${live.ok ? '' : ` (${live.reason})`}`, () => {
  it('passes the public suite on the running kernel; skips only what the kernel refuses', async () => {
    const io = captureIo();
    const status = await main(['conformance', SUITE, '--backend', 'kernel'], io);
    const lines = io.stdout.trim().split('\n');
    // 313 files; skipped: the 12 constant shifts by >= the operand's width or a negative count
    // (the kernel's check_alu_op refuses them: "invalid shift"), callx (no such opcode in Linux)
    // and call_unwind_fail (helper 5 is uBPF's).
    const skips = lines.filter((l) => l.startsWith('SKIP '));
    expect(skips.filter((l) => /invalid shift/.test(l)).map((l) => l.split(':')[0]).sort()).toEqual(
      ['arsh32', 'arsh64', 'lsh32', 'lsh64', 'rsh32', 'rsh64'].flatMap((op) => [`SKIP ${op}-imm-high`, `SKIP ${op}-imm-neg`]).sort(),
    );
    expect(skips.some((l) => l.startsWith('SKIP callx: ') && /unknown opcode 8d/.test(l))).toBe(true);
    expect(skips.some((l) => l.startsWith('SKIP call_unwind_fail: ') && /helper 5/.test(l))).toBe(true);
    expect(lines.at(-1)).toBe('299 passed, 0 failed, 14 skipped');
    expect(status).toBe(0);
  });

  it('gives the test its -- mem in r1, the length in r2, and keeps all 64 bits of r0', async () => {
    const d = dir({
      // ldxdw.data's memory: bytes 2..9 read little-endian (the suite's own expected value).
      'wide.data': '-- asm\nldxdw %r0, [%r1+2]\nexit\n-- mem\naa bb 11 22 33 44 55 66 77 88 cc dd\n-- result\n0x8877665544332211\n',
      'len.data': '-- asm\nmov %r0, %r2\nexit\n-- mem\n00 01 02 03 04 05 06\n-- result\n0x7\n',
      'wrong.data': '-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n',
    });
    const io = captureIo();
    expect(await main(['conformance', d, '--backend', 'kernel'], io)).toBe(1);
    expect(io.stdout).toContain('FAIL wrong: r0 is 0x1, expected 0x2');
    expect(io.stdout.trim().split('\n').at(-1)).toBe('2 passed, 1 failed, 0 skipped');
  });
});

describe.skipIf(!live.ok)('tailjit scenario/run --backend kernel', () => {
  it('scenario --json answers with koracle\'s keys and the kernel\'s release', async () => {
    const io = captureIo();
    expect(await main(['scenario', join(ROOT, 'programs/selftests/tailcall1.json'), '--backend', 'kernel', '--json'], io)).toBe(0);
    const doc = JSON.parse(io.stdout);
    expect(doc.kernel.profile).toBe('kernel');
    expect(doc.kernel.release).toBe(spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim());
    // tailcall1 (selftests tailcall1): slot i -> classifier_i returns i; the first run with all
    // slots full returns 0 (tailcall1.json's labels, koracle's answers in expected/).
    expect(doc.runs[0].retval).toBe(0);
    for (const p of doc.programs) {
      expect(p.jited_hex.length).toBe(2 * p.jited_len);
      expect(p.xlated_hex.length).toBe(16 * p.xlated_insn_count);
    }
  });

  it('run of a direct self tail call: the program runs 1 + 33 times (MAX_TAIL_CALL_CNT 33)', async () => {
    const io = captureIo();
    const status = await main(['run', join(ROOT, 'programs/self_tail.bpf.o'), '--prog', 'loop_direct', '--set', 'jmp_table:0=loop_direct', '--backend', 'kernel'], io);
    expect(status).toBe(0);
    expect(io.stdout).toMatch(/^loop_direct: retval 34 \(r0 0x22\)/);
    expect(io.stdout).toContain('direct_runs=34');
  });

  it('scenario refused at a step (deleting an empty slot) exits 2 naming the step', async () => {
    const io = captureIo();
    expect(await main(['scenario', join(ROOT, 'programs/selftests/tailcall1_enoent_0.json'), '--backend', 'kernel'], io)).toBe(2);
    expect(io.stderr).toMatch(/step \d+ \(del\).*ENOENT/);
  });

  it('--trace needs the emulated backend: a usage error', async () => {
    const io = captureIo();
    expect(await main(['run', join(ROOT, 'programs/self_tail.bpf.o'), '--backend', 'kernel', '--trace'], io)).toBe(2);
  });
});

describe.skipIf(!live.ok)('tailjit diff', () => {
  it('a scenario both kernels answer the same way: exit 0', async () => {
    const io = captureIo();
    expect(await main(['diff', join(ROOT, 'programs/calls.json')], io)).toBe(0);
    expect(io.stdout.trim().split('\n').at(-1)).toBe('1 scenarios: 1 identical, 0 differ');
  });

  it('a folder: every scenario under it, each with its verdict', async () => {
    const io = captureIo();
    const status = await main(['diff', join(ROOT, 'programs/isa'), '--json'], io);
    const doc = JSON.parse(io.stdout);
    // Every NAME.json scenario file in the folder (the folder grows; count it).
    const n = readdirSync(join(ROOT, 'programs/isa')).filter((f) => f.endsWith('.json')).length;
    expect(doc.summary.scenarios).toBe(n);
    expect(doc.summary.identical + doc.summary.differ).toBe(n);
    expect(doc.scenarios.map((x: { scenario: string }) => x.scenario.replace(/^.*\//, '')).sort()).toEqual(readdirSync(join(ROOT, 'programs/isa')).filter((f) => f.endsWith('.json')).sort());
    expect(status).toBe(doc.summary.differ > 0 ? 1 : 0);
    expect(doc.profile).toBe(profileForKernelRelease(doc.kernel.release).name);
  });

  it('against another release\'s model the JIT bytes differ: exit 1, each difference named', async () => {
    // 5.10's prologue keeps the tail call counter in rax/the stack by value; 6.18's passes a
    // pointer (tailcalls.md §9.2): tail_from_sub's images cannot be the same.
    const io = captureIo();
    expect(await main(['diff', join(ROOT, 'programs/tail_from_sub.json'), '--profile', 'linux-5.10', '--json'], io)).toBe(1);
    const doc = JSON.parse(io.stdout);
    expect(doc.summary).toEqual({ scenarios: 1, identical: 0, differ: 1 });
    expect(doc.scenarios[0].differences.some((d: { kind: string }) => d.kind === 'jited')).toBe(true);
  });
});

describe('without bpf()', () => {
  const dist = join(ROOT, 'dist', 'emu', 'live', 'bpf.js');
  it.skipIf(process.getuid?.() !== 0 || !existsSync(dist))('an unprivileged process gets a clear reason', () => {
    // uid 65534 (nobody): with kernel.unprivileged_bpf_disabled set, BPF_MAP_CREATE is EPERM.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      `const m = await import(${JSON.stringify(dist)}); console.log(JSON.stringify(m.liveAvailability()));`], { encoding: 'utf8', uid: 65534, gid: 65534 });
    const a = JSON.parse(r.stdout);
    expect(a.ok).toBe(false);
    expect(a.reason).toMatch(/not permitted|EPERM/);
  });

  const mainJs = join(ROOT, 'dist', 'cli', 'main.js');
  it.skipIf(process.getuid?.() !== 0 || !existsSync(mainJs))('the CLI says so and exits 2', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      `const { main } = await import(${JSON.stringify(mainJs)}); process.exitCode = await main(['conformance', '--backend', 'kernel', ${JSON.stringify(join(SUITE, 'add.data'))}]);`],
    { encoding: 'utf8', uid: 65534, gid: 65534, cwd: tmpdir() });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/live kernel backend is unavailable: bpf\(\) is not permitted/);
  });
});
