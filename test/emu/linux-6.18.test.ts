// The linux-6.18 profile on the emulated JIT: "bpf, x64: Fix tailcall hierarchy" gives one
// counter per run behind a pointer (tcc_ptr), counted only when a tail call is taken
// (tailcalls.md §9.2). Each expected value has a reason outside tailjit: §9.2's table (what a
// 6.18 host answered: once_prog 33 runs and retval 35, twice_prog 33 runs, the empty-slot
// program 34 runs), the host's goldens (programs/selftests/expected/host-6.18.*), or a hand
// computation from the sequences of §9.2.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Debugger } from '../../emu/debug/debugger.js';
import { HarnessTarget } from '../../emu/debug/harness-target.js';
import type { DebugOutput } from '../../emu/debug/output.js';
import { readDebugInput } from '../../emu/debug/plan.js';
import { runScenarioFile } from '../../emu/scenario.js';
import { Machine } from '../../emu/harness/machine.js';
import { compareKernelImages, type KernelProgram } from '../../emu/suite/kernel-image.js';
import { loadObjectFile } from '../../src/elf/index.js';
import { PROFILES } from '../../src/profile/index.js';

const P618 = PROFILES['linux-6.18'];
const PROGRAMS = join(import.meta.dirname, '../../programs');
const SELFTESTS = join(PROGRAMS, 'selftests');
const HOST = join(SELFTESTS, 'expected', readdirSync(join(SELFTESTS, 'expected')).find((d) => d.startsWith('host-6.18.'))!);

/** 0, 1, ..., n. */
const upTo = (n: number): number[] => Array.from({ length: n + 1 }, (_, i) => i);

describe('linux-6.18: a subprogram that tail-calls, called twice, shares one counter (programs/sub_twice)', () => {
  const run = runScenarioFile(join(PROGRAMS, 'sub_twice.json'), { profile: P618 }).runs[1];
  it('33 once_prog runs and retval 35, as the 6.18 host (tailcalls.md §8.2, §9.2)', () => {
    expect(run.retval).toBe(35);
    expect(run.globals).toMatchObject({ cnt_target: 33, cnt_calls: 35 });
    expect(run.trace!.tail_calls).toBe(33);
    expect(run.trace!.checks.every((c) => c.ok)).toBe(true);
  });
  it('the counter reads 0..33 down the first chain, then 33 again in entry\'s second call', () => {
    // The first sub call reads 0, each once_prog's sub one more, the 34th read (33) is refused and
    // the chain unwinds to entry; entry's second call finds the same counter at 33 and is refused.
    expect(run.trace!.counter_values).toEqual([...upTo(33), 33]);
    expect(run.trace!.refused).toEqual({ limit: 2, empty_slot: 0, out_of_bounds: 0 });
  });
});

describe('linux-6.18: two tail-calling calls per program end after 33 tail calls (tailcall_bpf2bpf_hierarchy1)', () => {
  // The host's answer: count 1 (slot empty), then 34 and 35 (the count starts at the previous
  // value: 1 + 33, then 34 + 1 after the refused calls of one more run).
  const golden = JSON.parse(readFileSync(join(HOST, 'tailcall_bpf2bpf_hierarchy1.json'), 'utf8')) as { runs: { step: number; retval: number; globals: Record<string, number> }[] };
  const result = runScenarioFile(join(SELFTESTS, 'tailcall_bpf2bpf_hierarchy1.json'), { profile: P618 });
  it('answers as the host did, run by run', () => {
    expect(golden.runs.map((r) => r.globals.count)).toEqual([1, 34, 35]);
    expect(result.runs.map((r) => r.step)).toEqual(golden.runs.map((r) => r.step));
    result.runs.forEach((r, k) => {
      expect(Number(r.retval)).toBe(golden.runs[k].retval);
      expect(r.globals).toEqual(golden.runs[k].globals);
    });
  });
  it('33 tail calls in the run that fills the slot, every check holding', () => {
    const t = result.runs[1].trace!;
    expect(t.tail_calls).toBe(33);
    expect(t.checks.every((c) => c.ok)).toBe(true);
  });
});

