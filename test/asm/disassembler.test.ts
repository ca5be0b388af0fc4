// The disassembler: text in the conformance syntax, invalid instructions as values, and a
// property check that whatever it shows assembles back to the same instruction.

import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { disassemble, disassembleText, formatInsn } from '../../src/asm/disassembler.js';
import { decode, encode, insn } from '../../src/isa/insn.js';
import { FORMS } from '../../src/isa/table.js';
import { shownFields } from '../../src/asm/syntax.js';

const bytes = (hex: string): Uint8Array => Uint8Array.from(hex.split(' ').map((b) => parseInt(b, 16)));

describe('text', () => {
  // Byte strings hand-derived from RFC 9669 as in encoding.test.ts; texts in the suite's syntax
  // (README "Assembly syntax used by the files").
  test.each([
    ['0f 21 00 00 00 00 00 00', 'add %r1, %r2'],
    ['b7 00 00 00 ff ff ff ff', 'mov %r0, -1'],
    ['57 01 00 00 00 ff 00 00', 'and %r1, 0xff00'],
    ['79 a0 f8 ff 00 00 00 00', 'ldxdw %r0, [%r10-8]'],
    ['69 54 00 00 00 00 00 00', 'ldxh %r4, [%r5]'],
    ['7a 01 10 00 fe ff ff ff', 'stdw [%r1+16], -2'],
    ['c3 1a fc ff 01 00 00 00', 'lock fetch add32 [%r10-4], %r1'],
    ['15 01 03 00 05 00 00 00', 'jeq %r1, 5, +3'],
    ['45 01 00 00 08 00 00 00', 'jset %r1, 0x8, +0'],
    ['06 00 00 00 fe ff ff ff', 'ja32 -2'],
    ['85 10 00 00 02 00 00 00', 'call local +2'],
    ['8d 02 00 00 00 00 00 00', 'call %r2'],
    ['d7 03 00 00 40 00 00 00', 'bswap64 %r3'],
    ['18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11', 'lddw %r1, 0x1122334455667788'],
  ])('%s is %s', (hex, text) => {
    expect(disassemble(decode(bytes(hex))).map((l) => l.text)).toEqual([text]);
  });

  test('labels name the slots jumps land on, including the end of the program', () => {
    const insns = assemble('jeq %r1, 0, +2\nlddw %r0, 1\nja +1\nexit');
    // jeq at slot 0 lands on slot 3 (ja); ja at slot 3 lands on slot 5, one past exit at slot 4.
    expect(disassembleText(insns, { labels: true })).toBe('jeq %r1, 0, L3\nlddw %r0, 0x1\nL3:\nja L5\nexit\nL5:\n');
  });

  test('a jump into the middle of lddw keeps its numeric offset', () => {
    const insns = assemble('ja +1\nlddw %r0, 1\nexit');
    expect(disassembleText(insns, { labels: true })).toBe('ja +1\nlddw %r0, 0x1\nexit\n');
  });
});

describe('invalid instructions come back as values', () => {
  test('an unknown opcode', () => {
    const [line] = disassemble([insn(0x8f, 1, 2)]);
    expect(line.invalid).toEqual({ field: 'code', reason: 'unknown opcode 0x8f' });
    expect(line.form).toBeUndefined();
    expect(line.text).toBe('invalid: unknown opcode 0x8f [code 0x8f, dst 1, src 2, off 0, imm 0]');
  });

  test('a known opcode whose selector field is no form (sdiv needs off 1)', () => {
    expect(disassemble([insn(0x3f, 1, 2, 5)])[0].invalid?.field).toBe('off');
  });

  test('a register above r10', () => {
    expect(formatInsn(insn(0xbf, 11, 1))).toBe('invalid: invalid register r11 [code 0xbf, dst 11, src 1, off 0, imm 0]');
  });

  test('a reserved field that is not zero is listed and named in a comment', () => {
    const [line] = disassemble([insn(0x07, 1, 0, 3, 5)]); // add %r1, 5 with off 3
    expect(line.unshown).toEqual(['off']);
    expect(line.text).toBe('add %r1, 5 # not shown: off=3');
  });
});

describe('random instructions', () => {
  // A seeded LCG (Numerical Recipes constants), so a failure names a reproducible value.
  let seed = 0x1234567;
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);

  test('any 20000 instructions disassemble without throwing', () => {
    for (let n = 0; n < 20000; n++) {
      const i = insn(next() & 0xff, next() % 16, next() % 16, next() << 16 >> 16, next() | 0, next() | 0);
      expect(() => disassemble([i])).not.toThrow();
    }
  });

  test('every form, with random operands, assembles back from its text', () => {
    for (const form of FORMS) {
      const fields = shownFields(form);
      for (let n = 0; n < 50; n++) {
        const f = { dst: 0, src: 0, off: 0, imm: 0, immHi: 0 };
        if (fields.includes('dst')) f.dst = next() % 11;
        if (fields.includes('src')) f.src = next() % 11;
        if (fields.includes('off')) f.off = next() << 16 >> 16;
        if (fields.includes('imm')) f.imm = next() | 0;
        if (fields.includes('immHi')) f.immHi = next() | 0;
        if (form.select) f[form.select.field] = form.select.value;
        const i = insn(form.code, f.dst, f.src, f.off, f.imm, f.immHi);
        const [line] = disassemble([i]);
        expect(line.form, line.text).toBe(form);
        expect(encode(assemble(line.text)), line.text).toEqual(encode([i]));
      }
    }
  });
});
