// ALU, byte-order and jump semantics (RFC 9669 §4, §5), each expectation computed by hand.

import { describe, expect, test } from 'vitest';
import { runProgram } from '../../src/interp/index.js';
import type { Insn } from '../../src/isa/index.js';
import {
  alu32, alu32x, alu64, alu64x, endian, exit, gotol, ja, jmp, jmp32, jmp32x, jmpx, label, lddw,
  mov64, prog, type Item,
} from './build.js';

const INT64_MIN = 0x8000000000000000n;
const ALL64 = 0xffffffffffffffffn;

/** r0 after running `body` then exit. */
const r0Of = (body: Item[]): bigint => runProgram(prog(...body, exit())).r0;

interface Case { name: string; body: Item[]; want: bigint }
const table = (cases: Case[]) => test.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
  expect(r0Of(c.body)).toBe(c.want);
});

describe('signed division and modulo (cpu v4)', () => {
  table([
    // RFC 9669 §4.1: INT_MIN / -1 wraps to INT_MIN, INT_MIN % -1 is 0 (conformance
    // sdiv64-intmin-by-negone-*, smod64-intmin-by-negone-*).
    { name: 'sdiv64 INT64_MIN by -1 is INT64_MIN', body: [lddw(0, INT64_MIN), alu64('DIV', 0, -1, 1)], want: INT64_MIN },
    { name: 'sdiv64 INT64_MIN by register -1 is INT64_MIN', body: [lddw(0, INT64_MIN), mov64(1, -1), alu64x('DIV', 0, 1, 1)], want: INT64_MIN },
    { name: 'smod64 INT64_MIN by -1 is 0', body: [lddw(0, INT64_MIN), alu64('MOD', 0, -1, 1)], want: 0n },
    // 32-bit: 0x80000000 / -1 = 2^31, whose low 32 bits are 0x80000000 again; upper half zero.
    { name: 'sdiv32 INT32_MIN by -1 is INT32_MIN zero-extended', body: [lddw(0, 0xffffffff80000000n), alu32('DIV', 0, -1, 1)], want: 0x80000000n },
    { name: 'sdiv32 INT32_MIN by register -1', body: [mov64(0, 0x80000000 | 0), mov64(1, -1), alu32x('DIV', 0, 1, 1)], want: 0x80000000n },
    { name: 'smod32 INT32_MIN by -1 is 0', body: [mov64(0, 0x80000000 | 0), alu32('MOD', 0, -1, 1)], want: 0n },
    // Truncating division: -7 / 2 = -3, -7 % 2 = -1, 7 % -2 = 1 (sign of the dividend).
    { name: 'sdiv64 truncates toward zero', body: [mov64(0, -7), alu64('DIV', 0, 2, 1)], want: BigInt.asUintN(64, -3n) },
    { name: 'smod64 takes the sign of the dividend', body: [mov64(0, -7), alu64('MOD', 0, 2, 1)], want: ALL64 },
    { name: 'smod64 with a negative divisor', body: [mov64(0, 7), alu64('MOD', 0, -2, 1)], want: 1n },
    // The upper half of dst plays no part in a 32-bit signed division: low half 0xfffffff9 = -7.
    { name: 'sdiv32 ignores the upper half of dst', body: [lddw(0, 0xdeadbeeffffffff9n), alu32('DIV', 0, 2, 1)], want: 0xfffffffdn },
    // Unsigned division of the same pattern: 0xfffffffffffffff9 / 2 = 0x7ffffffffffffffc.
    { name: 'div64 is unsigned', body: [mov64(0, -7), alu64('DIV', 0, 2)], want: 0x7ffffffffffffffcn },
  ]);
});

