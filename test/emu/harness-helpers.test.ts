// Helpers reached by a real `call` into kernel text (a `nop; ret` stub whose code hook does the
// work), from JIT-ed programs.

import { afterEach, describe, expect, test } from 'vitest';
import { Machine } from '../../emu/harness/index.js';
import { rawProgram } from './harness-fixtures.js';

let machines: Machine[] = [];
function machine(seed?: bigint): Machine {
  const m = new Machine({ stackRules: false, ...(seed !== undefined ? { seed } : {}) });
  machines.push(m);
  return m;
}
afterEach(() => {
  for (const m of machines) m.close();
  machines = [];
});

function run(text: string, seed?: bigint) {
  const m = machine(seed);
  m.load(rawProgram(m, 'p', text));
  return m.run('p', { raw: new Uint8Array(0) });
}

/** Little-endian u64 of up to 8 characters, for building a format string on the stack. */
const word = (s: string): string => `0x${Buffer.from(s.padEnd(8, '\0'), 'latin1').readBigUInt64LE(0).toString(16)}`;

describe('helpers', () => {
  test('bpf_trace_printk formats its arguments and returns the length written', () => {
    const r = run(`
      lddw %r1, ${word('n=%d %x')}
      stxdw [%r10-16], %r1
      stdw [%r10-8], 0
      mov %r1, %r10
      add %r1, -16
      mov %r2, 8
      mov %r3, -42
      mov %r4, 255
      call 6
      exit`);
    expect(r.error).toBeNull();
    expect(r.printk).toEqual(['n=-42 ff']);
    expect(r.r0).toBe(BigInt('n=-42 ff'.length));
  });

  test('bpf_trace_printk refuses a format the kernel refuses (EINVAL): %c, a NUL before the last byte', () => {
    const early = run(`
      lddw %r1, ${word('n=%d')}
      stxdw [%r10-8], %r1
      mov %r1, %r10
      add %r1, -8
      mov %r2, 8
      call 6
      exit`);
    expect(BigInt.asIntN(64, early.r0)).toBe(-22n);
    const r = run(`
      lddw %r1, ${word('%c')}
      stxdw [%r10-8], %r1
      mov %r1, %r10
      add %r1, -8
      mov %r2, 3
      call 6
      exit`);
    expect(r.printk).toEqual([]);
    expect(BigInt.asIntN(64, r.r0)).toBe(-22n);
  });

  test('bpf_ktime_get_ns moves forward; bpf_get_smp_processor_id is 0', () => {
    const r = run(`
      call 5
      mov %r6, %r0
      call 8
      mov %r7, %r0
      call 5
      sub %r0, %r6
      add %r0, %r7
      exit`);
    expect(r.error).toBeNull();
    expect(r.r0 > 0n).toBe(true);
  });

  test('bpf_get_prandom_u32 is the same for the same seed, different for another', () => {
    const prog = 'call 7\nexit';
    const a = run(prog, 1n).r0;
    expect(run(prog, 1n).r0).toBe(a);
    expect(run(prog, 2n).r0).not.toBe(a);
    expect(a < 1n << 32n).toBe(true);
  });

  test('a helper handed a bad map pointer ends the run with a fault naming the helper', () => {
    const r = run(`
      mov %r1, 0x1234
      mov %r2, %r10
      add %r2, -8
      stdw [%r10-8], 0
      call 1
      exit`);
    expect(r.error).toMatchObject({ kind: 'fault', prog: 'p' });
    expect(r.error!.message).toMatch(/^bpf_map_lookup_elem: r1 = 0x1234 is not a struct bpf_map/);
    expect(r.error!.where).toBe('bpf_map_lookup_elem');
    expect(r.error!.bpf_insn).toBe(4); // the call
  });
});
