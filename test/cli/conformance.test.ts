import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';

const SUITE = join(__dirname, '..', '..', '..', 'shared', 'conformance', 'tests');

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'tailjit-conf-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

describe('tailjit conformance', () => {
  it('passes the whole public suite on the interpreter: 313 passed, 0 failed, 0 skipped', async () => {
    const io = captureIo();
    const status = await main(['conformance', SUITE], io);
    // 313 data files, each with a -- result section (../shared/conformance/README.md).
    expect(io.stdout.trim().split('\n').at(-1)).toBe('313 passed, 0 failed, 0 skipped');
    expect(status).toBe(0);
  });

  it('reports a wrong result with the file name and both values, and exits 1', async () => {
    const d = dir({ 'wrong.data': '-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n' });
    const io = captureIo();
    expect(await main(['conformance', d], io)).toBe(1);
    expect(io.stdout).toContain('FAIL wrong: r0 is 0x1, expected 0x2');
    expect(io.stdout).toContain('0 passed, 1 failed, 0 skipped');
  });

  it('a malformed data file fails with its line and column, not a crash', async () => {
    const d = dir({ 'bad.data': '-- asm\nmov %r0, 1\nfrobnicate %r1\nexit\n-- result\n0x1\n' });
    const io = captureIo();
    expect(await main(['conformance', d], io)).toBe(1);
    expect(io.stdout).toMatch(/FAIL bad: .*bad\.data:3:1: error: unknown mnemonic 'frobnicate'/);
  });

  it('an invalid opcode in a raw section ends in a clear error naming the instruction', async () => {
    // 0x000000000000008f: opcode 0x8f is no instruction (RFC 9669 has no class-7 op 0x80|X).
    const d = dir({ 'raw.data': '-- raw\n0x000000000000008f\n0x0000000000000095\n-- result\n0x0\n' });
    const io = captureIo();
    expect(await main(['conformance', d], io)).toBe(1);
    expect(io.stdout).toMatch(/FAIL raw: .*insn 0.*opcode 0x8f/);
  });

  it('a jump out of the program ends in a clear error', async () => {
    const d = dir({ 'jump.data': '-- asm\nja +5\nexit\n-- result\n0x0\n' });
    const io = captureIo();
    expect(await main(['conformance', d], io)).toBe(1);
    expect(io.stdout).toMatch(/FAIL jump: .*jump\.data:insn 0: error: .*jump target slot 6 is outside the program/);
  });

  it('a load outside the input ends in a fault naming the address and instruction', async () => {
    // mem is 4 bytes; ldxdw reads 8 bytes at r1: past the end of the input region.
    const d = dir({ 'oob.data': '-- asm\nldxdw %r0, [%r1]\nexit\n-- mem\n01 02 03 04\n-- result\n0x0\n' });
    const io = captureIo();
    expect(await main(['conformance', d], io)).toBe(1);
    expect(io.stdout).toMatch(/FAIL oob: .*oob\.data:insn 0: error: load of 8 bytes at 0xffff888100000000/);
  });

  it('an infinite loop ends in a budget error', async () => {
    const d = dir({ 'loop.data': '-- asm\nja -1\nexit\n-- result\n0x0\n' });
    const io = captureIo();
    expect(await main(['conformance', d, '--budget', '1000'], io)).toBe(1);
    expect(io.stdout).toMatch(/FAIL loop: .*budget/);
  });

  it('a file with an unknown section is skipped with its reason', async () => {
    const d = dir({ 'odd.data': '-- asm\nexit\n-- frobs\n-- result\n0x0\n' });
    const io = captureIo();
    expect(await main(['conformance', d], io)).toBe(0);
    expect(io.stdout).toMatch(/SKIP odd: .*frobs/);
    expect(io.stdout).toContain('0 passed, 0 failed, 1 skipped');
  });

  it('--json gives a document with the summary and every result', async () => {
    const io = captureIo();
    expect(await main(['conformance', SUITE, '--filter', '^add', '--json'], io)).toBe(0);
    const doc = JSON.parse(io.stdout);
    expect(doc.summary).toEqual({ passed: 2, failed: 0, skipped: 0 }); // add.data, add64.data
    expect(doc.results.map((r: { name: string }) => r.name)).toEqual(['add', 'add64']);
  });

  it('a missing path and a bad --filter are usage errors (exit 2)', async () => {
    const io = captureIo();
    expect(await main(['conformance', '/nonexistent/x'], io)).toBe(2);
    expect(io.stderr).toContain('no such file or folder: /nonexistent/x');
    expect(await main(['conformance', SUITE, '--filter', '('], captureIo())).toBe(2);
  });
});
