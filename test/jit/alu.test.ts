// x86-jit.md §2.6 and §3: moves, constants, ALU, NEG, MUL, DIV/MOD, shifts, BPF_END. Each row's
// bytes are the spec's (checked against 5.10.223 images there); the assembly is what those bytes
// mean, decoded back with iced-x86.
import { describe, expect, it } from 'vitest';
import type { Insn } from '../../src/isa/insn.js';
import { disasm, hex, ldImm64, mk, unhex } from './fixtures.js';
import { R32, R64, code1, codeOf } from './helpers.js';

type Row = readonly [name: string, insn: Insn, bytes: string, asm?: readonly string[]];

function table(rows: readonly Row[]): void {
  it.each(rows.map((r) => [r[0], r] as const))('%s', (_n, [, i, bytes, asm]) => {
    const got = code1(i);
    expect(hex(got)).toBe(hex(unhex(bytes)));
    if (asm) expect(disasm(got)).toEqual(asm);
  });
}

const ALU64 = 0x07;
const ALU = 0x04;
const movX = (cls: number, d: number, s: number) => mk(cls | 0xb8, d, s);
const movK = (cls: number, d: number, k: number) => mk(cls | 0xb0, d, 0, 0, k);

describe('§2.6 emit_mov_reg (MOV X)', () => {
  table([
    ['r1 = r2', movX(ALU64, 1, 2), '48 89 f7', ['mov rdi, rsi']],
    ['r5 = r6', movX(ALU64, 5, 6), '49 89 d8', ['mov r8, rbx']],
    ['r6 = r5', movX(ALU64, 6, 5), '4c 89 c3', ['mov rbx, r8']],
    ['r7 = r8', movX(ALU64, 7, 8), '4d 89 f5', ['mov r13, r14']],
    ['r0 = r9', movX(ALU64, 0, 9), '4c 89 f8', ['mov rax, r15']],
    ['64-bit r3 = r3 emits nothing', movX(ALU64, 3, 3), '', []],
    ['w1 = w2', movX(ALU, 1, 2), '89 f7', ['mov edi, esi']],
    ['w5 = w6', movX(ALU, 5, 6), '41 89 d8', ['mov r8d, ebx']],
    ['w6 = w5', movX(ALU, 6, 5), '44 89 c3', ['mov ebx, r8d']],
    ['w7 = w8', movX(ALU, 7, 8), '45 89 f5', ['mov r13d, r14d']],
    ['w3 = w3 is always emitted (zero extension)', movX(ALU, 3, 3), '89 d2', ['mov edx, edx']],
    ['w9 = w9 with an ereg in both fields', movX(ALU, 9, 9), '45 89 ff', ['mov r15d, r15d']],
    ['w0 = w9', movX(ALU, 0, 9), '44 89 f8', ['mov eax, r15d']],
  ]);
});

describe('§2.6 emit_mov_imm32 (MOV K)', () => {
  table([
    ['r0 = 0 is xor', movK(ALU64, 0, 0), '31 c0', ['xor eax, eax']],
    ['r0 = 1 is the zero-extending mov', movK(ALU64, 0, 1), 'b8 01 00 00 00', ['mov eax, 0x1']],
    ['ALU64 r0 = -1 sign-extends', movK(ALU64, 0, -1), '48 c7 c0 ff ff ff ff', ['mov rax, 0xffffffffffffffff']],
    ['r0 = 0x7fffffff', movK(ALU64, 0, 0x7fffffff), 'b8 ff ff ff 7f', ['mov eax, 0x7fffffff']],
    ['ALU64 r0 = INT_MIN', movK(ALU64, 0, -0x80000000), '48 c7 c0 00 00 00 80', ['mov rax, 0xffffffff80000000']],
    ['r5 = 0: xor with REX.RB', movK(ALU64, 5, 0), '45 31 c0', ['xor r8d, r8d']],
    ['r5 = 1', movK(ALU64, 5, 1), '41 b8 01 00 00 00', ['mov r8d, 0x1']],
    ['r5 = -1', movK(ALU64, 5, -1), '49 c7 c0 ff ff ff ff', ['mov r8, 0xffffffffffffffff']],
    ['r2 = 0', movK(ALU64, 2, 0), '31 f6', ['xor esi, esi']],
    ['r2 = 1', movK(ALU64, 2, 1), 'be 01 00 00 00', ['mov esi, 0x1']],
    ['r2 = -1', movK(ALU64, 2, -1), '48 c7 c6 ff ff ff ff', ['mov rsi, 0xffffffffffffffff']],
    ['ALU w0 = -1 does not sign-extend', movK(ALU, 0, -1), 'b8 ff ff ff ff', ['mov eax, 0xffffffff']],
    ['ALU w5 = INT_MIN', movK(ALU, 5, -0x80000000), '41 b8 00 00 00 80', ['mov r8d, 0x80000000']],
  ]);
});

