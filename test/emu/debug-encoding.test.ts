// Table tests of the small encoders and parsers the debuggers rest on: LEB128 (the DWARF 4
// standard's own examples, §7.6 figures 22 and 23), call frame instructions, and the
// debugger's expression language.

import { describe, expect, test } from 'vitest';
import { ByteWriter } from '../../emu/debug/elf/bytes.js';
import { CfiProgram, DWARF_REG } from '../../emu/debug/elf/dwarf.js';
import { evaluate, parseExpr, type ExprContext } from '../../emu/debug/expr.js';

const bytes = (f: (w: ByteWriter) => void): number[] => {
  const w = new ByteWriter();
  f(w);
  return [...w.finish()];
};

describe('LEB128 as DWARF 4 §7.6 lists it', () => {
  test.each([
    [2, [2]], [127, [127]], [128, [0x80, 1]], [129, [0x81, 1]], [130, [0x82, 1]], [12857, [0xb9, 100]],
  ])('unsigned %i', (v, want) => expect(bytes((w) => w.uleb(v))).toEqual(want));

  test.each([
    [2, [2]], [-2, [0x7e]], [127, [0xff, 0]], [-127, [0x81, 0x7f]], [128, [0x80, 1]], [-128, [0x80, 0x7f]], [129, [0x81, 1]], [-129, [0xff, 0x7e]],
  ])('signed %i', (v, want) => expect(bytes((w) => w.sleb(v))).toEqual(want));
});

describe('call frame instructions (DWARF 4 §6.4.2, opcodes from §7.23)', () => {
  test('the JIT prologue: advance 8, CFA offset 16, rbp at CFA-16, advance 3, CFA register rbp', () => {
    const cfi = new CfiProgram().at(8).defCfaOffset(16).offset(DWARF_REG.rbp, 2).at(11).defCfaRegister(DWARF_REG.rbp);
    // DW_CFA_advance_loc|8, DW_CFA_def_cfa_offset 16, DW_CFA_offset|6 2, advance_loc|3, def_cfa_register 6
    expect([...cfi.bytes()]).toEqual([0x48, 0x0e, 16, 0x86, 2, 0x43, 0x0d, 6]);
  });

  test('long advances use advance_loc1/2; going backwards is refused', () => {
    expect([...new CfiProgram().at(0x40).bytes()]).toEqual([0x02, 0x40]);
    expect([...new CfiProgram().at(0x1234).bytes()]).toEqual([0x03, 0x34, 0x12]);
    expect(() => new CfiProgram().at(5).at(4)).toThrow(RangeError);
  });
});

describe('debugger expressions', () => {
  const regs: Record<string, bigint> = { r1: 2n, rdi: 2n, rbp: 0x1000n, tcc: 5n };
  const ctx: ExprContext = {
    lookup: (n) => regs[n],
    addressOf: (n) => (n === 'direct_runs' ? 0x2000n : undefined),
    readU64: (a) => (a === 0x1000n - 8n ? 0x1122n : 0n),
  };
  test.each([
    ['tcc == 5', 1n], ['tcc == 6', 0n], ['r1 == 0x2', 1n], ['r1 == 0x2 && tcc != 5', 0n], ['r1 == 3 || tcc >= 5', 1n],
    ['rbp - 8', 0xff8n], ['*(rbp - 8)', 0x1122n], ['&direct_runs + 4', 0x2004n], ['-1', (1n << 64n) - 1n], ['1 << 4 | 1', 17n],
    ['(r1 + 1) * 3', 9n], ['!0', 1n], ['~0 == -1', 1n], ['0x10 > 2', 1n],
  ])('%s = %s', (text, want) => expect(evaluate(parseExpr(text), ctx)).toBe(want));

  test.each([
    ['tcc ==', 'debug.expr'], ['1 +', 'debug.expr'], ['(1', 'debug.expr'], ['1 2', 'debug.expr'], ['12ab', 'debug.expr'],
    ['@', 'debug.expr'], ['& 5', 'debug.expr'],
  ])('%s is a %s error with a column', (text, code) => {
    expect(() => parseExpr(text)).toThrow(expect.objectContaining({ code, location: expect.objectContaining({ column: expect.any(Number) }) }));
  });

  test('an unknown name is a debug.unknown error naming it', () => {
    expect(() => evaluate(parseExpr('nosuch + 1'), ctx)).toThrow(expect.objectContaining({ code: 'debug.unknown', message: expect.stringContaining("'nosuch'") }));
  });
});
