// What the linux-6.1 profile changes in the verifier, one rule per test: BPF_ATOMIC as
// check_atomic() of 5.12+ judges it (strings from kernel/bpf/verifier.c 6.1), stack depths in
// 8-byte steps, the "scalar" type name, and 6.1.192's struct offsets. The kernel's own answers
// for the same rules are the goldens of golden.test.ts (test/verifier/fixtures/atomics.bpf.c,
// ctx_fields.bpf.c, programs/calls.bpf.o on 6.1.192).

import { describe, expect, test } from 'vitest';
import { PROFILES } from '../../src/profile/index.js';
import * as h from './helpers.js';
import { Class, Mode, Size, insn, rejection } from './helpers.js';

const { mov64Imm, mov64Reg, exit, stx, ldx } = h;
const on61 = { ...h.jit, profile: PROFILES['linux-6.1'] };
const atomic = (size: number, dst: number, src: number, off: number, op: number) => insn(Class.STX | Mode.ATOMIC | size, dst, src, off, op);

/** r1 = 7 stored at fp-8, so the slot holds a known scalar. */
const prelude = [mov64Imm(1, 7), stx(Size.DW, 10, 1, -8)];

describe('BPF_ATOMIC (check_atomic)', () => {
  test.each([
    ['add', 0x00], ['or', 0x40], ['and', 0x50], ['xor', 0xa0],
    ['fetch add', 0x01], ['fetch or', 0x41], ['fetch and', 0x51], ['fetch xor', 0xa1], ['xchg', 0xe1],
  ])('accepts %s on the stack, 64 and 32 bits', (_n, op) => {
    for (const size of [Size.DW, Size.W]) {
      const vp = h.run([...prelude, mov64Imm(2, 3), atomic(size, 10, 2, -8, op), mov64Imm(0, 0), exit()], [], {}, on61);
      expect(vp.insns[3]).toMatchObject({ code: Class.STX | Mode.ATOMIC | size, imm: op });
    }
  });

  test('accepts cmpxchg, which compares with r0', () => {
    const vp = h.run([...prelude, mov64Imm(0, 7), mov64Imm(2, 3), atomic(Size.DW, 10, 2, -8, 0xf1), exit()], [], {}, on61);
    expect(vp.insns[4].imm).toBe(0xf1);
  });

  test('cmpxchg reads r0: "R0 !read_ok" when nothing wrote it', () => {
    const e = rejection(() => h.run([...prelude, mov64Imm(2, 3), atomic(Size.DW, 10, 2, -8, 0xf1), exit()], [], {}, on61));
    expect([e.kernelMessage, e.slot]).toEqual(['R0 !read_ok', 3]);
  });

  test('a fetch leaves the old value in src, which is then readable', () => {
    // src r2 gets the stack's old value; r0 = r2 must be accepted.
    h.run([...prelude, mov64Imm(2, 3), atomic(Size.DW, 10, 2, -8, 0x01), mov64Reg(0, 2), exit()], [], {}, on61);
  });

  test('rejects an op outside the set: "BPF_ATOMIC uses invalid atomic opcode 10"', () => {
    const e = rejection(() => h.run([...prelude, mov64Imm(2, 3), atomic(Size.DW, 10, 2, -8, 0x10), mov64Imm(0, 0), exit()], [], {}, on61));
    expect([e.code, e.kernelMessage, e.slot]).toEqual(['verifier.reserved-fields', 'BPF_ATOMIC uses invalid atomic opcode 10', 3]);
  });

  test('rejects an atomic on the context: "BPF_ATOMIC stores into R1 ctx is not allowed"', () => {
    const e = rejection(() => h.run([mov64Imm(2, 3), atomic(Size.W, 1, 2, 0, 0x01), mov64Imm(0, 0), exit()], [], {}, on61));
    expect([e.kernelMessage, e.slot]).toEqual(['BPF_ATOMIC stores into R1 ctx is not allowed', 1]);
  });

  test('5.10 still refuses every op but add as reserved STX fields (its answer for atomics.bpf.c)', () => {
    const e = rejection(() => h.run([...prelude, mov64Imm(2, 3), atomic(Size.DW, 10, 2, -8, 0x01), mov64Imm(0, 0), exit()]));
    expect(e.kernelMessage).toBe('BPF_STX uses reserved fields');
  });
});

describe('stack depth and type names', () => {
  test('a 4-byte stack access records depth 8 on 6.1, 4 on 5.10 (programs/calls.bpf.o: 32+16+8+8 vs 32+16+8+4)', () => {
    const prog = [mov64Imm(1, 7), stx(Size.W, 10, 1, -4), mov64Imm(0, 0), exit()];
    expect(h.run(prog, [], {}, on61).funcs[0].stackDepth).toBe(8);
    expect(h.run(prog).funcs[0].stackDepth).toBe(4);
  });

  test('a scalar used as a pointer is named "scalar" on 6.1, "inv" on 5.10', () => {
    const prog = [mov64Imm(1, 7), ldx(Size.W, 0, 1, 0), exit()];
    expect(rejection(() => h.run(prog, [], {}, on61)).kernelMessage).toBe("R1 invalid mem access 'scalar'");
    expect(rejection(() => h.run(prog)).kernelMessage).toBe("R1 invalid mem access 'inv'");
  });
});

describe("6.1.192's struct offsets in converted context loads", () => {
  test('__sk_buff.mark is sk_buff+168 on 6.1.192, +164 on 5.10.223 (ctx_fields.json of each)', () => {
    const prog = [ldx(Size.W, 0, 1, 8), exit()]; // offsetof(struct __sk_buff, mark) = 8
    expect(h.run(prog, [], {}, on61).insns[0].off).toBe(168);
    expect(h.run(prog).insns[0].off).toBe(164);
  });
});
