// x86-jit.md §2: the register map, the predicates, the REX/ModRM builders and the byte sink.
import { describe, expect, it } from 'vitest';
import {
  AUX_REG, BPF_REG_AX, Emitter, X86_REG_R9, add1mod, add1reg, add2mod, add2reg, emitInsnSuffix, isAxreg, isEreg, isEreg8l,
  isImm8, isSimm32, isUimm32, maybeEmit1mod, maybeEmitMod, reg2hex,
} from '../../src/jit/x86.js';
import { disasm, hex } from './fixtures.js';

describe('§2.1 register map (reg2hex)', () => {
  // BPF r0..r10, AX, (12 unused), AUX_REG, X86_REG_R9 -> low three bits of rax rdi rsi rdx rcx
  // r8 rbx r13 r14 r15 rbp r10 - r11 r9.
  const table: [number, number][] = [[0, 0], [1, 7], [2, 6], [3, 2], [4, 1], [5, 0], [6, 3], [7, 5], [8, 6], [9, 7], [10, 5], [BPF_REG_AX, 2], [AUX_REG, 3], [X86_REG_R9, 1]];
  it.each(table)('reg2hex[%i] = %i', (r, v) => expect(reg2hex[r]).toBe(v));
});

describe('§2.2 predicates', () => {
  it.each([[-128, true], [127, true], [-129, false], [128, false], [0, true]])('is_imm8(%i) = %s', (v, want) => expect(isImm8(v)).toBe(want));
  it.each([[-(2n ** 31n), true], [2n ** 31n - 1n, true], [2n ** 31n, false], [-(2n ** 31n) - 1n, false]])('is_simm32(%s) = %s', (v, want) => expect(isSimm32(v)).toBe(want));
  it.each([[0n, true], [0xffffffffn, true], [0x100000000n, false], [-1n, false]])('is_uimm32(%s) = %s', (v, want) => expect(isUimm32(v)).toBe(want));
  const eregs = [5, 7, 8, 9, BPF_REG_AX, AUX_REG, X86_REG_R9];
  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, BPF_REG_AX, AUX_REG, X86_REG_R9])('is_ereg(%i) holds exactly for r5 r7 r8 r9 AX AUX_REG X86_REG_R9', (r) => {
    expect(isEreg(r)).toBe(eregs.includes(r));
    expect(isEreg8l(r)).toBe(eregs.includes(r) || r === 1 || r === 2 || r === 10);
  });
  it('is_axreg only for r0', () => {
    expect([0, 1, 5, 11].map(isAxreg)).toEqual([true, false, false, false]);
  });
});

describe('§2.3 byte builders', () => {
  it.each([
    ['add_1mod(48, r5) sets REX.B', add1mod(0x48, 5), 0x49],
    ['add_1mod(48, r1) leaves it', add1mod(0x48, 1), 0x48],
    ['add_2mod(48, r5, r7): REX.B and REX.R', add2mod(0x48, 5, 7), 0x4d],
    ['add_2mod(48, r2, r9): REX.R only', add2mod(0x48, 2, 9), 0x4c],
    ['add_2mod(40, r7, r1): REX.B only', add2mod(0x40, 7, 1), 0x41],
    ['add_1reg(b8, r9) = b8 + 7', add1reg(0xb8, 9), 0xbf],
    ['add_2reg(c0, r0, r1): rm rax, reg rdi', add2reg(0xc0, 0, 1), 0xf8],
    ['add_2reg(40, r10, r3): [rbp+d8], rdx', add2reg(0x40, 10, 3), 0x55],
  ])('%s', (_n, got, want) => expect(got).toBe(want));
});

describe('§2.4/§2.5 prefix and memory-operand helpers', () => {
  const run = (f: (e: Emitter) => void): string => {
    const e = new Emitter(4);
    f(e);
    return hex(e.bytes());
  };
  it('maybe_emit_mod: REX.W always for 64-bit, a REX only with an ereg for 32-bit', () => {
    expect(run((e) => maybeEmitMod(e, 0, 1, true))).toBe('48');
    expect(run((e) => maybeEmitMod(e, 0, 1, false))).toBe('');
    expect(run((e) => maybeEmitMod(e, 5, 1, false))).toBe('41');
    expect(run((e) => maybeEmitMod(e, 9, 9, false))).toBe('45');
    expect(run((e) => maybeEmit1mod(e, 7, false))).toBe('41');
  });
  it('a displacement is explicit even when 0: mod=01 d8, or mod=10 d32 (never mod=00)', () => {
    expect(run((e) => emitInsnSuffix(e, 1, 2, 0))).toBe('7700');
    expect(run((e) => emitInsnSuffix(e, 7, 0, 0))).toBe('4500'); // [r13+0] with /0
    expect(run((e) => emitInsnSuffix(e, 10, 0, -200))).toBe('8538ffffff');
  });
  it('Emitter grows and writes little-endian', () => {
    const e = new Emitter(1);
    e.u8(0x89).u16(0x1234).u32(-2).imm(0x11223344, 2);
    expect(hex(e.bytes())).toBe('893412feffffff4433');
    expect(e.length).toBe(9);
    e.reset();
    expect(e.length).toBe(0);
  });
  it('decodes the examples of §2.5: mov esi,[rdi+0]; mov edi,[r13+0]; mov eax,[rbp-200]', () => {
    expect(disasm(Uint8Array.from([0x8b, 0x77, 0x00, 0x41, 0x8b, 0x7d, 0x00, 0x8b, 0x85, 0x38, 0xff, 0xff, 0xff])))
      .toEqual(['mov esi, [rdi]', 'mov edi, [r13]', 'mov eax, [rbp-0xc8]']);
  });
});
