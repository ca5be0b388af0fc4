// The label-based builder links jumps the way the assembler does (target - (slot + 1)).

import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { ProgramBuilder } from '../../src/asm/builder.js';
import { AsmError } from '../../src/asm/errors.js';
import { encode, insn, ldImm64 } from '../../src/isa/insn.js';

// Opcodes (RFC 9669): mov64 imm, jeq imm, exit, ja, call.
const [MOV_K, JEQ_K, EXIT, JA, CALL] = [0xb7, 0x15, 0x95, 0x05, 0x85];

describe('ProgramBuilder', () => {
  test('builds the same program as the same text', () => {
    const built = new ProgramBuilder()
      .emit(insn(MOV_K, 0, 0, 0, 1))
      .jump(insn(JEQ_K, 1), 'out')
      .emit(ldImm64(0, 2n))
      .label('out')
      .emit(insn(EXIT))
      .build();
    expect(encode(built)).toEqual(encode(assemble('mov %r0, 1\njeq %r1, 0, out\nlddw %r0, 2\nout:\nexit')));
  });

  test('a local call gets its offset in imm', () => {
    const built = new ProgramBuilder().jump(insn(CALL, 0, 1), 'f').emit(insn(EXIT)).label('f').emit(insn(EXIT)).build();
    expect([built[0].src, built[0].imm]).toEqual([1, 1]);
  });

  test.each([
    ['an unknown label', (b: ProgramBuilder) => b.jump(insn(JA), 'nowhere'), 'asm.unknown-label'],
    ['a label defined twice', (b: ProgramBuilder) => b.label('a').label('a'), 'asm.duplicate-label'],
    ['a label on an instruction that is no jump', (b: ProgramBuilder) => b.label('a').jump(insn(EXIT), 'a'), 'asm.bad-target'],
  ])('rejects %s', (_name, make, code) => {
    let err: unknown;
    try {
      make(new ProgramBuilder()).build();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AsmError);
    expect((err as AsmError).code).toBe(code);
  });

  test('reports the slot of the jump', () => {
    let err: AsmError | undefined;
    try {
      new ProgramBuilder().emit(ldImm64(0, 1n)).jump(insn(JA), 'x').build();
    } catch (e) {
      err = e as AsmError;
    }
    expect(err?.location.insn).toBe(2);
  });
});