describe('§2.6/§3.4 emit_mov_imm64 (LD_IMM64)', () => {
  table([
    ['0 is xor', ldImm64(0, 0n), '31 c0', ['xor eax, eax']],
    ['1', ldImm64(0, 1n), 'b8 01 00 00 00', ['mov eax, 0x1']],
    ['0xffffffff fits in u32', ldImm64(0, 0xffffffffn), 'b8 ff ff ff ff', ['mov eax, 0xffffffff']],
    ['0x80000000', ldImm64(0, 0x80000000n), 'b8 00 00 00 80', ['mov eax, 0x80000000']],
    ['1 << 32 takes movabs', ldImm64(0, 1n << 32n), '48 b8 00 00 00 00 01 00 00 00', ['mov rax, 0x100000000']],
    ['-1 takes movabs (no 7-byte form)', ldImm64(0, -1n), '48 b8 ff ff ff ff ff ff ff ff', ['mov rax, 0xffffffffffffffff']],
    ['0xffffffff80000000 takes movabs', ldImm64(0, 0xffffffff80000000n), '48 b8 00 00 00 80 ff ff ff ff', ['mov rax, 0xffffffff80000000']],
    ['r5 = 1 << 32', ldImm64(5, 1n << 32n), '49 b8 00 00 00 00 01 00 00 00', ['mov r8, 0x100000000']],
    ['r9 = 0xffffffff', ldImm64(9, 0xffffffffn), '41 bf ff ff ff ff', ['mov r15d, 0xffffffff']],
    ['r9 = 0', ldImm64(9, 0n), '45 31 ff', ['xor r15d, r15d']],
    ['r2 = a map address', ldImm64(2, 0xffff88803fef4400n), '48 be 00 44 ef 3f 80 88 ff ff', ['mov rsi, 0xffff88803fef4400']],
    ['r1 = a map value address', ldImm64(1, 0xffffc9000009e008n), '48 bf 08 e0 09 00 00 c9 ff ff', ['mov rdi, 0xffffc9000009e008']],
  ]);
});

const OPS: [string, number, string][] = [['add', 0x00, '01'], ['sub', 0x10, '29'], ['and', 0x50, '21'], ['or', 0x40, '09'], ['xor', 0xa0, '31']];

describe('§3.1 ADD/SUB/AND/OR/XOR with a register', () => {
  // (D, S, REX for ALU64, REX for ALU, ModRM) as the spec's checked ADD bytes give them.
  const pairs: [number, number, string, string, string][] = [[0, 1, '48', '', 'f8'], [5, 7, '4d', '45', 'e8'], [2, 9, '4c', '44', 'fe'], [3, 3, '48', '', 'd2']];
  const rows: Row[] = [];
  for (const [mn, op, opcode] of OPS) {
    for (const [d, s, rex64, rex32, modrm] of pairs) {
      rows.push([`r${d} ${mn}= r${s}`, mk(ALU64 | op | 0x08, d, s), rex64 + opcode + modrm, [`${mn} ${R64[d]}, ${R64[s]}`]]);
      rows.push([`w${d} ${mn}= w${s}`, mk(ALU | op | 0x08, d, s), rex32 + opcode + modrm, [`${mn} ${R32[d]}, ${R32[s]}`]]);
    }
  }
  table(rows);
});

