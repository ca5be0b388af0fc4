// `tailjit demo`: the bundled scenario programs/demo/chain.json on the emulated JIT, against what
// Linux 5.10.223 and 6.1.192 answered for it (programs/demo/expected/<release>/chain.json,
// kvm-oracle), with the chain the harness observed computed by hand from tailcalls.md.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';
import { chainsOf, demoDir, differences, prologueFrame } from '../../cli/commands/demo.js';
import { runScenarioFile } from '../../emu/scenario.js';
import { ALL_SYMBOLS } from '../../emu/kernel/index.js';
import { PROFILES, type ProfileName } from '../../src/profile/index.js';
import { byAddress, programsWithoutAddresses, readKallsyms } from '../helpers/images.js';

const ROOT = join(import.meta.dirname, '../..');
const DEMO = join(ROOT, 'programs/demo');

interface GoldenDoc {
  runs: { step: number; retval: number; globals: Record<string, number> }[];
  programs: { name: string; jited_func_lens: number[]; jited_ksyms: string[]; jited_hex: string }[];
}
const golden = (release: string): GoldenDoc => JSON.parse(readFileSync(join(DEMO, 'expected', release, 'chain.json'), 'utf8'));

async function demo(...args: string[]) {
  const io = captureIo(ROOT);
  const t0 = performance.now();
  const status = await main(['demo', ...args], io);
  return { status, stdout: io.stdout, stderr: io.stderr, ms: performance.now() - t0 };
}

const upTo = (n: number): number[] => Array.from({ length: n + 1 }, (_, i) => i);

describe('the bundled scenario on the real kernels (programs/demo/expected)', () => {
  it.each(['5.10.223', '6.1.192'])('%s: 2 with slot 0 empty, then 66 link runs, 68 hop calls, retval 68', (release) => {
    // The comment of chain.bpf.c predicts this from tailcalls.md 8.2 (by value: two chains of 33).
    expect(golden(release).runs.map((r) => [r.retval, r.globals])).toEqual([
      [2, { entry_runs: 1, link_runs: 0, hop_calls: 2, refused: 2 }],
      [68, { entry_runs: 1, link_runs: 66, hop_calls: 68, refused: 2 }],
    ]);
  });

  it.each([['linux-5.10', '5.10.223'], ['linux-6.1', '6.1.192']] as [ProfileName, string][])(
    '%s: the emulated JIT images are the kernel\'s apart from absolute addresses', (profile, release) => {
      const res = runScenarioFile(join(DEMO, 'chain.json'), { profile: PROFILES[profile] });
      const g = golden(release);
      expect(differences(res, g)).toEqual([]);
      const symbols = { mine: byAddress(ALL_SYMBOLS), theirs: readKallsyms(join(DEMO, 'expected', release, 'kallsyms.txt')) };
      for (const f of programsWithoutAddresses(res.programs, g.programs, symbols)) expect(f.ours, `${f.name} function ${f.func}`).toEqual(f.theirs);
    },
  );
});

