// Loads, stores, atomics and the checked address space.

import { describe, expect, test } from 'vitest';
import {
  Environment, INPUT_BASE, Interpreter, Memory, STACK_AREA_BASE, runProgram,
} from '../../src/interp/index.js';
import type { Insn } from '../../src/isa/index.js';
import {
  AtomicOp, alu64, alu64x, atomic, exit, lddw, ldMapValue, ldx, ldxs, mov64, mov64x, prog, st, stx, runError,
} from './build.js';

const bytes = (...b: number[]) => Uint8Array.from(b);


describe('loads from the input are little-endian', () => {
  const mem = bytes(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x80, 0x80, 0xff, 0x7f);
  const cases: [string, Insn, bigint][] = [
    ['ldxb', ldx('b', 0, 1, 1), 0x22n],
    ['ldxh', ldx('h', 0, 1, 0), 0x2211n],
    ['ldxw', ldx('w', 0, 1, 0), 0x44332211n],
    ['ldxdw', ldx('dw', 0, 1, 0), 0x8877665544332211n],
    // Sign-extending loads: 0x80 = -128, 0x8080 = -32640, 0x7fff8080 positive, 0x88776655 negative.
    ['ldxsb of 0x80', ldxs('b', 0, 1, 8), 0xffffffffffffff80n],
    ['ldxsb of 0x22', ldxs('b', 0, 1, 1), 0x22n],
    ['ldxsh of 0x8080', ldxs('h', 0, 1, 8), 0xffffffffffff8080n],
    ['ldxsw of 0x7fff8080', ldxs('w', 0, 1, 8), 0x7fff8080n],
    ['ldxsw of 0x88776655', ldxs('w', 0, 1, 4), 0xffffffff88776655n],
  ];
  test.each(cases)('%s', (_n, load, want) => {
    expect(runProgram([load, exit()], { mem: mem.slice() }).r0).toBe(want);
  });

  test('r1 is the input address and r2 its length', () => {
    const res = new Interpreter([mov64x(0, 2), exit()], { mem: bytes(1, 2, 3) }).run();
    expect(res.r0).toBe(3n);
    expect(runProgram([mov64x(0, 1), exit()], { mem: bytes(1) }).r0).toBe(INPUT_BASE);
  });

  test('without input r1 and r2 are 0', () => {
    expect(runProgram([mov64x(0, 1), alu64('ADD', 0, 0), exit()]).r0).toBe(0n);
  });
});