describe('§3.2 ADD/SUB/AND/OR/XOR with an immediate', () => {
  const k = (cls: number, op: number, d: number, imm: number) => mk(cls | op, d, 0, 0, imm);
  table([
    ['r0 += 1 takes 83 (imm8 before the eax form)', k(ALU64, 0x00, 0, 1), '48 83 c0 01', ['add rax, 0x1']],
    ['r0 += 128 takes the short rax form', k(ALU64, 0x00, 0, 128), '48 05 80 00 00 00', ['add rax, 0x80']],
    ['r0 += 0x12345678', k(ALU64, 0x00, 0, 0x12345678), '48 05 78 56 34 12', ['add rax, 0x12345678']],
    ['r0 += 0 is not optimised away', k(ALU64, 0x00, 0, 0), '48 83 c0 00', ['add rax, 0x0']],
    ['r1 += 1', k(ALU64, 0x00, 1, 1), '48 83 c7 01', ['add rdi, 0x1']],
    ['r1 += 127 (imm8 upper bound)', k(ALU64, 0x00, 1, 127), '48 83 c7 7f', ['add rdi, 0x7f']],
    ['r1 += 128', k(ALU64, 0x00, 1, 128), '48 81 c7 80 00 00 00', ['add rdi, 0x80']],
    ['r5 += 1', k(ALU64, 0x00, 5, 1), '49 83 c0 01', ['add r8, 0x1']],
    ['r5 += 128', k(ALU64, 0x00, 5, 128), '49 81 c0 80 00 00 00', ['add r8, 0x80']],
    ['r0 -= 128', k(ALU64, 0x10, 0, 128), '48 2d 80 00 00 00', ['sub rax, 0x80']],
    ['r0 &= 128', k(ALU64, 0x50, 0, 128), '48 25 80 00 00 00', ['and rax, 0x80']],
    ['r0 |= 128', k(ALU64, 0x40, 0, 128), '48 0d 80 00 00 00', ['or rax, 0x80']],
    ['r0 ^= 128', k(ALU64, 0xa0, 0, 128), '48 35 80 00 00 00', ['xor rax, 0x80']],
    ['r4 += -129 (imm8 lower bound - 1)', k(ALU64, 0x00, 4, -129), '48 81 c1 7f ff ff ff', ['add rcx, 0xffffffffffffff7f']],
    ['r7 += -128', k(ALU64, 0x00, 7, -128), '49 83 c5 80', ['add r13, 0xffffffffffffff80']],
    ['w0 += 1', k(ALU, 0x00, 0, 1), '83 c0 01', ['add eax, 0x1']],
    ['w0 += 128', k(ALU, 0x00, 0, 128), '05 80 00 00 00', ['add eax, 0x80']],
    ['w1 += 1', k(ALU, 0x00, 1, 1), '83 c7 01', ['add edi, 0x1']],
    ['w1 += 128', k(ALU, 0x00, 1, 128), '81 c7 80 00 00 00', ['add edi, 0x80']],
    ['w5 += 1', k(ALU, 0x00, 5, 1), '41 83 c0 01', ['add r8d, 0x1']],
    ['w5 += 128', k(ALU, 0x00, 5, 128), '41 81 c0 80 00 00 00', ['add r8d, 0x80']],
    ['w9 += 0x12345678', k(ALU, 0x00, 9, 0x12345678), '41 81 c7 78 56 34 12', ['add r15d, 0x12345678']],
    ['w0 -= 128', k(ALU, 0x10, 0, 128), '2d 80 00 00 00', ['sub eax, 0x80']],
    ['w1 -= 128', k(ALU, 0x10, 1, 128), '81 ef 80 00 00 00', ['sub edi, 0x80']],
    ['w5 -= 128', k(ALU, 0x10, 5, 128), '41 81 e8 80 00 00 00', ['sub r8d, 0x80']],
    ['w0 &= 128', k(ALU, 0x50, 0, 128), '25 80 00 00 00', ['and eax, 0x80']],
    ['w1 &= 128', k(ALU, 0x50, 1, 128), '81 e7 80 00 00 00', ['and edi, 0x80']],
    ['w0 |= 128', k(ALU, 0x40, 0, 128), '0d 80 00 00 00', ['or eax, 0x80']],
    ['w1 |= 128', k(ALU, 0x40, 1, 128), '81 cf 80 00 00 00', ['or edi, 0x80']],
    ['w0 ^= 128', k(ALU, 0xa0, 0, 128), '35 80 00 00 00', ['xor eax, 0x80']],
    ['w1 ^= 128', k(ALU, 0xa0, 1, 128), '81 f7 80 00 00 00', ['xor edi, 0x80']],
  ]);
});