describe('division and modulo by zero (RFC 9669 §4.1)', () => {
  table([
    { name: 'div64 by zero gives 0', body: [mov64(0, 42), mov64(1, 0), alu64x('DIV', 0, 1)], want: 0n },
    { name: 'div64 by imm zero gives 0', body: [mov64(0, 42), alu64('DIV', 0, 0)], want: 0n },
    { name: 'div32 by zero gives 0', body: [lddw(0, 0x100000005n), mov64(1, 0), alu32x('DIV', 0, 1)], want: 0n },
    // div32 looks at the divisor's low half only: 0x1_00000000 is zero as 32 bits.
    { name: 'div32 by a register whose low half is zero gives 0', body: [mov64(0, 42), lddw(1, 0x100000000n), alu32x('DIV', 0, 1)], want: 0n },
    { name: 'mod64 by zero leaves dst unchanged', body: [lddw(0, 0x123456789n), mov64(1, 0), alu64x('MOD', 0, 1)], want: 0x123456789n },
    { name: 'mod32 by zero keeps the low half, zero-extended', body: [lddw(0, 0x100000005n), mov64(1, 0), alu32x('MOD', 0, 1)], want: 5n },
    { name: 'sdiv64 by zero gives 0', body: [mov64(0, -5), alu64('DIV', 0, 0, 1)], want: 0n },
    { name: 'sdiv32 by zero gives 0', body: [mov64(0, -5), mov64(1, 0), alu32x('DIV', 0, 1, 1)], want: 0n },
    { name: 'smod64 by zero leaves dst unchanged', body: [mov64(0, -5), mov64(1, 0), alu64x('MOD', 0, 1, 1)], want: BigInt.asUintN(64, -5n) },
    { name: 'smod32 by zero keeps the low half, zero-extended', body: [mov64(0, -5), alu32('MOD', 0, 0, 1)], want: 0xfffffffbn },
  ]);
});

describe('32-bit results are zero-extended', () => {
  table([
    { name: 'add32 wraps at 2^32 and clears the upper half', body: [mov64(0, -1), alu32('ADD', 0, 1)], want: 0n },
    { name: 'add32 of 0 clears the upper half', body: [lddw(0, 0x1234567800000009n), alu32('ADD', 0, 0)], want: 9n },
    { name: 'mov32 of a register keeps its low half', body: [mov64(1, -1), alu32x('MOV', 0, 1)], want: 0xffffffffn },
    { name: 'mov32 imm -1 is 0xffffffff', body: [alu32('MOV', 0, -1)], want: 0xffffffffn },
    { name: 'mov64 imm -1 is sign-extended', body: [mov64(0, -1)], want: ALL64 },
    // 0x10000 * 0x10000 = 2^32, whose low half is 0.
    { name: 'mul32 keeps the low half of the product', body: [mov64(0, 0x10000), alu32('MUL', 0, 0x10000)], want: 0n },
    // 2^63 * 2 = 2^64 = 0 modulo 2^64.
    { name: 'mul64 wraps modulo 2^64', body: [lddw(0, INT64_MIN), alu64('MUL', 0, 2)], want: 0n },
    { name: 'sub32 borrows within 32 bits', body: [mov64(0, 0), alu32('SUB', 0, 1)], want: 0xffffffffn },
    { name: 'neg32 of 1', body: [mov64(0, 1), alu32('NEG', 0, 0)], want: 0xffffffffn },
    { name: 'neg64 of 1', body: [mov64(0, 1), alu64('NEG', 0, 0)], want: ALL64 },
    { name: 'neg64 of INT64_MIN is INT64_MIN', body: [lddw(0, INT64_MIN), alu64('NEG', 0, 0)], want: INT64_MIN },
    { name: 'xor32 clears the upper half', body: [mov64(0, -1), alu32('XOR', 0, 0)], want: 0xffffffffn },
    // and64 with imm -2 sign-extends it to 0xff..fe.
    { name: 'and64 sign-extends its immediate', body: [mov64(0, -1), alu64('AND', 0, -2)], want: ALL64 - 1n },
    { name: 'or32 with a register', body: [lddw(0, 0xff00000000n), lddw(1, 0x1100000001n), alu32x('OR', 0, 1)], want: 1n },
  ]);
});

