// The debug target over the harness (emu/debug/harness-target.ts) and the pausable test run it
// drives (RunSession, emu/harness/run.ts): runs stopped and resumed many times must end exactly
// as unpaused runs end (5.10.223's answers in programs/expected), with the harness's checks
// intact; breakpoints, single steps, watchpoints and event stops land where the JIT's layout
// says (tailcalls.md §1.4: a tail call enters its target at bpf_func + 11).

import { afterEach, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadObjectFile } from '../../src/elf/index.js';
import { Machine, type RunProgress } from '../../emu/harness/index.js';
import { HarnessTarget } from '../../emu/debug/harness-target.js';
import { readDebugInput } from '../../emu/debug/plan.js';
import { DebugError } from '../../emu/debug/errors.js';
import type { StopEvent } from '../../emu/debug/target.js';

const ROOT = join(import.meta.dirname, '../..');
const PROGRAMS = join(ROOT, 'programs');
/** X86_TAIL_CALL_OFFSET (tailcalls.md §1.4): nop5 + xor/nop2 + push rbp + mov rbp,rsp. */
const TAIL_CALL_OFFSET = 11n;
const golden = (name: string) => JSON.parse(readFileSync(join(PROGRAMS, 'expected', '5.10.223', `${name}.json`), 'utf8'));

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

function machine(object: string): Machine {
  const m = new Machine();
  open.push(m);
  m.loadObject(loadObjectFile(join(PROGRAMS, object)));
  return m;
}

function target(scenario: string, startAt: 'bpf_func' | 'first_insn' = 'bpf_func'): HarnessTarget {
  const t = HarnessTarget.open(readDebugInput(join(PROGRAMS, scenario)), { startAt });
  open.push(t);
  return t;
}

const u32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);

describe('a test run paused and resumed (RunSession)', () => {
  test('a self-tail-calling run paused at each entry of its program still returns 34, every check ok', () => {
    const m = machine('self_tail.bpf.o');
    m.updateSlot('jmp_table', 0, 'loop_direct');
    const f = m.program('loop_direct').jit.funcs[0];
    const insn0 = f.address + BigInt(f.addrs[0]);
    const s = m.startRun('loop_direct');
    let pauses = 0;
    let p: RunProgress = s.resume({ pauseAt: [insn0] });
    while (p.state === 'paused') {
      expect(p.rip).toBe(insn0);
      pauses++;
      p = s.resume({ pauseAt: [insn0] });
    }
    // 1 + 33 runs (tailcalls.md §8.1), each passing instruction 0 once; 5.10.223 returned 34.
    expect(pauses).toBe(34);
    expect(p.result.retval).toBe(golden('self_tail').runs[0].retval);
    expect(p.result.error).toBeNull();
    expect(p.result.trace.tail_calls).toBe(33);
    expect(p.result.trace.counter_values).toEqual(Array.from({ length: 34 }, (_, i) => i));
    expect(p.result.trace.checks.filter((c) => !c.ok)).toEqual([]);
  });

  test('stepping one x86 instruction at a time executes as many instructions as the block counter counts', () => {
    const m = machine('self_tail.bpf.o');
    m.updateSlot('jmp_table', 0, 'loop_direct');
    const traced = m.run('loop_direct', { trace: true });
    m.reset();
    const s = m.startRun('loop_direct');
    let steps = 0;
    let p: RunProgress;
    do {
      p = s.resume({ step: 1 });
      steps++;
    } while (p.state === 'paused');
    // Two independent counts: unicorn's instruction count (one per resume) and the harness's
    // block hook decoding each executed block with iced-x86. The last resume stops at the stub's
    // stop address without executing it.
    expect(steps).toBe(traced.trace.x86_insns);
    expect(p.result.retval).toBe(34);
    expect(p.result.trace.checks.filter((c) => !c.ok)).toEqual([]);
  });

  test('a pause at a function entry comes before the observer sees the call: bpf2bpf calls counted once', () => {
    const m = machine('tail_from_sub.bpf.o');
    const entries = m.program('entry').jit.funcs.map((f) => f.address);
    const s = m.startRun('entry');
    let pauses = 0;
    let p: RunProgress = s.resume({ pauseAt: entries });
    while (p.state === 'paused') {
      pauses++;
      p = s.resume({ pauseAt: entries });
    }
    // entry, then middle -> deep and hop (the C source): 4 entries, 3 bpf2bpf calls; 73 as on 5.10.223.
    expect(pauses).toBe(4);
    expect(p.result.trace.bpf2bpf_calls).toBe(3);
    expect(p.result.retval).toBe(golden('tail_from_sub').runs[0].retval);
    expect(p.result.trace.checks.filter((c) => !c.ok)).toEqual([]);
  });
});

