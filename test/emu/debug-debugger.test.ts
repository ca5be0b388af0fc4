// `tailjit debug`'s command language (emu/debug/debugger.ts) on the programs whose answers
// 5.10.223 gave (programs/expected): breakpoints hit once per run of a self-tail-calling program
// with the counter equal to the tail calls so far; frame chains in which a tail-called program
// replaced a subprogram's frame; `next` over a tail call landing at the target's bpf_func + 11
// (tailcalls.md §1.4); conditions, kernel events, and commands that fail without ending the
// session.

import { afterEach, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Debugger } from '../../emu/debug/debugger.js';
import { HarnessTarget } from '../../emu/debug/harness-target.js';
import { formatOutput, toJsonLine, type DebugOutput, type StopOutput } from '../../emu/debug/output.js';
import { readDebugInput } from '../../emu/debug/plan.js';

const PROGRAMS = join(import.meta.dirname, '../../programs');
const TAIL_CALL_OFFSET = 11n; // X86_TAIL_CALL_OFFSET, tailcalls.md §1.4
/** BPF_JMP | BPF_TAIL_CALL: what the verifier makes of `call bpf_tail_call` (tailcalls.md §7.5). */
const BPF_TAIL_CALL = 0xf5;
const golden = (name: string) => JSON.parse(readFileSync(join(PROGRAMS, 'expected', '5.10.223', `${name}.json`), 'utf8'));

const targets: HarnessTarget[] = [];
afterEach(() => {
  for (const t of targets.splice(0)) t.close();
});

interface Session {
  readonly dbg: Debugger;
  readonly out: DebugOutput[];
  /** Runs a command and returns what it printed. */
  run(line: string): DebugOutput[];
}

function session(scenario: string): Session {
  const t = HarnessTarget.open(readDebugInput(join(PROGRAMS, scenario)), { startAt: 'first_insn' });
  targets.push(t);
  const out: DebugOutput[] = [];
  const dbg = new Debugger(t, (o) => out.push(o));
  dbg.start();
  return {
    dbg, out,
    run(line) {
      const from = out.length;
      dbg.execute(line);
      return out.slice(from);
    },
  };
}

const stopOf = (outs: DebugOutput[]): StopOutput => {
  const s = outs.find((o): o is StopOutput => o.type === 'stop');
  if (!s) throw new Error(`no stop in ${JSON.stringify(outs)}`);
  return s;
};
const valueOf = (s: Session, expr: string): bigint => {
  const v = s.run(`print ${expr}`)[0];
  if (v.type !== 'value') throw new Error(`print ${expr}: ${JSON.stringify(v)}`);
  return BigInt(v.value);
};

describe('breakpoints on a self-tail-calling program', () => {
  test('the entry of loop_direct is hit 33 times after the run starts; tcc is the tail calls so far each time', () => {
    const s = session('self_tail.json');
    // Stopped at the start of run 1, instruction 0 of loop_direct: no tail call yet.
    expect(stopOf(s.out)).toMatchObject({ reason: 'start', tcc: 0, where: expect.stringContaining('loop_direct insn 0') });
    expect(s.run('break loop_direct')[0]).toMatchObject({ type: 'breakpoint', id: 1 });
    const tcc: number[] = [];
    const runs: bigint[] = [];
    for (let i = 0; i < 33; i++) {
      const stop = stopOf(s.run('continue'));
      expect(stop).toMatchObject({ reason: 'breakpoint', breakpoints: [1] });
      tcc.push(stop.tcc!);
      // loop_direct counts its runs in direct_runs before it tail-calls: the runs before this one.
      runs.push(valueOf(s, 'direct_runs'));
    }
    expect(tcc).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(runs.map(Number)).toEqual(tcc);
    // The 34th run's tail call is refused (§8.1) and the run returns 34, as on 5.10.223.
    const end = s.run('continue')[0];
    expect(end).toMatchObject({ type: 'run-end', retval: golden('self_tail').runs[0].retval, checks_ok: true, trace: { tail_calls: 33, tail_calls_refused: 1 } });
    expect(s.run('info breakpoints')[0]).toMatchObject({ type: 'breakpoints', list: [{ id: 1, hits: 33 }] });
  });

  test('print tcc reads the counter slot [rbp - 4] (stack_depth 0), as the JIT keeps it', () => {
    const s = session('self_tail.json');
    s.run('break loop_direct if tcc == 5');
    const stop = stopOf(s.run('continue'));
    expect(stop.tcc).toBe(5);
    const v = s.run('print tcc')[0];
    const rbp = valueOf(s, 'rbp');
    // tailcalls.md §1.5: the dword at [rbp - round_up(stack_depth, 8) - 4]; loop_direct has no stack.
    expect(v).toMatchObject({ type: 'value', decimal: '5', note: expect.stringContaining(`0x${(rbp - 4n).toString(16)}`) });
    expect(s.run('x/1wx rbp-4')[0]).toMatchObject({ type: 'memory', values: ['0x00000005'] });
    expect(s.run('continue')[0]).toMatchObject({ type: 'run-end', retval: 34 });
  });

  test('break tailcall stops 33 times at the landing, bpf_func + 11; break tailcall-refused once, for the limit', () => {
    const s = session('self_tail.json');
    s.run('break tailcall');
    s.run('break tailcall-refused');
    const bpfFunc = s.dbg.view.code.imagesNamed('loop_direct')[0].address;
    const landings: string[] = [];
    let out = s.run('continue');
    while (stopOf(out).event?.kind === 'tailcall') {
      landings.push(stopOf(out).pc);
      out = s.run('continue');
    }
    expect(landings).toEqual(Array(33).fill(`0x${(bpfFunc + TAIL_CALL_OFFSET).toString(16)}`));
    expect(stopOf(out)).toMatchObject({ reason: 'event', breakpoints: [2], event: { kind: 'tailcall-refused', reason: 'limit' } });
    expect(s.run('continue')[0]).toMatchObject({ type: 'run-end', retval: 34 });
  });
});