describe('shift amounts are masked to the width', () => {
  table([
    // 65 & 63 = 1
    { name: 'lsh64 by 65 shifts by 1', body: [mov64(0, 3), mov64(1, 65), alu64x('LSH', 0, 1)], want: 6n },
    // 33 & 31 = 1; only the low half of dst matters: 0x1_80000001 << 1 = 0x3_00000002, low half 2.
    { name: 'lsh32 by 33 shifts by 1 within 32 bits', body: [lddw(0, 0x180000001n), mov64(1, 33), alu32x('LSH', 0, 1)], want: 2n },
    { name: 'rsh64 by 64 shifts by 0', body: [mov64(0, -1), mov64(1, 64), alu64x('RSH', 0, 1)], want: ALL64 },
    { name: 'rsh32 ignores the upper half of dst', body: [lddw(0, 0xffffffff00000010n), alu32('RSH', 0, 4)], want: 1n },
    { name: 'rsh32 by 32 shifts by 0', body: [lddw(0, 0x500000007n), mov64(1, 32), alu32x('RSH', 0, 1)], want: 7n },
    { name: 'arsh32 of INT32_MIN by 31', body: [mov64(0, 0x80000000 | 0), alu32('ARSH', 0, 31)], want: 0xffffffffn },
    { name: 'arsh64 of INT64_MIN by 63', body: [lddw(0, INT64_MIN), alu64('ARSH', 0, 63)], want: ALL64 },
    // -16 >> 2 = -4
    { name: 'arsh64 by 66 shifts by 2', body: [mov64(0, -16), mov64(1, 66), alu64x('ARSH', 0, 1)], want: BigInt.asUintN(64, -4n) },
  ]);
});

describe('sign-extending moves (movsx)', () => {
  table([
    { name: 'movsx864 of 0x80', body: [mov64(1, 0x80), alu64x('MOV', 0, 1, 8)], want: 0xffffffffffffff80n },
    { name: 'movsx1664 of 0x8000', body: [mov64(1, 0x8000), alu64x('MOV', 0, 1, 16)], want: 0xffffffffffff8000n },
    { name: 'movsx3264 of 0x80000000', body: [alu32('MOV', 1, 0x80000000 | 0), alu64x('MOV', 0, 1, 32)], want: 0xffffffff80000000n },
    { name: 'movsx3264 of a positive value', body: [lddw(1, 0xffffffff7fffffffn), alu64x('MOV', 0, 1, 32)], want: 0x7fffffffn },
    // movsx832: low byte 0xff = -1 as 32 bits, upper half zero.
    { name: 'movsx832 of 0x1ff', body: [mov64(1, 0x1ff), alu32x('MOV', 0, 1, 8)], want: 0xffffffffn },
    { name: 'movsx832 of 0x180', body: [mov64(1, 0x180), alu32x('MOV', 0, 1, 8)], want: 0xffffff80n },
    { name: 'movsx1632 of 0x7fff', body: [mov64(1, 0x7fff), alu32x('MOV', 0, 1, 16)], want: 0x7fffn },
    { name: 'movsx1632 of 0x18000', body: [mov64(1, 0x18000), alu32x('MOV', 0, 1, 16)], want: 0xffff8000n },
  ]);
});

describe('byte order (little-endian machine)', () => {
  const V = 0x1122334455667788n;
  table([
    // be16 keeps bytes 88 77 swapped: 0x8877; be32: 0x88776655; be64 reverses all eight.
    { name: 'be16 swaps the low 16 bits and clears the rest', body: [lddw(0, V), endian('be', 0, 16)], want: 0x8877n },
    { name: 'be32 swaps the low 32 bits and clears the rest', body: [lddw(0, V), endian('be', 0, 32)], want: 0x88776655n },
    { name: 'be64 reverses the eight bytes', body: [lddw(0, V), endian('be', 0, 64)], want: 0x8877665544332211n },
    { name: 'le16 truncates to 16 bits', body: [lddw(0, V), endian('le', 0, 16)], want: 0x7788n },
    { name: 'le32 truncates to 32 bits', body: [lddw(0, V), endian('le', 0, 32)], want: 0x55667788n },
    { name: 'le64 changes nothing', body: [lddw(0, V), endian('le', 0, 64)], want: V },
    { name: 'bswap16 swaps unconditionally', body: [lddw(0, V), endian('bswap', 0, 16)], want: 0x8877n },
    { name: 'bswap32 swaps unconditionally', body: [lddw(0, V), endian('bswap', 0, 32)], want: 0x88776655n },
    { name: 'bswap64 swaps unconditionally', body: [lddw(0, V), endian('bswap', 0, 64)], want: 0x8877665544332211n },
    { name: 'be32 of a value with the top bit set', body: [lddw(0, 0xf0f2f3f4f5f6f7f8n), endian('be', 0, 32)], want: 0xf8f7f6f5n },
  ]);
});