describe('HarnessTarget', () => {
  test('a session stops before the first instruction of its first run: bpf_func, or instruction 0', () => {
    const gdb = target('self_tail.json', 'bpf_func');
    const bpf = target('self_tail.json', 'first_insn');
    const f = gdb.machine.program('loop_direct').jit.funcs[0];
    expect(gdb.lastStop).toMatchObject({ kind: 'start', pc: f.address, run: { index: 1, step: 2, prog: 'loop_direct' } });
    // The prologue of loop_direct (R, no stack, r6-r8): nop5 xor push push-rax push*3: 19 bytes.
    expect(bpf.lastStop).toMatchObject({ kind: 'start', pc: f.address + 0x11n });
    expect(gdb.readRegisters().rip).toBe(f.address);
  });

  test('a breakpoint at bpf_func + 11 is hit by the run\'s own entry, then once per tail call: rax holds the count', () => {
    const t = target('self_tail.json');
    const landing = t.code.imagesNamed('loop_direct')[0].address + TAIL_CALL_OFFSET;
    t.insertBreakpoint(landing);
    const counts: number[] = [];
    const runs: number[] = [];
    let stop: StopEvent;
    while ((stop = t.resume()).kind === 'breakpoint') {
      expect(stop.pc).toBe(landing);
      counts.push(Number(t.readRegisters().rax >> 32n));
      // The program's own count of its runs, before this run adds itself.
      runs.push(u32(t.readMemory(bssOf(t, 'direct_runs'), 4)));
    }
    expect(stop.kind).toBe('run-end');
    // The count travels in rax's high dword into the target (tailcalls.md §1.5); the entry's
    // fall-through has rax = 0 (xor eax,eax). The program counted the same runs.
    expect(counts).toEqual(Array.from({ length: 34 }, (_, i) => i));
    expect(runs).toEqual(counts);
  });

  test('a watchpoint stops after each write of direct_runs, with the value written', () => {
    const t = target('self_tail.json');
    const at = bssOf(t, 'direct_runs');
    t.insertWatchpoint('write', at, 4);
    const values: number[] = [];
    let stop: StopEvent;
    while ((stop = t.resume()).kind === 'watchpoint') {
      expect(stop).toMatchObject({ watch: 'write', address: at, accessed: 'write' });
      values.push(u32(t.readMemory(at, 4)));
    }
    // direct_runs++ once per run: 1..34 (the golden's direct_runs is 34).
    expect(values).toEqual(Array.from({ length: 34 }, (_, i) => i + 1));
    expect(stop.kind).toBe('run-end');
  });

  test('catching tail calls: 33 stops, each at the target\'s bpf_func + 11, the count 1..33 in rax', () => {
    const t = target('self_tail.json');
    t.catchEvents(['tailcall']);
    const landing = t.code.imagesNamed('loop_direct')[0].address + TAIL_CALL_OFFSET;
    const counts: number[] = [];
    let stop: StopEvent;
    while ((stop = t.resume()).kind === 'event') {
      expect(stop.pc).toBe(landing);
      expect(stop.event).toMatchObject({ kind: 'tailcall', from: 'loop_direct', to: 'loop_direct', via: 'direct' });
      counts.push(Number(t.readRegisters().rax >> 32n));
    }
    expect(counts).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(stop).toMatchObject({ kind: 'run-end', result: { retval: 34, error: null } });
  });

  test('catching refused tail calls: the 34th run\'s, for the limit (§8.1: the one finding 33 falls through)', () => {
    const t = target('self_tail.json');
    t.catchEvents(['tailcall-refused']);
    const stop = t.resume();
    expect(stop).toMatchObject({ kind: 'event', event: { kind: 'tailcall-refused', from: 'loop_direct', reason: 'limit' } });
    expect(u32(t.readMemory(bssOf(t, 'direct_runs'), 4))).toBe(34);
    expect(t.resume().kind).toBe('run-end');
  });

  test('catching calls, returns and helpers in tail_from_sub', () => {
    const t = target('tail_from_sub.json');
    t.catchEvents(['call', 'return']);
    const seen: string[] = [];
    let stop: StopEvent;
    while ((stop = t.resume()).kind === 'event') {
      const e = stop.event;
      if (e.kind === 'call') seen.push(`call ${e.from}->${e.to}`);
      if (e.kind === 'return') seen.push(`return ${e.from} ${e.r0}`);
    }
    // Run 1, all slots empty: entry -> middle -> deep (skb->len + 1 = 65, the frame is 64 bytes
    // of packet), middle 66, hop 7, entry 73 (the scenario's comments and the golden).
    expect(seen).toEqual(['call entry->middle', 'call middle->deep', 'return deep 65', 'return middle 66', 'call entry->hop', 'return hop 7', 'return entry 73']);
    expect(stop).toMatchObject({ kind: 'run-end', result: { retval: 73 } });
  });

  test('between runs: a stop at each text poke when pokes are caught, then the next run', () => {
    const t = target('tail_from_sub.json');
    t.catchEvents(['poke']);
    expect(t.resume().kind).toBe('run-end');
    const poke = t.resume();
    // Step 1 of the scenario sets slot 0 = target: deep's direct site goes C -> D -> B (§6).
    expect(poke).toMatchObject({ kind: 'event', pc: null, event: { kind: 'poke', step: 1, map: 'jmp_table', slot: 0, prog: 'target' } });
    expect(t.state).toBe('between');
    expect(t.resume()).toMatchObject({ kind: 'start', run: { index: 2, step: 2 } });
  });

  test('after the last run the target has exited with its return value', () => {
    const t = target('tail_from_sub.json');
    const retvals: number[] = [];
    let stop: StopEvent;
    while ((stop = t.resume()).kind !== 'exited') if (stop.kind === 'run-end') retvals.push(stop.result.retval);
    expect(retvals).toEqual(golden('tail_from_sub').runs.map((r: { retval: number }) => r.retval));
    expect(stop.retval).toBe(1066);
    expect(t.state).toBe('exited');
    expect(t.resume()).toBe(stop);
  });

  test('unmapped memory and registers between runs are typed errors', () => {
    const t = target('self_tail.json');
    expect(() => t.readMemory(0x1000n, 8)).toThrow(DebugError);
    // The kernel stack has a guard page below it (THREAD_SIZE between guard pages).
    expect(() => t.readMemory(t.machine.kernel.stackBase - 8n, 8)).toThrow(expect.objectContaining({ code: 'debug.memory', message: expect.stringContaining('guard page') }));
    while (t.resume().kind !== 'run-end');
    expect(() => t.writeRegister('rax', 1n)).toThrow(expect.objectContaining({ code: 'debug.state' }));
  });
});

/** A .bss variable's address: the section's array map value plus the variable's offset. */
function bssOf(t: HarnessTarget, name: string): bigint {
  const spec = t.machine.object!.maps.find((m) => m.section === '.bss')!;
  const v = spec.vars!.find((x) => x.name === name)!;
  const m = t.machine.map(spec.name);
  if (m.kind !== 'array') throw new Error('.bss is an array map');
  return m.elemAddress(0) + BigInt(v.offset);
}
