// Observing must not change what runs: --trace (a block hook on all code) and events change no
// result of a run, and the x86 instruction count the block hook adds up is the count unicorn's
// own instruction budget agrees with.

import { afterEach, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { loadObjectFile } from '../../src/elf/index.js';
import { Machine, type RunRequest, type RunResult } from '../../emu/harness/index.js';

const PROGRAMS = join(import.meta.dirname, '../../programs');
let machines: Machine[] = [];
afterEach(() => {
  for (const m of machines) m.close();
  machines = [];
});

function loaded(file: string, slots: [string, number, string][] = []): Machine {
  const m = new Machine();
  machines.push(m);
  m.loadObject(loadObjectFile(join(PROGRAMS, file)));
  for (const [map, slot, prog] of slots) m.updateSlot(map, slot, prog);
  return m;
}

/** What a run reports besides the instruction count, the events and the time. */
function outcome(m: Machine, r: RunResult): unknown {
  const { x86_insns: _n, events: _e, ...trace } = r.trace;
  return { retval: r.retval, r0: r.r0, error: r.error, printk: r.printk, trace, packet: r.packet, globals: m.globals() };
}

const CASES: [string, [string, number, string][], string, RunRequest][] = [
  ['self_tail.bpf.o', [['jmp_table', 0, 'loop_direct']], 'loop_direct', {}],
  ['self_tail.bpf.o', [['jmp_table', 0, 'loop_direct']], 'loop_direct', { repeat: 3 }],
  ['tail_indirect.bpf.o', [['jmp_table', 0, 'ret_one'], ['jmp_table', 3, 'ret_three']], 'by_packet', { dataSize: 67 }],
  ['tail_indirect.bpf.o', [['jmp_table', 0, 'ret_one']], 'by_packet', { dataSize: 66 }],
  ['calls.bpf.o', [], 'two_levels', { repeat: 2 }],
  ['globals.bpf.o', [], '', {}],
  ['maps.bpf.o', [], '', { repeat: 4 }],
];

describe('tracing changes no result', () => {
  test.each(CASES)('%s %s: the same outcome with --trace and events as without', (file, slots, name, req) => {
    const plain = loaded(file, slots);
    const prog = name || plain.programs.keys().next().value!;
    const a = plain.run(prog, req);
    const traced = loaded(file, slots);
    const b = traced.run(prog, { ...req, trace: true, events: true });
    expect(b.trace.x86_insns).toBeGreaterThan(0);
    expect(outcome(traced, b)).toEqual(outcome(plain, a));
  });
});

describe('the --trace instruction count', () => {
  test.each(CASES.slice(0, 5))('%s %s: unicorn\'s own count budget of exactly that many x86 instructions suffices, one fewer does not', (file, slots, name, req) => {
    const n = loaded(file, slots).run(name, { ...req, trace: true }).trace.x86_insns!;
    // each budget on a machine of its own: an engine that has counted keeps counting
    expect(loaded(file, slots).run(name, { ...req, budget: { x86Insns: n } }).error).toBeNull();
    const short = loaded(file, slots).run(name, { ...req, budget: { x86Insns: n - 1 } });
    expect(short.error).toMatchObject({ kind: 'budget' });
  });
});