describe('tailjit demo --json', () => {
  it('agrees with both kernels and shows two chains, each reading the counter 0..33', async () => {
    const r = await demo('--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.kernels.map((k: { release: string; differences: string[] }) => [k.release, k.differences])).toEqual([['5.10.223', []], ['6.1.192', []], ['6.18.44 (host)', []]]);
    // The shared counter of 6.12+ (tailcalls.md 9.2, once_prog: 33 runs, 35 calls, retval 35).
    const host = doc.kernels[2].runs[1];
    expect([host.retval, host.globals.link_runs, host.globals.hop_calls]).toEqual([35, 33, 35]);
    // By value (tailcalls.md 8.2): each of entry's calls passes entry's own count, 0.
    expect(doc.chains.map((c: { counter: number }[]) => c.map((s) => s.counter))).toEqual([upTo(33), upTo(33)]);
    for (const chain of doc.chains) {
      // 33 taken, then the refused attempt at 33 (> MAX_TAIL_CALL_CNT 32).
      expect(chain.filter((s: { jump_rsp: string | null }) => s.jump_rsp !== null)).toHaveLength(33);
      expect(chain.at(-1).jump_rsp).toBeNull();
      // tailcalls.md 1.4: the unwind pops down to rbp, which sits one push below hop's return
      // address: the target runs on hop's frame base.
      for (const s of chain.slice(0, -1)) expect(BigInt(s.jump_rsp)).toBe(BigInt(s.hop_rsp) - 8n);
      // Each level nests one frame deeper: entry and hop, then one link/hop pair per tail call.
      expect(chain.map((s: { depth: number }) => s.depth)).toEqual(upTo(33).map((k) => k + 2));
    }
    // hop: 16 bytes of stack (frame[2] of u64), the counter slot (it tail-calls), r6 and r7 (rbx,
    // r13) as the BPF code uses them: 16 + 8 + 2 * 8.
    expect(doc.hop_frame).toEqual({ stack_bytes: 16, counter_slot: true, saved: ['rbx', 'r13'], bytes: 40 });
    expect(doc.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
  });
});

describe('tailjit demo (text)', () => {
  it('fits a terminal, shows the chain, the checks and the kernels, and is quick', async () => {
    const r = await demo();
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(60);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
    expect(r.stdout).toMatch(/^\s+1\s+0 -> 1\s+\.\.\w+\s+\.\.\w+ = hop's rbp\s+2$/m);
    expect(r.stdout).toMatch(/^\s+33\s+32 -> 33\s+\.\.\w+\s+\.\.\w+ = hop's rbp\s+34$/m);
    expect(r.stdout).toMatch(/^\s+-\s+33: stop\s+\.\.\w+\s+refused\s+35$/m);
    for (const check of ['tail_call_limit', 'tail_call_counter', 'stack_balance', 'callee_saved', 'stack_depth', 'poke_states']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${check}\\s+ok\\s`, 'm'));
    }
    expect(r.stdout).toMatch(/^\s+linux-5\.10\s+68\s+66\s+68\s+2\s+66\s+33\s+35\s+\d+ B\s+5\.10\.223: the same$/m);
    expect(r.stdout).toMatch(/^\s+linux-6\.1\s+68\s+66\s+68\s+2\s+66\s+33\s+35\s+\d+ B\s+6\.1\.192: the same$/m);
    expect(lines.at(-1)).toMatch(/^ok: /);
    expect(r.ms).toBeLessThan(5000);
  });
});

describe('the demo\'s pieces', () => {
  it('differences: a retval, a global or an image length the kernel did not give', () => {
    const res = runScenarioFile(join(demoDir(), 'chain.json'));
    const g = golden('5.10.223');
    expect(differences(res, g)).toEqual([]);
    const other: GoldenDoc = structuredClone(g);
    other.runs[1].retval = 67;
    other.runs[1].globals.link_runs = 33;
    other.programs[0].jited_func_lens = [83, 160];
    expect(differences(res, other)).toEqual([
      'step 3: retval 68, the kernel 67', 'step 3: link_runs 66, the kernel 33', 'entry: images of 83+165 bytes, the kernel 83+160',
    ]);
  });

  it.each([
    // Prologues from tailcalls.md 1.1's table.
    ['0f1f4400006690554889e54881ec1800000050534155', { stack_bytes: 24, counter_slot: true, saved: ['rbx', 'r13'], bytes: 48 }],
    ['0f1f44000031c0554889e55053415541564c', { stack_bytes: 0, counter_slot: true, saved: ['rbx', 'r13', 'r14'], bytes: 32 }],
    ['0f1f4400006690554889e553415541564157', { stack_bytes: 0, counter_slot: false, saved: ['rbx', 'r13', 'r14', 'r15'], bytes: 32 }],
    ['0f1f4400006690554889e54881ec2800000050', { stack_bytes: 40, counter_slot: true, saved: [], bytes: 48 }],
  ])('prologueFrame(%s)', (hex, frame) => {
    expect(prologueFrame(Uint8Array.from(Buffer.from(hex, 'hex')))).toEqual(frame);
  });

  it('chainsOf pairs each hop call with its counter read and ends a chain where hop returns', () => {
    const ev = (kind: 'call' | 'tail_call' | 'return', name: string, rsp: number, depth: number) => ({ kind, name, rsp: `0x${rsp.toString(16)}`, depth });
    const events = [
      ev('call', 'entry', 0x100, 1), ev('call', 'hop', 0xf0, 2), ev('tail_call', 'link', 0xe8, 2),
      ev('call', 'hop', 0xd0, 3), ev('return', 'hop', 0xd0, 2), ev('return', 'link', 0xf0, 1),
      ev('call', 'hop', 0xf0, 2), ev('return', 'hop', 0xf0, 1), ev('return', 'entry', 0x100, 0),
    ];
    expect(chainsOf(events, [0, 1, 0])).toEqual([
      [{ counter: 0, hop_rsp: '0xf0', jump_rsp: '0xe8', depth: 2 }, { counter: 1, hop_rsp: '0xd0', jump_rsp: null, depth: 3 }],
      [{ counter: 0, hop_rsp: '0xf0', jump_rsp: null, depth: 2 }],
    ]);
  });
});