describe('§3.5 NEG', () => {
  const neg = (cls: number, d: number) => mk(cls | 0x80, d);
  table([
    ['r0 = -r0', neg(ALU64, 0), '48 f7 d8', ['neg rax']],
    ['r5 = -r5', neg(ALU64, 5), '49 f7 d8', ['neg r8']],
    ['r1 = -r1', neg(ALU64, 1), '48 f7 df', ['neg rdi']],
    ['r9 = -r9', neg(ALU64, 9), '49 f7 df', ['neg r15']],
    ['w0 = -w0', neg(ALU, 0), 'f7 d8', ['neg eax']],
    ['w5 = -w5', neg(ALU, 5), '41 f7 d8', ['neg r8d']],
    ['w1 = -w1', neg(ALU, 1), 'f7 df', ['neg edi']],
    ['w9 = -w9', neg(ALU, 9), '41 f7 df', ['neg r15d']],
  ]);
});

describe('§3.7 MUL through rax/rdx/r11 (no imul in 5.10)', () => {
  const mulK = (cls: number, d: number, k: number) => mk(cls | 0x20, d, 0, 0, k);
  const mulX = (cls: number, d: number, s: number) => mk(cls | 0x28, d, s);
  table([
    ['r0 *= 3', mulK(ALU64, 0, 3), '52 49 89 c3 b8 03 00 00 00 49 f7 e3 5a', ['push rdx', 'mov r11, rax', 'mov eax, 0x3', 'mul r11', 'pop rdx']],
    ['r0 *= -3 (sign-propagating imm)', mulK(ALU64, 0, -3), '52 49 89 c3 48 c7 c0 fd ff ff ff 49 f7 e3 5a'],
    ['r0 *= 0', mulK(ALU64, 0, 0), '52 49 89 c3 31 c0 49 f7 e3 5a'],
    ['r3 *= 3 (rdx neither saved nor restored)', mulK(ALU64, 3, 3), '50 49 89 d3 b8 03 00 00 00 49 f7 e3 48 89 c2 58', ['push rax', 'mov r11, rdx', 'mov eax, 0x3', 'mul r11', 'mov rdx, rax', 'pop rax']],
    ['r1 *= 3', mulK(ALU64, 1, 3), '50 52 49 89 fb b8 03 00 00 00 49 f7 e3 5a 48 89 c7 58'],
    ['r5 *= 3', mulK(ALU64, 5, 3), '50 52 4d 89 c3 b8 03 00 00 00 49 f7 e3 5a 49 89 c0 58'],
    ['r6 *= 7', mulK(ALU64, 6, 7), '50 52 49 89 db b8 07 00 00 00 49 f7 e3 5a 48 89 c3 58'],
    ['w0 *= -3 (no sign propagation)', mulK(ALU, 0, -3), '52 49 89 c3 b8 fd ff ff ff 41 f7 e3 5a', ['push rdx', 'mov r11, rax', 'mov eax, 0xfffffffd', 'mul r11d', 'pop rdx']],
    ['w1 *= 3', mulK(ALU, 1, 3), '50 52 49 89 fb b8 03 00 00 00 41 f7 e3 5a 48 89 c7 58'],
    ['r0 *= r0 (64-bit mov elided)', mulX(ALU64, 0, 0), '52 49 89 c3 49 f7 e3 5a'],
    ['r0 *= r3', mulX(ALU64, 0, 3), '52 49 89 c3 48 89 d0 49 f7 e3 5a'],
    ['r3 *= r0', mulX(ALU64, 3, 0), '50 49 89 d3 49 f7 e3 48 89 c2 58'],
    ['r1 *= r7', mulX(ALU64, 1, 7), '50 52 49 89 fb 4c 89 e8 49 f7 e3 5a 48 89 c7 58', ['push rax', 'push rdx', 'mov r11, rdi', 'mov rax, r13', 'mul r11', 'pop rdx', 'mov rdi, rax', 'pop rax']],
    ['r9 *= r9', mulX(ALU64, 9, 9), '50 52 4d 89 fb 4c 89 f8 49 f7 e3 5a 49 89 c7 58'],
    ['w0 *= w0 (32-bit mov kept)', mulX(ALU, 0, 0), '52 49 89 c3 89 c0 41 f7 e3 5a'],
    ['w1 *= w7', mulX(ALU, 1, 7), '50 52 49 89 fb 44 89 e8 41 f7 e3 5a 48 89 c7 58'],
    ['w5 *= w5', mulX(ALU, 5, 5), '50 52 4d 89 c3 44 89 c0 41 f7 e3 5a 49 89 c0 58'],
  ]);
});