describe('a tail call from a subprogram (tail_from_sub)', () => {
  test('bt at the tail-called target: it replaced deep, under middle and entry, with stack depths and counters', () => {
    const s = session('tail_from_sub.json');
    s.run('break target');
    s.run('continue'); // run 1 ends: every slot empty
    s.run('continue'); // run 2 starts (slot 0 = target)
    expect(stopOf(s.run('continue'))).toMatchObject({ reason: 'breakpoint', where: expect.stringContaining('target insn 0') });
    const bt = s.run('bt')[0];
    if (bt.type !== 'frames') throw new Error('no frames');
    // The kernel's verifier stats for entry's functions: "stack depth 16+8+4+4" (entry, middle,
    // deep, hop); target: "stack depth 0". target keeps no counter slot (it never tail-calls):
    // at its first instruction the count deep's tail call handed over (1) is still in rax's high
    // dword (§1.5); middle and entry keep 0 in theirs, the count travels by value (§3.2).
    expect(bt.frames.map((f) => [f.function, f.stack_depth, f.tcc, f.tcc_from])).toEqual([
      ['target', 0, 1, 'rax'], ['middle', 8, 0, expect.stringMatching(/^\[0x/)], ['entry', 16, 0, expect.stringMatching(/^\[0x/)], ['tailjit_test_run', null, null, null],
    ]);
    expect(bt.frames[0].chain).toEqual(['deep', 'target']);
    expect(bt.frames[1].source).toMatch(/tail_from_sub\.bpf\.c:33$/); // m[0] = deep(skb);
    expect(bt.frames[2].source).toMatch(/tail_from_sub\.bpf\.c:53$/); // e[0] = middle(skb);
    // target's frame is deep's: the same rbp a tail call reuses (§1.4), below middle's.
    expect(BigInt(bt.frames[0].rbp!)).toBeLessThan(BigInt(bt.frames[1].rbp!));
  });

  test('the breakpoint on target is hit as often as target runs over the scenario: 4 (target_runs)', () => {
    const s = session('tail_from_sub.json');
    s.run('break target');
    let hits = 0;
    for (let i = 0; i < 50; i++) {
      const o = s.run('continue')[0];
      if (o.type === 'exited') break;
      if (o.type === 'stop' && o.reason === 'breakpoint') hits++;
    }
    expect(hits).toBe(golden('tail_from_sub').runs.at(-1).globals.target_runs);
  });

  test('next over deep\'s tail call lands at bpf_func + 11 of target; with the slot empty it falls through', () => {
    const s = session('tail_from_sub.json');
    const code = s.dbg.view.code;
    const deep = code.imagesNamed('deep')[0];
    const k = deep.insns.findIndex((i) => i.code === BPF_TAIL_CALL);
    const slot = deep.func.firstSlot + deep.func.insnSlots[k];
    s.run(`break entry:${slot}`);
    // Run 1: slot 0 is empty, the tail call falls through to the next instruction (§8.4).
    expect(stopOf(s.run('continue')).where).toContain(`deep insn ${slot}`);
    const fell = stopOf(s.run('next'));
    expect(fell.where).toContain(`deep insn ${deep.func.firstSlot + deep.func.insnSlots[k + 1]}`);
    s.run('continue'); // run 1 ends
    s.run('continue'); // run 2 starts
    expect(stopOf(s.run('continue')).where).toContain(`deep insn ${slot}`);
    const landed = stopOf(s.run('next'));
    const target = code.imagesNamed('target')[0].address;
    expect(BigInt(landed.pc)).toBe(target + TAIL_CALL_OFFSET);
    expect(landed.note).toContain('X86_TAIL_CALL_OFFSET');
    expect(s.run('bt')[0]).toMatchObject({ type: 'frames', frames: [{ function: 'target', chain: ['deep', 'target'] }, { function: 'middle' }, { function: 'entry' }, { function: 'tailjit_test_run' }] });
  });

  test('step enters a bpf2bpf call at its first byte; finish returns to the caller with r0', () => {
    const s = session('tail_from_sub.json');
    const code = s.dbg.view.code;
    const middle = code.imagesNamed('middle')[0].address;
    let stop = stopOf(s.run('step'));
    for (let i = 0; i < 10 && BigInt(stop.pc) !== middle; i++) stop = stopOf(s.run('step'));
    expect(BigInt(stop.pc)).toBe(middle);
    expect(stop.note).toBe('entered middle');
    const back = s.run('finish');
    // middle returns deep's 65 + 1 = 66 in run 1 (the scenario's comment, the golden's 73 = 66 + 7).
    expect(back.find((o) => o.type === 'message')).toMatchObject({ text: expect.stringContaining('r0 = 0x42') });
    expect(stopOf(back).where).toContain('entry insn');
  });
});

describe('events, state and errors', () => {
  test('break helper stops at the helper with its arguments (maps: a hash map lookup)', () => {
    const s = session('maps.json');
    s.run('break helper');
    const stop = stopOf(s.run('continue'));
    expect(stop.event).toMatchObject({ kind: 'helper', name: expect.stringMatching(/map_lookup_elem|map_update_elem/) });
    expect(s.run('bt')[0]).toMatchObject({ type: 'frames', frames: [{ kernel: true }, { function: 'count_len' }, { function: 'tailjit_test_run' }] });
  });

  test('info slots, info maps, info globals and info registers', () => {
    const s = session('self_tail.json');
    expect(s.run('info slots jmp_table')[0]).toEqual({ type: 'slots', map: 'jmp_table', slots: ['loop_direct', 'loop_indirect'] });
    expect(s.run('info maps')[0]).toMatchObject({ type: 'maps', maps: expect.arrayContaining([expect.objectContaining({ name: 'jmp_table', kind: 'prog-array', max_entries: 2 })]) });
    expect(s.run('info globals')[0]).toMatchObject({ type: 'globals', globals: { direct_runs: 0, self_key: 1 } });
    const regs = s.run('info registers r1 r10')[0];
    // BPF r1 lives in rdi, r10 in rbp (the JIT's reg2hex).
    expect(regs).toMatchObject({ type: 'registers', registers: [{ name: 'rdi', bpf: 'r1' }, { name: 'rbp', bpf: 'r10' }] });
  });

  test('list shows the BPF instruction with its x86 code and its source line', () => {
    const s = session('self_tail.json');
    const l = s.run('list')[0];
    if (l.type !== 'listing') throw new Error('no listing');
    const here = l.insns.find((i) => i.x86.some((x) => x.address === l.pc))!;
    // Instruction 0 of loop_direct is `r6 = r1` (clang keeps the context in r6): mov rbx, rdi.
    expect(here).toMatchObject({ slot: 0, bpf: '(bf) r6 = r1', source: { line: 19 }, x86: [{ text: 'mov rbx, rdi' }] });
  });

  test('bad commands report typed errors and the session goes on', () => {
    const s = session('self_tail.json');
    expect(s.run('frobnicate')[0]).toMatchObject({ type: 'error', code: 'debug.usage' });
    expect(s.run('break nowhere')[0]).toMatchObject({ type: 'error', code: 'debug.unknown' });
    expect(s.run('break loop_direct if tcc ==')[0]).toMatchObject({ type: 'error', code: 'debug.expr' });
    expect(s.run('print 1 +* (')[0]).toMatchObject({ type: 'error', code: 'debug.expr' });
    expect(s.run('x/4x 0x10')[0]).toMatchObject({ type: 'error', code: 'debug.memory' });
    expect(s.run('info slots nomap')[0]).toMatchObject({ type: 'error', code: 'debug.unknown' });
    expect(s.run('step 0')[0]).toMatchObject({ type: 'error', code: 'debug.usage' });
    expect(s.run('print r1 + 8')[0]).toMatchObject({ type: 'value' });
    expect(s.dbg.execute('quit')).toBe(false);
  });

  test('every output is one JSON object per line and has a text form', () => {
    const s = session('self_tail.json');
    for (const c of ['bt', 'info registers', 'x/2gx $sp', 'list', 'break tailcall', 'continue', 'info breakpoints']) s.run(c);
    for (const o of s.out) {
      const line = toJsonLine(o);
      expect(line).not.toContain('\n');
      expect(JSON.parse(line).type).toBe(o.type);
      expect(formatOutput(o).length).toBeGreaterThan(0);
    }
  });
});
