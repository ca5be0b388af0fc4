// `tailjit fuzz` on the command line: usage errors exit 2, a clean run exits 0 with the
// summary's counts, and --help says what the command does.

import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';

describe('tailjit fuzz', () => {
  it('runs 5 programs on linux-5.10 without the live kernel and reports them', async () => {
    const io = captureIo();
    const code = await main(['fuzz', '--count', '5', '--seed', '3', '--live', 'off', '--json'], io);
    expect(code).toBe(0);
    const s = JSON.parse(io.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ seed: 3, count: 5, profile: 'linux-5.10', backends: ['interpreter', 'emulated'], agreed: 5, disagreements: 0, cases: [] });
    expect(s.programs_per_second).toBeGreaterThan(0);
  });

  it('refuses a bad count and a seed out of range with exit status 2', async () => {
    for (const argv of [['fuzz', '--count', '0'], ['fuzz', '--seed', '-1'], ['fuzz', '--seed', String(2 ** 32)]]) {
      const io = captureIo();
      expect(await main(argv, io)).toBe(2);
      expect(io.stderr).toMatch(/--(count|seed)/);
    }
  });

  it('--live on with a profile that is not the running kernel\'s is a usage error', async () => {
    const io = captureIo();
    expect(await main(['fuzz', '--count', '1', '--profile', 'linux-5.10', '--live', 'on'], io)).toBe(2);
    expect(io.stderr).toMatch(/live kernel not used/);
  });

  it('--help names the three backends and the saved files', async () => {
    const io = captureIo();
    expect(await main(['fuzz', '--help'], io)).toBe(0);
    for (const w of ['interpreter', 'emulated JIT', 'live kernel', 'case.bpf.o', 'answers.json', '--seed', '--count', '--profile']) expect(io.stdout).toContain(w);
  });
});