describe('jumps', () => {
  /** 1 when the jump is taken, 0 when it falls through. */
  const taken = (setup: Item[], j: (to: string) => Item): Insn[] =>
    prog(...setup, mov64(0, 0), j('yes'), exit(), label('yes'), mov64(0, 1), exit());
  const cases: [string, Insn[], bigint][] = [
    ['jgt64 compares unsigned (-1 > 1)', taken([mov64(1, -1)], (t) => jmp('JGT', 1, 1, t)), 1n],
    ['jsgt64 compares signed (-1 > 1 is false)', taken([mov64(1, -1)], (t) => jmp('JSGT', 1, 1, t)), 0n],
    ['jeq64 with imm -1 sign-extends it', taken([mov64(1, -1)], (t) => jmp('JEQ', 1, -1, t)), 1n],
    ['jeq32 looks at the low half only', taken([lddw(1, 0x100000005n)], (t) => jmp32('JEQ', 1, 5, t)), 1n],
    ['jeq64 sees the upper half', taken([lddw(1, 0x100000005n)], (t) => jmp('JEQ', 1, 5, t)), 0n],
    ['jsgt32 treats 0x80000000 as negative', taken([alu32('MOV', 1, 0x80000000 | 0)], (t) => jmp32('JSGT', 1, 0, t)), 0n],
    ['jsgt64 treats 0x80000000 as positive', taken([alu32('MOV', 1, 0x80000000 | 0)], (t) => jmp('JSGT', 1, 0, t)), 1n],
    ['jslt32 with registers', taken([mov64(1, -2), mov64(2, 1)], (t) => jmp32x('JSLT', 1, 2, t)), 1n],
    ['jle64 with registers', taken([mov64(1, 7), mov64(2, 7)], (t) => jmpx('JLE', 1, 2, t)), 1n],
    ['jset64 tests common bits', taken([mov64(1, 0b1010)], (t) => jmp('JSET', 1, 0b0100, t)), 0n],
    ['jset32 ignores the upper half', taken([lddw(1, 0x100000000n), lddw(2, 0x100000000n)], (t) => jmp32x('JSET', 1, 2, t)), 0n],
    ['jset64 sees the upper half', taken([lddw(1, 0x100000000n), lddw(2, 0x100000000n)], (t) => jmpx('JSET', 1, 2, t)), 1n],
    ['jne32 with imm', taken([mov64(1, 3)], (t) => jmp32('JNE', 1, 3, t)), 0n],
    ['jge32 compares unsigned', taken([mov64(1, -1)], (t) => jmp32('JGE', 1, 1, t)), 1n],
  ];
  test.each(cases)('%s', (_n, p, want) => {
    expect(runProgram(p).r0).toBe(want);
  });

  test('ja and gotol (JMP32 ja, offset in imm) jump over instructions', () => {
    const p = prog(mov64(0, 1), ja('a'), mov64(0, 99), label('a'), alu64('ADD', 0, 1), gotol('b'), mov64(0, 99), label('b'), exit());
    expect(runProgram(p).r0).toBe(2n);
  });

  test('jump offsets count slots: a jump over ld_imm64 skips two slots', () => {
    const p = prog(mov64(0, 1), ja('a'), lddw(0, 99n), label('a'), exit());
    expect(runProgram(p).r0).toBe(1n);
  });

  test('a backward loop runs the counted number of times', () => {
    // r0 = 0; r1 = 10; loop: r0 += 3; r1 -= 1; if r1 != 0 goto loop  -> r0 = 30
    const p = prog(mov64(0, 0), mov64(1, 10), label('loop'), alu64('ADD', 0, 3), alu64('SUB', 1, 1), jmp('JNE', 1, 0, 'loop'), exit());
    const res = runProgram(p);
    expect(res.r0).toBe(30n);
    // 2 set-up + 10 × 3 loop + 1 exit
    expect(res.stats.insns).toBe(33);
  });
});