describe('§3.8 DIV and MOD (unsigned) through rax/rdx/r11', () => {
  const k = (cls: number, op: number, d: number, imm: number) => mk(cls | op, d, 0, 0, imm);
  const x = (cls: number, op: number, d: number, s: number) => mk(cls | op | 0x08, d, s);
  const DIV = 0x30;
  const MOD = 0x90;
  table([
    ['r0 /= 3', k(ALU64, DIV, 0, 3), '50 52 49 c7 c3 03 00 00 00 31 d2 49 f7 f3 49 89 c3 5a 58 4c 89 d8',
      ['push rax', 'push rdx', 'mov r11, 0x3', 'xor edx, edx', 'div r11', 'mov r11, rax', 'pop rdx', 'pop rax', 'mov rax, r11']],
    ['r0 %= 3', k(ALU64, MOD, 0, 3), '50 52 49 c7 c3 03 00 00 00 31 d2 49 f7 f3 49 89 d3 5a 58 4c 89 d8'],
    ['r3 /= 3', k(ALU64, DIV, 3, 3), '50 52 49 c7 c3 03 00 00 00 48 89 d0 31 d2 49 f7 f3 49 89 c3 5a 58 4c 89 da'],
    ['r7 /= 3', k(ALU64, DIV, 7, 3), '50 52 49 c7 c3 03 00 00 00 4c 89 e8 31 d2 49 f7 f3 49 89 c3 5a 58 4d 89 dd'],
    ['r1 /= -3 (K sign-extended into r11)', k(ALU64, DIV, 1, -3), '50 52 49 c7 c3 fd ff ff ff 48 89 f8 31 d2 49 f7 f3 49 89 c3 5a 58 4c 89 df'],
    ['w0 /= 3', k(ALU, DIV, 0, 3), '50 52 49 c7 c3 03 00 00 00 31 d2 41 f7 f3 49 89 c3 5a 58 4c 89 d8'],
    ['w7 %= 3', k(ALU, MOD, 7, 3), '50 52 49 c7 c3 03 00 00 00 4c 89 e8 31 d2 41 f7 f3 49 89 d3 5a 58 4d 89 dd'],
    ['r0 /= r0', x(ALU64, DIV, 0, 0), '50 52 49 89 c3 31 d2 49 f7 f3 49 89 c3 5a 58 4c 89 d8'],
    ['r0 /= r3', x(ALU64, DIV, 0, 3), '50 52 49 89 d3 31 d2 49 f7 f3 49 89 c3 5a 58 4c 89 d8'],
    ['r3 /= r0', x(ALU64, DIV, 3, 0), '50 52 49 89 c3 48 89 d0 31 d2 49 f7 f3 49 89 c3 5a 58 4c 89 da'],
    ['r1 /= r7', x(ALU64, DIV, 1, 7), '50 52 4d 89 eb 48 89 f8 31 d2 49 f7 f3 49 89 c3 5a 58 4c 89 df'],
    ['r7 %= r7', x(ALU64, MOD, 7, 7), '50 52 4d 89 eb 4c 89 e8 31 d2 49 f7 f3 49 89 d3 5a 58 4d 89 dd'],
    ['w1 %= w2', x(ALU, MOD, 1, 2), '50 52 49 89 f3 48 89 f8 31 d2 41 f7 f3 49 89 d3 5a 58 4c 89 df',
      ['push rax', 'push rdx', 'mov r11, rsi', 'mov rax, rdi', 'xor edx, edx', 'div r11d', 'mov r11, rdx', 'pop rdx', 'pop rax', 'mov rdi, r11']],
  ]);

  it("the verifier's DIV X guard as the JIT sees it (r3 /= r3)", () => {
    const guarded = [mk(0x55, 3, 0, 2, 0), mk(0xac, 3, 3), mk(0x05, 0, 0, 1), x(ALU64, DIV, 3, 3)];
    const got = codeOf(guarded);
    expect(hex(got.subarray(0, 9))).toBe(hex(unhex('48 85 d2 75 04 31 d2 eb 15')));
    expect(got.length - 9).toBe(21);
  });

  it("the verifier's 32-bit MOD X guard as the JIT sees it (w0 %= w0)", () => {
    const guarded = [mk(0x16, 0, 0, 2, 0), x(ALU, MOD, 0, 0), mk(0x05, 0, 0, 1), mk(0xbc, 0, 0)];
    const got = codeOf(guarded);
    expect(hex(got.subarray(0, 4))).toBe(hex(unhex('85 c0 74 14')));
    expect(hex(got.subarray(4 + 18))).toBe(hex(unhex('eb 02 89 c0')));
  });
});