describe('linux-6.18: an empty slot does not count (programs/empty_slot)', () => {
  const result = runScenarioFile(join(PROGRAMS, 'empty_slot.json'), { profile: P618 });
  it('34 runs with an empty-slot attempt before each self call, as with an index past max_entries (§8.3, §9.2)', () => {
    expect(result.runs.map((r) => Number(r.retval))).toEqual([34, 34]);
    const t = result.runs[0].trace!;
    // 33 taken self calls. Runs 1..33 find slot 1 empty below the limit (33 empty-slot
    // fall-throughs); run 34 reads 33 at both of its attempts (the compare comes before the slot).
    expect(t.tail_calls).toBe(33);
    expect(t.refused).toEqual({ limit: 2, empty_slot: 33, out_of_bounds: 0 });
  });
});

describe('linux-6.18: the debugger reads the one counter through each frame\'s pointer', () => {
  const targets: HarnessTarget[] = [];
  afterEach(() => {
    for (const t of targets.splice(0)) t.close();
  });
  it('every frame of a chain names the same counter, the entry\'s slot at [rbp - 8]', () => {
    const t = HarnessTarget.open(readDebugInput(join(PROGRAMS, 'sub_twice.json')), { startAt: 'first_insn', profile: P618 });
    targets.push(t);
    const out: DebugOutput[] = [];
    const dbg = new Debugger(t, (o) => out.push(o));
    dbg.start();
    // Run 1 has an empty slot (no tail call); in run 2 stop at the tail calls until the third.
    dbg.execute('break tailcall');
    let taken = 0;
    while (taken < 3) {
      const from = out.length;
      dbg.execute('continue');
      if (out.slice(from).some((o) => o.type === 'stop' && (o as { reason?: string }).reason === 'event')) taken++;
    }
    const from = out.length;
    dbg.execute('bt');
    const bt = out.slice(from).find((o) => o.type === 'frames');
    expect(bt, JSON.stringify(out.slice(from))).toBeDefined();
    const frames = (bt as unknown as { frames: { tcc: number | null; tcc_from: string | null; rbp: string | null }[] }).frames.filter((f) => f.tcc !== null);
    // entry, then three sub frames each replaced by once_prog (entry -> sub -(tc)-> once_prog ->
    // sub -(tc)-> ...); the third tail call has been counted when it lands: 3 in every frame.
    expect(frames.map((f) => f.tcc)).toEqual([3, 3, 3, 3]);
    const entry = frames.at(-1)!;
    expect(new Set(frames.map((f) => f.tcc_from))).toEqual(new Set([`[0x${(BigInt(entry.rbp!) - 8n).toString(16)}]`]));
  });
});

describe('linux-6.18: the verifier fixtures as the host rewrote and JIT-ed them (emu/suite/kernel-image.ts)', () => {
  // test/verifier/fixtures/expected-host-6.18.44-fc-v669: koracle on the 6.18.44 host. ctx_fields
  // holds the build's sk_buff offsets (net_device.ifindex 224, MIN_NAPI_ID 257, vlan_present
  // from vlan_all), rewrites the array lookup's offsetof(struct bpf_array, value) 0x138.
  const FIXTURES = join(import.meta.dirname, '../verifier/fixtures');
  const host = readdirSync(FIXTURES).find((d) => d.startsWith('expected-host-6.18.'))!;
  it.each(['ctx_fields', 'rewrites', 'paths', 'atomics'])('%s: every program\'s xlated instructions and images, modulo addresses', (name) => {
    const file = join(FIXTURES, host, `${name}.json`);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { programs: KernelProgram[] };
    const obj = loadObjectFile(join(FIXTURES, `${name}.bpf.o`));
    const machine = new Machine({ profile: P618 });
    try {
      machine.loadObject(obj);
      const names = obj.programs.map((s) => s.name);
      expect(names.length).toBe(doc.programs.length);
      expect(compareKernelImages(machine, names, { file, programs: doc.programs, kallsyms: join(FIXTURES, host, 'kallsyms.txt') })).toEqual([]);
    } finally {
      machine.close();
    }
  });
  it('the same check tells 6.1.192\'s build apart (its array offset 0x110)', () => {
    const file = join(FIXTURES, 'expected-6.1.192', 'rewrites.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { programs: KernelProgram[] };
    const obj = loadObjectFile(join(FIXTURES, 'rewrites.bpf.o'));
    const machine = new Machine({ profile: P618 });
    try {
      machine.loadObject(obj);
      const diffs = compareKernelImages(machine, obj.programs.map((s) => s.name), { file, programs: doc.programs, kallsyms: join(PROGRAMS, 'expected', '6.1.192', 'kallsyms.txt') });
      expect(diffs.some((d) => /imm 272, the model's code 07 dst 1 src 0 off 0 imm 312/.test(d))).toBe(true);
    } finally {
      machine.close();
    }
  });
});