describe('stores', () => {
  test('stores write the low bytes of the value, little-endian, into the input', () => {
    const mem = new Uint8Array(16);
    const p = [lddw(3, 0x1122334455667788n), stx('w', 1, 3, 0), stx('h', 1, 3, 4), stx('b', 1, 3, 6), st('b', 1, 7, 0x1ab), exit()];
    runProgram(p, { mem });
    expect([...mem.slice(0, 8)]).toEqual([0x88, 0x77, 0x66, 0x55, 0x88, 0x77, 0x88, 0xab]);
  });

  test('stdw stores the sign-extended immediate', () => {
    const mem = new Uint8Array(8);
    runProgram([st('dw', 1, 0, -2), exit()], { mem });
    expect([...mem]).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  test('the stack holds what was stored (r10 - 8 .. r10 - 1)', () => {
    const p = [lddw(1, 0xdeadbeefcafef00dn), stx('dw', 10, 1, -8), ldx('w', 0, 10, -4), exit()];
    expect(runProgram(p).r0).toBe(0xdeadbeefn);
  });

  test('the stack starts zeroed and r10 is a high kernel address', () => {
    const res = new Interpreter([ldx('dw', 0, 10, -512), exit()]).run();
    expect(res.r0).toBe(0n);
    expect(runProgram([mov64x(0, 10), exit()]).r0 > STACK_AREA_BASE).toBe(true);
  });
});

describe('atomics', () => {
  /** Runs `ops` with [r10-8] = `init`; returns r0 and the final [r10-8] as r0/r8. */
  function withSlot(init: bigint, ops: Insn[], result: Insn[]): bigint {
    return runProgram([lddw(9, init), stx('dw', 10, 9, -8), ...ops, ...result, exit()]).r0;
  }
  const mem = (ops: Insn[], init: bigint) => withSlot(init, ops, [ldx('dw', 0, 10, -8)]);

  test('lock add adds to memory', () => {
    expect(mem([mov64(1, 5), atomic('dw', AtomicOp.ADD, 10, 1, -8)], 10n)).toBe(15n);
  });
  test('lock add32 wraps within the low word and leaves the high word', () => {
    // low word 0xffffffff + 1 = 0 (carry dropped), high word 0x00000001 untouched
    expect(mem([mov64(1, 1), atomic('w', AtomicOp.ADD, 10, 1, -8)], 0x1ffffffffn)).toBe(0x100000000n);
  });
  test('lock fetch add returns the old value in src', () => {
    expect(withSlot(10n, [mov64(1, 5), atomic('dw', AtomicOp.ADD | AtomicOp.FETCH, 10, 1, -8)], [mov64x(0, 1)])).toBe(10n);
  });
  test('lock fetch add32 zero-extends the fetched word', () => {
    expect(withSlot(0xffffffffn, [mov64(1, -1), atomic('w', AtomicOp.ADD | AtomicOp.FETCH, 10, 1, -8)], [mov64x(0, 1)])).toBe(0xffffffffn);
  });
  test('lock or / and / xor', () => {
    expect(mem([mov64(1, 0b0110), atomic('dw', AtomicOp.OR, 10, 1, -8)], 0b1001n)).toBe(0b1111n);
    expect(mem([mov64(1, 0b0110), atomic('dw', AtomicOp.AND, 10, 1, -8)], 0b1100n)).toBe(0b0100n);
    expect(mem([mov64(1, 0b0110), atomic('dw', AtomicOp.XOR, 10, 1, -8)], 0b1100n)).toBe(0b1010n);
  });
  test('lock fetch xor32 writes the low word and fetches the old one', () => {
    // [r10-8] = 0x00000001_0000000f; xor32 with 0xff..ff: low word 0xfffffff0, high word kept
    const p = [mov64(1, -1), atomic('w', AtomicOp.XOR | AtomicOp.FETCH, 10, 1, -8)];
    expect(mem(p, 0x10000000fn)).toBe(0x1fffffff0n);
    expect(withSlot(0x10000000fn, p, [mov64x(0, 1)])).toBe(0xfn);
  });
  test('lock xchg swaps register and memory', () => {
    const p = [mov64(1, 7), atomic('dw', AtomicOp.XCHG, 10, 1, -8)];
    expect(mem(p, 3n)).toBe(7n);
    expect(withSlot(3n, p, [mov64x(0, 1)])).toBe(3n);
  });
  test('lock cmpxchg stores src when r0 equals memory and returns the old value in r0', () => {
    const p = [mov64(0, 3), mov64(1, 9), atomic('dw', AtomicOp.CMPXCHG, 10, 1, -8)];
    expect(mem(p, 3n)).toBe(9n);
    expect(withSlot(3n, p, [])).toBe(3n);
  });
  test('lock cmpxchg leaves memory when r0 differs and still loads the old value into r0', () => {
    const p = [mov64(0, 4), mov64(1, 9), atomic('dw', AtomicOp.CMPXCHG, 10, 1, -8)];
    expect(mem(p, 3n)).toBe(3n);
    expect(withSlot(3n, p, [])).toBe(3n);
  });
  test('lock cmpxchg32 compares the low half of r0 only and zero-extends r0', () => {
    // r0 = 0xffffffff_00000003: low half 3 equals memory's low word 3 -> stored
    const p = [lddw(0, 0xffffffff00000003n), mov64(1, 9), atomic('w', AtomicOp.CMPXCHG, 10, 1, -8)];
    expect(mem(p, 0x500000003n)).toBe(0x500000009n);
    expect(withSlot(0x500000003n, p, [])).toBe(3n);
  });
});

describe('faults name the slot, the address, the size and the region', () => {
  test('a load past the end of the input', () => {
    // ld_imm64 takes slots 0-1, so the load is instruction 1 at slot 2; [r1+14] of 4 bytes crosses 16.
    const p = [lddw(0, 1n), ldx('w', 0, 1, 14), exit()];
    const e = runError(p, { mem: new Uint8Array(16) });
    expect(e.code).toBe('interp.fault');
    expect(e.location.insn).toBe(2);
    expect(e.details).toMatchObject({ address: INPUT_BASE + 14n, size: 4, access: 'load', region: 'input' });
    expect(e.format()).toMatch(/^insn 2: error: load of 4 bytes at 0xffff88810000000e crosses the bounds of region 'input'/);
  });

  test('a load from address 0 touches no region', () => {
    const e = runError([mov64(1, 0), ldx('b', 0, 1, 0), exit()]);
    expect(e.code).toBe('interp.fault');
    expect(e.location.insn).toBe(1);
    expect(e.details).toMatchObject({ address: 0n, size: 1, access: 'load', region: null });
    expect(e.message).toMatch(/no region/);
  });

  test('a store above r10 is outside the stack', () => {
    const e = runError([st('dw', 10, 0, 1), exit()]);
    expect(e.code).toBe('interp.fault');
    expect(e.details).toMatchObject({ size: 8, access: 'store', region: null });
  });

  test('a store below the 512-byte stack faults', () => {
    const e = runError([st('b', 10, -513, 1), exit()]);
    expect(e.code).toBe('interp.fault');
    expect(e.details.address).toBe(runProgram([mov64x(0, 10), exit()]).r0 - 513n);
  });

  test('pointer arithmetic wraps at 2^64', () => {
    // r3 = r1 + 2^63 + 2^63 = r1 (mod 2^64); then [r3 + 2 - 1] is input byte 1
    const half = 0x8000000000000000n;
    const p = [lddw(3, half), lddw(4, half), alu64x('ADD', 3, 1), alu64x('ADD', 3, 4), alu64('ADD', 3, 2), ldx('b', 0, 3, -1), exit()];
    expect(runProgram(p, { mem: bytes(0x5a, 0x6b) }).r0).toBe(0x6bn);
  });

  test('a write to a read-only region faults', () => {
    const env = new Environment();
    env.addRegion('rodata', bytes(1, 2, 3, 4), { writable: false, mapFd: 7 });
    const e = runError([ldMapValue(1, 7), st('b', 1, 0, 9), exit()], { env });
    expect(e.code).toBe('interp.fault');
    expect(e.location.insn).toBe(2);
    expect(e.details).toMatchObject({ access: 'store', region: 'rodata' });
    expect(runProgram([ldMapValue(1, 7, 2), ldx('b', 0, 1, 0), exit()], { env }).r0).toBe(3n);
  });

  test('an atomic on a read-only region faults even when it would not change memory', () => {
    const env = new Environment();
    env.addRegion('rodata', new Uint8Array(8), { writable: false, mapFd: 7 });
    const e = runError([ldMapValue(1, 7), mov64(2, 0), atomic('dw', AtomicOp.OR, 1, 2, 0), exit()], { env });
    expect(e.details).toMatchObject({ access: 'atomic', region: 'rodata' });
  });
});

describe('the address space', () => {
  test('regions may not overlap', () => {
    const m = new Memory([{ name: 'a', base: 0x1000n, bytes: new Uint8Array(16) }]);
    expect(() => m.addRegion({ name: 'b', base: 0x100fn, bytes: new Uint8Array(1) })).toThrow(/overlaps region 'a'/);
    expect(() => m.addRegion({ name: 'c', base: STACK_AREA_BASE, bytes: new Uint8Array(1) })).toThrow(/stack area/);
  });

  test('environment regions are shared between runs and seen by the program', () => {
    const env = new Environment();
    const counter = new Uint8Array(8);
    env.addRegion('counter', counter, { mapFd: 4 });
    const p = prog(ldMapValue(1, 4), mov64(2, 1), atomic('dw', AtomicOp.ADD | AtomicOp.FETCH, 1, 2, 0), mov64x(0, 2), exit());
    const it = new Interpreter(p, { env });
    expect(it.run().r0).toBe(0n);
    expect(it.run().r0).toBe(1n);
    expect(counter[0]).toBe(2);
  });
});

describe('frame stacks', () => {
  test('a new run forgets the stacks an aborted run left live', () => {
    const m = new Memory();
    m.enterFrame(0);
    m.enterFrame(1);
    const inFrame1 = m.stackTop(1) - 8n;
    m.store(inFrame1, 8, 5n);
    expect(m.load(inFrame1, 8)).toBe(5n);
    m.enterFrame(0); // the next run starts
    expect(() => m.load(inFrame1, 8)).toThrow(/stack of frame 1 is not live/);
  });

  test('a frame entered again starts with a zeroed stack', () => {
    const m = new Memory();
    m.enterFrame(0);
    m.enterFrame(1);
    m.store(m.stackTop(1) - 8n, 8, 5n);
    m.leaveFrame(1);
    m.enterFrame(1);
    expect(m.load(m.stackTop(1) - 8n, 8)).toBe(0n);
  });
});
