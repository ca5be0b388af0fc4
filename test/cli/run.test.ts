import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';

const root = join(__dirname, '..', '..');
const SUITE = join(root, '..', 'shared', 'conformance', 'tests');
const golden = (name: string) => JSON.parse(readFileSync(join(root, 'programs', 'expected', '5.10.223', `${name}.json`), 'utf8'));

describe('tailjit run', () => {
  it('a self-tail-calling program runs 34 times, as Linux 5.10.223 ran it', async () => {
    const io = captureIo(root);
    const status = await main(['run', 'programs/self_tail.bpf.o', '--prog', 'loop_direct', '--set', 'jmp_table:0=loop_direct', '--json'], io);
    expect(status).toBe(0);
    const r = JSON.parse(io.stdout);
    // The kernel's run with slot 0 = loop_direct (programs/self_tail.json's first run).
    const k = golden('self_tail').runs[0];
    expect(r.run.retval).toBe(k.retval);
    expect(r.run.globals.direct_runs).toBe(k.globals.direct_runs);
    expect(r.run.trace.tail_calls).toBe(33); // 1 + 33 runs (tailcalls.md 8.1)
    expect(r.run.trace.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
  });

  it('bad --set and exclusive options are usage errors', async () => {
    expect(await main(['run', 'programs/self_tail.bpf.o', '--set', 'bad'], captureIo(root))).toBe(2);
    expect(await main(['run', 'programs/self_tail.bpf.o', '--ctx', '00', '--data-size', '4'], captureIo(root))).toBe(2);
    const io = captureIo(root);
    expect(await main(['run', 'programs/self_tail.bpf.o', '--prog', 'nope'], io)).toBe(2);
    expect(io.stderr).toContain('loop_direct');
  });

  it('an infinite loop in assembly ends in a budget error (exit 1)', async () => {
    const io = captureIo(root);
    const file = join(root, 'test', 'fixtures', 'loop.s');
    expect(await main(['run', file, '--budget', '100000', '--json'], io)).toBe(1);
    expect(JSON.parse(io.stdout).run.error.kind).toBe('budget');
  });
});

describe('tailjit conformance --backend jit', () => {
  it('runs the public suite on the emulated 5.10 JIT with no failure; every skip names a later release', async () => {
    const io = captureIo(root);
    expect(await main(['conformance', SUITE, '--backend', 'jit', '--json'], io)).toBe(0);
    const doc = JSON.parse(io.stdout);
    expect(doc.summary.failed).toBe(0);
    expect(doc.summary.passed + doc.summary.skipped).toBe(313); // 313 data files
    for (const r of doc.results.filter((x: { status: string }) => x.status === 'skipped')) {
      expect(r.reason).toMatch(/needs Linux (5\.1[1-9]|6\.\d+)|in no Linux release|has no case in the linux-5\.10 JIT|verifier refuses/);
    }
  }, 120_000);
});
