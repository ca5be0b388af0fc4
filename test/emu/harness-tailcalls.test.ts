// Tail calls and bpf2bpf calls run as x86 in the modeled kernel, checked against what 5.10.223
// answered (programs/expected/5.10.223) and against the frame layout of tailcalls.md §1.5/§3.3.

import { afterEach, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { loadObjectFile } from '../../src/elf/index.js';
import { Machine, type RunResult, type TraceEvent } from '../../emu/harness/index.js';
import { RECURSE_THROUGH_SUB } from './harness-fixtures.js';

const PROGRAMS = join(import.meta.dirname, '../../programs');
let machines: Machine[] = [];
function machineWith(object: string): Machine {
  const m = new Machine();
  machines.push(m);
  m.loadObject(loadObjectFile(join(PROGRAMS, object)));
  return m;
}
afterEach(() => {
  for (const m of machines) m.close();
  machines = [];
});

const okChecks = (r: RunResult) => r.trace.checks.filter((c) => !c.ok);
const rsp = (e: TraceEvent) => BigInt(e.rsp);

describe('the limit of 33 (tailcalls.md §8.1)', () => {
  test('a self-tail-calling program runs 34 times; the counter reads 0..33 at its checks', () => {
    const m = machineWith('self_tail.bpf.o');
    m.updateSlot('jmp_table', 0, 'loop_direct');
    const r = m.run('loop_direct');
    expect(r.error).toBeNull();
    // 5.10.223 golden (self_tail.json): 34 runs, retval 34.
    expect(r.retval).toBe(34);
    expect(m.globals().globals.direct_runs).toBe(34);
    expect(r.trace.counter_values).toEqual(Array.from({ length: 34 }, (_, i) => i));
    expect(r.trace.tail_calls).toBe(33);
    expect(r.trace.refused.limit).toBe(1);
    expect(r.trace.max_tail_calls_in_chain).toBe(33);
    expect(okChecks(r)).toEqual([]);
  });

  test('each repetition of a test run starts the counter again: repeat 3 is 3 x 34 runs', () => {
    const m = machineWith('self_tail.bpf.o');
    m.updateSlot('jmp_table', 1, 'loop_indirect');
    const r = m.run('loop_indirect', { repeat: 3 });
    // golden: 34 runs of loop_indirect per repetition, the last returns 102
    expect(r.retval).toBe(102);
    expect(r.trace.tail_calls).toBe(99);
    expect(r.trace.max_tail_calls_in_chain).toBe(33);
  });

  test('an empty slot costs one count: 17 runs; an index past max_entries costs nothing: 34 (§8.3)', () => {
    const m = machineWith('empty_slot.bpf.o');
    m.updateSlot('jmp_table', 0, 'empty_first');
    m.updateSlot('jmp_table', 2, 'oob_first');
    // Level k enters with count 2(k-1); its empty attempt counts, so level 17's attempt makes
    // 33 and its self call is refused by the limit: 17 runs, 17 empty-slot refusals.
    const empty = m.run('empty_first');
    expect(empty.retval).toBe(17); // golden
    expect(empty.trace).toMatchObject({ tail_calls: 16, refused: { empty_slot: 17, limit: 1, out_of_bounds: 0 } });
    expect(empty.trace.counter_values).toEqual(Array.from({ length: 34 }, (_, i) => i));
    // The bounds check comes before the counter: every level's index 9 is free.
    const oob = m.run('oob_first');
    expect(oob.retval).toBe(34); // golden
    expect(oob.trace).toMatchObject({ tail_calls: 33, refused: { empty_slot: 0, limit: 1, out_of_bounds: 34 } });
  });
});

describe('the counter travels by value (§8.2)', () => {
  test('sub_twice: two chains of 33, 66 once_prog runs, 68 sub calls, retval 68', () => {
    const m = machineWith('sub_twice.bpf.o');
    m.updateSlot('jmp_table', 0, 'once_prog');
    const r = m.run('entry');
    expect(r.error).toBeNull();
    expect(r.retval).toBe(68);
    expect(m.globals().globals).toMatchObject({ cnt_target: 66, cnt_calls: 68, cnt_refused: 2 });
    expect(r.trace.tail_calls).toBe(66);
    expect(r.trace.max_tail_calls_in_chain).toBe(33);
    // entry's second call to sub reloads entry's own slot: its chain counts from 0 again
    expect(r.trace.counter_values.filter((v) => v === 0)).toHaveLength(2);
    expect(okChecks(r)).toEqual([]);
  });
});

describe('a tail call from a subprogram unwinds only the subprogram (§3.2, §1.5)', () => {
  test('deep() jumps with rsp at its frame base and the target returns into middle()', () => {
    const m = machineWith('tail_from_sub.bpf.o');
    m.updateSlot('jmp_table', 0, 'target');
    const r = m.run('entry', { events: true });
    expect(r.retval).toBe(1008); // golden, run 1
    const ev = r.trace.events!;
    const callDeep = ev.find((e) => e.kind === 'call' && e.name === 'deep')!;
    const callMiddle = ev.find((e) => e.kind === 'call' && e.name === 'middle')!;
    const tc = ev.find((e) => e.kind === 'tail_call')!;
    // §1.4: the unwind leaves rsp = rbp = (rsp at deep's first byte) - 8 (deep's push rbp).
    expect(rsp(tc)).toBe(rsp(callDeep) - 8n);
    // The target's leave; ret uses deep's return address: it returns with rsp where deep's is.
    const ret = ev[ev.indexOf(tc) + 1];
    expect(ret).toMatchObject({ kind: 'return', name: 'target' });
    expect(rsp(ret)).toBe(rsp(callDeep));
    // middle's frame (§1.5): ret addr slot, then push rbp, SDr bytes, the counter slot (R),
    // the used callee-saved registers; then its call pushes deep's return address.
    const middle = m.program('entry').jit.funcs.find((f) => f.name === 'middle')!;
    const sdr = BigInt((middle.stackDepth + 7) & ~7);
    const frame = 8n + sdr + (middle.tailCallReachable ? 8n : 0n) + 8n * BigInt(middle.calleeRegsUsed.filter(Boolean).length);
    expect(rsp(callDeep)).toBe(rsp(callMiddle) - frame - 8n);
  });

  test('entry -> hop -> tail call to entry: 96 bytes of stack per level, 34 levels (§3.3)', () => {
    const m = new Machine();
    machines.push(m);
    m.loadObject(RECURSE_THROUGH_SUB);
    expect([...m.failures.values()]).toEqual([]);
    m.updateSlot('jmp_table', 0, 'entry');
    const r = m.run('entry', { events: true });
    // measured on 5.10.223: 34 runs, return value 1000 + 34
    expect(r.retval).toBe(1034);
    const jumps = r.trace.events!.filter((e) => e.kind === 'tail_call').map(rsp);
    expect(jumps).toHaveLength(33);
    for (let i = 1; i < jumps.length; i++) expect(jumps[i - 1] - jumps[i]).toBe(96n);
    expect(r.trace.max_call_depth).toBe(35); // 34 entry frames and the innermost hop
    expect(okChecks(r)).toEqual([]);
  });
});

describe('text pokes (tailcalls.md §6)', () => {
  test('install C -> D -> B, replace B -> B (site 2 only), remove B -> D -> C with a grace period between', () => {
    const m = machineWith('tail_direct.bpf.o');
    const scen = m.trackedSites(0);
    expect(scen.length).toBeGreaterThan(0);
    const install = m.updateSlot('jmp_table', 0, 'target0');
    for (const s of install.sites) expect(s.path).toEqual(['C', 'D', 'B']);
    expect(install.steps.map((s) => s.site)).toEqual(install.sites.flatMap(() => ['target', 'bypass']));
    const replace = m.updateSlot('jmp_table', 0, 'target1');
    for (const s of replace.sites) expect(s.path).toEqual(['B', 'B']);
    expect(replace.steps.every((s) => s.site === 'target')).toBe(true);
    const remove = m.updateSlot('jmp_table', 0, null);
    for (const s of remove.sites) expect(s.path).toEqual(['B', 'D', 'C']);
    expect(remove.steps.map((s) => s.kind === 'synchronize_rcu' ? 'rcu' : s.site)).toEqual(remove.sites.flatMap(() => ['bypass', 'rcu', 'target']));
    expect(m.pokeDisagreements()).toEqual([]);
  });

  test('deleting an empty slot is ENOENT, a slot past max_entries E2BIG', () => {
    const m = machineWith('tail_direct.bpf.o');
    expect(() => m.updateSlot('jmp_table', 0, null)).toThrow(/ENOENT/);
    expect(() => m.updateSlot('jmp_table', 99, 'target0')).toThrow(/E2BIG/);
  });

  test('snapshots: site 1 jumps over the unwind when empty (rel32 = P + 1 + S7 + 5), site 2 jumps to target + 11 when set', () => {
    const m = machineWith('self_tail.bpf.o');
    const prog = m.program('loop_direct');
    const poke = prog.jit.pokes[0];
    const f = prog.jit.funcs[0];
    const at = (a: bigint) => Number(a - f.address);
    const P = (f.calleeRegsUsed[0] ? 1 : 0) + 2 * f.calleeRegsUsed.slice(1).filter(Boolean).length;
    const S7 = f.stackDepth ? 7 : 0;
    let image = Buffer.from(m.snapshot()[0].jited_hex, 'hex');
    expect([...image.subarray(at(poke.tailcallBypass), at(poke.tailcallBypass) + 5)]).toEqual([0xe9, P + 1 + S7 + 5, 0, 0, 0]);
    expect([...image.subarray(at(poke.tailcallTarget), at(poke.tailcallTarget) + 5)]).toEqual([0x0f, 0x1f, 0x44, 0x00, 0x00]);
    m.updateSlot('jmp_table', 0, 'loop_direct');
    image = Buffer.from(m.snapshot()[0].jited_hex, 'hex');
    expect([...image.subarray(at(poke.tailcallBypass), at(poke.tailcallBypass) + 5)]).toEqual([0x0f, 0x1f, 0x44, 0x00, 0x00]);
    const rel = image.readInt32LE(at(poke.tailcallTarget) + 1);
    expect(poke.tailcallTarget + 5n + BigInt(rel)).toBe(f.address + 11n);
  });
});