describe('§3.9 shifts by an immediate', () => {
  const sh = (cls: number, op: number, d: number, k: number) => mk(cls | op, d, 0, 0, k);
  const [LSH, RSH, ARSH] = [0x60, 0x70, 0xc0];
  table([
    ['r0 <<= 0 is still emitted', sh(ALU64, LSH, 0, 0), '48 c1 e0 00', ['shl rax, 0x0']],
    ['r0 <<= 1 takes d1', sh(ALU64, LSH, 0, 1), '48 d1 e0', ['shl rax, 0x1']],
    ['r0 <<= 5', sh(ALU64, LSH, 0, 5), '48 c1 e0 05', ['shl rax, 0x5']],
    ['r5 <<= 0', sh(ALU64, LSH, 5, 0), '49 c1 e0 00', ['shl r8, 0x0']],
    ['r5 <<= 1', sh(ALU64, LSH, 5, 1), '49 d1 e0', ['shl r8, 0x1']],
    ['r0 >>= 5', sh(ALU64, RSH, 0, 5), '48 c1 e8 05', ['shr rax, 0x5']],
    ['r0 s>>= 1', sh(ALU64, ARSH, 0, 1), '48 d1 f8', ['sar rax, 0x1']],
    ['r5 s>>= 5', sh(ALU64, ARSH, 5, 5), '49 c1 f8 05', ['sar r8, 0x5']],
    ['r6 <<= 32', sh(ALU64, LSH, 6, 32), '48 c1 e3 20', ['shl rbx, 0x20']],
    ['w0 <<= 0', sh(ALU, LSH, 0, 0), 'c1 e0 00', ['shl eax, 0x0']],
    ['w0 <<= 1', sh(ALU, LSH, 0, 1), 'd1 e0', ['shl eax, 0x1']],
    ['w0 <<= 5', sh(ALU, LSH, 0, 5), 'c1 e0 05', ['shl eax, 0x5']],
    ['w5 <<= 5', sh(ALU, LSH, 5, 5), '41 c1 e0 05', ['shl r8d, 0x5']],
    ['w0 >>= 1', sh(ALU, RSH, 0, 1), 'd1 e8', ['shr eax, 0x1']],
    ['w5 s>>= 1', sh(ALU, ARSH, 5, 1), '41 d1 f8', ['sar r8d, 0x1']],
  ]);
});

