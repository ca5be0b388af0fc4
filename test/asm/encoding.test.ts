// Encodings of single instructions, each byte string hand-derived from RFC 9669:
// opcode = class | op | source (§3, §4: ALU 0x04, ALU64 0x07, JMP 0x05, JMP32 0x06, LD 0x00,
// LDX 0x01, ST 0x02, STX 0x03; BPF_X 0x08; ALU ops ADD 0x00 .. END 0xd0; JMP ops JA 0x00 ..
// JSLE 0xd0; modes IMM 0x00, ABS 0x20, IND 0x40, MEM 0x60, MEMSX 0x80, ATOMIC 0xc0; sizes W 0x00,
// H 0x08, B 0x10, DW 0x18), then one byte with src in the high nibble and dst in the low nibble
// (little-endian), a little-endian s16 offset and a little-endian s32 immediate (§3). sdiv/smod
// put 1 in offset, movsx 8/16/32 (§4.1, table 5); END puts the width in imm (§4.2); atomics put
// the operation in imm (ADD 0x00, OR 0x40, AND 0x50, XOR 0xa0, FETCH 0x01, XCHG 0xe1, CMPXCHG
// 0xf1; §5.3); a local call has src 1 and the offset in imm, callx the register in dst (§4.3.1);
// lddw is two slots, the high half in the second slot's imm (§5.4).

import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { encode } from '../../src/isa/insn.js';

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

const CASES: [string, string][] = [
  ['add %r1, %r2', '0f 21 00 00 00 00 00 00'],
  ['add32 %r1, 2', '04 01 00 00 02 00 00 00'],
  ['mov %r0, -1', 'b7 00 00 00 ff ff ff ff'],
  ['mov32 %r0, 0xffffffff', 'b4 00 00 00 ff ff ff ff'],
  ['lsh %r3, 63', '67 03 00 00 3f 00 00 00'],
  ['arsh32 %r1, %r2', 'cc 21 00 00 00 00 00 00'],
  ['sdiv %r1, %r2', '3f 21 01 00 00 00 00 00'],
  ['smod32 %r1, 3', '94 01 01 00 03 00 00 00'],
  ['neg %r1', '87 01 00 00 00 00 00 00'],
  ['neg32 %r2', '84 02 00 00 00 00 00 00'],
  ['movsx1632 %r1, %r2', 'bc 21 10 00 00 00 00 00'],
  ['movsx3264 %r3, %r4', 'bf 43 20 00 00 00 00 00'],
  ['be16 %r1', 'dc 01 00 00 10 00 00 00'],
  ['le32 %r2', 'd4 02 00 00 20 00 00 00'],
  ['bswap64 %r3', 'd7 03 00 00 40 00 00 00'],
  ['swap64 %r3', 'd7 03 00 00 40 00 00 00'],
  ['lddw %r1, 0x1122334455667788', '18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11'],
  ['lddw %r0, -1', '18 00 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff'],
  ['ldabsw 12', '20 00 00 00 0c 00 00 00'],
  ['ldindh %r6, 2', '48 60 00 00 02 00 00 00'],
  ['ldxw %r0, [%r1+4]', '61 10 04 00 00 00 00 00'],
  ['ldxdw %r0, [%r10-8]', '79 a0 f8 ff 00 00 00 00'],
  ['ldxsb %r2, [%r3-1]', '91 32 ff ff 00 00 00 00'],
  ['ldxh %r4, [%r5]', '69 54 00 00 00 00 00 00'],
  ['stb [%r10-1], 0x7f', '72 0a ff ff 7f 00 00 00'],
  ['stdw [%r1+0x10], -2', '7a 01 10 00 fe ff ff ff'],
  ['stxdw [%r10-8], %r1', '7b 1a f8 ff 00 00 00 00'],
  ['stxb [%r1+1], %r2', '73 21 01 00 00 00 00 00'],
  ['lock add [%r10-8], %r1', 'db 1a f8 ff 00 00 00 00'],
  ['lock fetch add32 [%r10-4], %r1', 'c3 1a fc ff 01 00 00 00'],
  ['lock fetch xor [%r1+2], %r2', 'db 21 02 00 a1 00 00 00'],
  ['lock or32 [%r1], %r2', 'c3 21 00 00 40 00 00 00'],
  ['lock xchg32 [%r1], %r2', 'c3 21 00 00 e1 00 00 00'],
  ['lock cmpxchg [%r10-8], %r1', 'db 1a f8 ff f1 00 00 00'],
  ['ja +1', '05 00 01 00 00 00 00 00'],
  ['ja -1', '05 00 ff ff 00 00 00 00'],
  ['ja32 -2', '06 00 00 00 fe ff ff ff'],
  ['jeq %r1, 5, +3', '15 01 03 00 05 00 00 00'],
  ['jlt %r0, 0xffffffff, +0', 'a5 00 00 00 ff ff ff ff'],
  ['jsgt32 %r1, %r2, -1', '6e 21 ff ff 00 00 00 00'],
  ['jset %r3, %r4, +2', '4d 43 02 00 00 00 00 00'],
  ['call 12', '85 00 00 00 0c 00 00 00'],
  ['call local +2', '85 10 00 00 02 00 00 00'],
  ['call %r2', '8d 02 00 00 00 00 00 00'],
  ['exit', '95 00 00 00 00 00 00 00'],
];

describe('encodings follow RFC 9669', () => {
  test.each(CASES)('%s', (source, bytes) => {
    expect(hex(encode(assemble(source)))).toBe(bytes);
  });
});

describe('immediates', () => {
  // README: hex is an unsigned 32-bit pattern, decimal a signed 32-bit value.
  test.each([
    ['mov %r0, 0xffffffff', -1],
    ['mov %r0, 0x80000000', -2147483648],
    ['mov %r0, 2147483647', 2147483647],
    ['mov %r0, -2147483648', -2147483648],
    ['mov %r0, 0XABCDEF', 0xabcdef],
    ['mov %r0, -0x10', -16],
  ])('%s has imm %d', (source, imm) => {
    expect(assemble(source)[0].imm).toBe(imm);
  });

  test('lddw takes a 64-bit decimal above the signed 32-bit range', () => {
    // lddw2.data: decimal 2147483648 is 0x80000000, high half 0.
    const [i] = assemble('lddw %r0, 2147483648');
    expect([i.imm >>> 0, i.immHi]).toEqual([0x80000000, 0]);
  });
});
