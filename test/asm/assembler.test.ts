// Labels, slot counting and the error each kind of mistake gives (codes and positions).

import { describe, expect, test } from 'vitest';
import { assemble, assembleProgram } from '../../src/asm/assembler.js';
import { AsmError } from '../../src/asm/errors.js';

/** The error `assemble` throws for `source`. */
function errorOf(source: string, options = {}): AsmError {
  try {
    assemble(source, options);
  } catch (e) {
    if (e instanceof AsmError) return e;
    throw e;
  }
  throw new Error(`assembled without error: ${source}`);
}

describe('labels and offsets', () => {
  // Offsets are target - (slot + 1), counted in 8-byte slots (README; RFC 9669 §4.3).
  test('a forward jump to a label skips the instructions between', () => {
    const [jeq] = assemble('jeq %r1, 0, out\nmov %r0, 2\nout:\nexit');
    expect(jeq.off).toBe(1);
  });

  test('lddw counts two slots', () => {
    const [ja] = assemble('ja done\nlddw %r0, 1\ndone: exit');
    expect(ja.off).toBe(2);
  });

  test('a backward ja32 puts its offset in imm', () => {
    const insns = assemble('top: mov %r0, 0\nja32 top');
    expect([insns[1].off, insns[1].imm]).toEqual([0, -2]);
  });

  test('call local puts the relative slot offset in imm with src 1', () => {
    const [call] = assemble('call local f\nexit\nf:\nmov %r0, 1\nexit');
    expect([call.src, call.imm]).toEqual([1, 1]);
  });

  test('the first exit is an implicit label called exit', () => {
    const insns = assemble('ja exit\nmov %r0, 1\nexit\nexit');
    expect(insns[0].off).toBe(1);
  });

  test('a defined exit label wins over the implicit one', () => {
    const insns = assemble('ja exit\nexit\nmov %r0, 1\nexit:\nexit');
    expect(insns[0].off).toBe(2);
  });

  test('a label may sit after the last instruction', () => {
    const p = assembleProgram('ja end\nexit\nend:');
    expect([p.insns[0].off, p.labels.get('end')]).toEqual([1, 2]);
  });

  test('numeric targets are taken as they are', () => {
    expect(assemble('jne %r1, %r2, -3')[0].off).toBe(-3);
  });

  test('comments and blank lines are ignored; lines are reported per instruction', () => {
    const p = assembleProgram('# header\n\nmov %r0, 1 # set, with a comma\n  exit  ', { firstLine: 20 });
    expect(p.insns).toHaveLength(2);
    expect(p.lines).toEqual([22, 23]);
  });
});

describe('errors', () => {
  test.each([
    // [source, code, line, column, message]
    ['frob %r1', 'asm.unknown-mnemonic', 1, 1, "unknown mnemonic 'frob'"],
    ['mov %r0, 1\n  lock frob [%r1], %r2', 'asm.unknown-mnemonic', 2, 3, "unknown mnemonic 'lock frob'"],
    ['%r1 = 5', 'asm.unknown-mnemonic', 1, 1, "expected an instruction or a label, got '%r1'"],
    ['add %r11, 2', 'asm.bad-register', 1, 5, "invalid register '%r11' (registers are %r0..%r10)"],
    ['add %r1, %x', 'asm.bad-register', 1, 10, "invalid register '%x' (registers are %r0..%r10)"],
    ['add 5, %r1', 'asm.bad-register', 1, 5, "expected a register (%r0..%r10), got '5'"],
    ['ldxw %r0, [%r12+4]', 'asm.bad-register', 1, 12, "invalid register '%r12' (registers are %r0..%r10)"],
    ['mov32 %r0, 0x100000000', 'asm.imm-range', 1, 12, 'immediate 0x100000000 does not fit in 32 bits (hex: 0x0..0xffffffff)'],
    ['mov %r0, 2147483648', 'asm.imm-range', 1, 10, 'immediate 2147483648 does not fit in 32 bits (decimal: -2147483648..2147483647)'],
    ['mov %r0, -2147483649', 'asm.imm-range', 1, 10, 'immediate -2147483649 does not fit in 32 bits (decimal: -2147483648..2147483647)'],
    ['lddw %r0, 0x10000000000000000', 'asm.imm-range', 1, 11, 'immediate 0x10000000000000000 does not fit in 64 bits'],
    ['mov %r0, five', 'asm.bad-immediate', 1, 10, "expected an immediate, got 'five'"],
    ['ja nowhere', 'asm.unknown-label', 1, 4, "unknown label 'nowhere'"],
    ['jeq %r1, 0, +32768', 'asm.offset-range', 1, 13, 'jump offset +32768 does not fit in 16 bits (-32768..32767)'],
    ['ldxw %r0, [%r1+40000]', 'asm.offset-range', 1, 16, 'offset +40000 does not fit in 16 bits (-32768..32767)'],
    ['ldxw %r0, %r1', 'asm.bad-memory', 1, 11, "expected a memory operand like [%r1+8], got '%r1'"],
    ['add %r1', 'asm.operand-count', 1, 1, "'add' takes 2 operands, got 1"],
    ['exit %r0', 'asm.operand-count', 1, 6, "'exit' takes 0 operands, got 1"],
    ['lock fetch add [%r1]', 'asm.operand-count', 1, 1, "'lock fetch add' takes 2 operands, got 1"],
    ['add %r1 %r2', 'asm.bad-operand', 1, 9, "expected ',' before '%r2'"],
    ['add %r1, ,%r2', 'asm.bad-operand', 1, 10, 'empty operand'],
    ['ja +', 'asm.bad-target', 1, 4, "expected a label or +N/-N, got '+'"],
    ['1x: exit', 'asm.bad-label', 1, 1, "'1x' is not a valid label name"],
    ['L:\nexit\nL:', 'asm.duplicate-label', 3, 1, "label 'L' is already defined"],
  ])('%j gives %s at %d:%d', (source, code, line, column, message) => {
    const e = errorOf(source);
    expect({ code: e.code, line: e.location.line, column: e.location.column, message: e.message }).toEqual({
      code,
      line,
      column,
      message,
    });
  });

  test('a label out of the 16-bit range is an offset error at the label', () => {
    // 32768 lddw are 65536 slots: the label is 65536 slots past the slot after the jump.
    const body = 'lddw %r0, 1\n'.repeat(32768);
    const e = errorOf(`ja far\n${body}far: exit`);
    expect([e.code, e.location.line, e.location.column]).toEqual(['asm.offset-range', 1, 4]);
    expect(e.message).toBe("'far' is 65536 slots away; a jump offset holds -32768..32767");
  });

  test('a duplicate label names the first definition in a note', () => {
    expect(errorOf('L:\nexit\nL:').notes).toEqual(['first defined at line 1']);
  });

  test('format() shows file:line:col, the source line and a caret under the token', () => {
    const e = errorOf('mov %r0, 1\n  frob %r1', { file: 't.data', firstLine: 10 });
    expect(e.format()).toBe("t.data:11:3: error: unknown mnemonic 'frob'\n  frob %r1\n  ^~~~");
  });

  test('the caret keeps tabs so that it lines up', () => {
    // '%r99' starts at column 11: a tab, then 'add %r1, ' (9 characters).
    const e = errorOf('\tadd %r1, %r99');
    expect(e.format().split('\n').slice(1)).toEqual(['\tadd %r1, %r99', '\t' + ' '.repeat(9) + '^~~~']);
  });

  test('errors are AsmErrors with a stable code', () => {
    const e = errorOf('frob');
    expect(e).toBeInstanceOf(AsmError);
    expect(e.name).toBe('AsmError');
  });
});