describe('§3.10 shifts by a register (count in cl)', () => {
  const sh = (cls: number, op: number, d: number, s: number) => mk(cls | op | 0x08, d, s);
  const [LSH, RSH, ARSH] = [0x60, 0x70, 0xc0];
  table([
    ['r1 <<= r2', sh(ALU64, LSH, 1, 2), '51 48 89 f1 48 d3 e7 59', ['push rcx', 'mov rcx, rsi', 'shl rdi, cl', 'pop rcx']],
    ['r1 <<= r4 needs no juggling', sh(ALU64, LSH, 1, 4), '48 d3 e7', ['shl rdi, cl']],
    ['r9 <<= r4', sh(ALU64, LSH, 9, 4), '49 d3 e7', ['shl r15, cl']],
    ['r4 <<= r2 shifts r11', sh(ALU64, LSH, 4, 2), '49 89 cb 51 48 89 f1 49 d3 e3 59 4c 89 d9',
      ['mov r11, rcx', 'push rcx', 'mov rcx, rsi', 'shl r11, cl', 'pop rcx', 'mov rcx, r11']],
    ['r4 <<= r4', sh(ALU64, LSH, 4, 4), '49 89 cb 49 d3 e3 4c 89 d9', ['mov r11, rcx', 'shl r11, cl', 'mov rcx, r11']],
    ['r5 <<= r7', sh(ALU64, LSH, 5, 7), '51 4c 89 e9 49 d3 e0 59'],
    ['r0 s>>= r9', sh(ALU64, ARSH, 0, 9), '51 4c 89 f9 48 d3 f8 59'],
    ['r4 >>= r9', sh(ALU64, RSH, 4, 9), '49 89 cb 51 4c 89 f9 49 d3 eb 59 4c 89 d9'],
    ['w1 <<= w2 (the rcx copy is 64-bit)', sh(ALU, LSH, 1, 2), '51 48 89 f1 d3 e7 59', ['push rcx', 'mov rcx, rsi', 'shl edi, cl', 'pop rcx']],
    ['w4 <<= w2', sh(ALU, LSH, 4, 2), '49 89 cb 51 48 89 f1 41 d3 e3 59 4c 89 d9'],
    ['w0 >>= w9', sh(ALU, RSH, 0, 9), '51 4c 89 f9 d3 e8 59'],
    ['w9 s>>= w4', sh(ALU, ARSH, 9, 4), '41 d3 ff', ['sar r15d, cl']],
  ]);
});

describe('§3.11 BPF_END', () => {
  const be = (d: number, bits: number) => mk(0xdc, d, 0, 0, bits);
  const le = (d: number, bits: number) => mk(0xd4, d, 0, 0, bits);
  table([
    ['be16 r0', be(0, 16), '66 c1 c8 08 0f b7 c0', ['ror ax, 0x8', 'movzx eax, ax']],
    ['be16 r1', be(1, 16), '66 c1 cf 08 0f b7 ff', ['ror di, 0x8', 'movzx edi, di']],
    ['be16 r5', be(5, 16), '66 41 c1 c8 08 45 0f b7 c0', ['ror r8w, 0x8', 'movzx r8d, r8w']],
    ['be32 r0', be(0, 32), '0f c8', ['bswap eax']],
    ['be32 r1', be(1, 32), '0f cf', ['bswap edi']],
    ['be32 r5', be(5, 32), '41 0f c8', ['bswap r8d']],
    ['be64 r0', be(0, 64), '48 0f c8', ['bswap rax']],
    ['be64 r9', be(9, 64), '49 0f cf', ['bswap r15']],
    ['le16 r0', le(0, 16), '0f b7 c0', ['movzx eax, ax']],
    ['le16 r9', le(9, 16), '45 0f b7 ff', ['movzx r15d, r15w']],
    ['le32 r0', le(0, 32), '89 c0', ['mov eax, eax']],
    ['le32 r1', le(1, 32), '89 ff', ['mov edi, edi']],
    ['le32 r5', le(5, 32), '45 89 c0', ['mov r8d, r8d']],
    ['le64 emits nothing', le(0, 64), '', []],
  ]);
});
