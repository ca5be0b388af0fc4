// x86-jit.md §4: LDX, STX, ST, XADD, NOSPEC; the spec's checked bytes with their disassembly.
import { describe, expect, it } from 'vitest';
import type { Insn } from '../../src/isa/insn.js';
import { disasm, hex, lengths, mk, unhex } from './fixtures.js';
import { code1 } from './helpers.js';

type Row = readonly [name: string, insn: Insn, bytes: string, asm?: string];

function table(rows: readonly Row[]): void {
  it.each(rows.map((r) => [r[0], r] as const))('%s', (_n, [, i, bytes, asm]) => {
    const got = code1(i);
    expect(hex(got)).toBe(hex(unhex(bytes)));
    if (asm !== undefined) expect(disasm(got)).toEqual([asm]);
  });
}

const [B, H, W, DW] = [0x10, 0x08, 0x00, 0x18];
const ldx = (size: number, d: number, s: number, off: number) => mk(0x61 | size, d, s, off);
const stx = (size: number, d: number, s: number, off: number) => mk(0x63 | size, d, s, off);
const st = (size: number, d: number, off: number, k: number) => mk(0x62 | size, d, 0, off, k);
const xadd = (size: number, d: number, s: number, off: number) => mk(0xc3 | size, d, s, off);

describe('§4.1 LDX (movzx with REX.W for B/H, mov r32 for W)', () => {
  table([
    ['r0 = u8 [r10-8]', ldx(B, 0, 10, -8), '48 0f b6 45 f8', 'movzx rax, byte ptr [rbp-0x8]'],
    ['r1 = u8 [r10-8]', ldx(B, 1, 10, -8), '48 0f b6 7d f8', 'movzx rdi, byte ptr [rbp-0x8]'],
    ['r5 = u8 [r10-8]', ldx(B, 5, 10, -8), '4c 0f b6 45 f8', 'movzx r8, byte ptr [rbp-0x8]'],
    ['r0 = u8 [r10-200] (disp32)', ldx(B, 0, 10, -200), '48 0f b6 85 38 ff ff ff', 'movzx rax, byte ptr [rbp-0xc8]'],
    ['r0 = u8 [r7+8] (base r13)', ldx(B, 0, 7, 8), '49 0f b6 45 08', 'movzx rax, byte ptr [r13+0x8]'],
    ['r5 = u8 [r7+8]', ldx(B, 5, 7, 8), '4d 0f b6 45 08', 'movzx r8, byte ptr [r13+0x8]'],
    ['r5 = u8 [r5+0] keeps the 0 displacement', ldx(B, 5, 5, 0), '4d 0f b6 40 00', 'movzx r8, byte ptr [r8]'],
    ['r0 = u16 [r10-8]', ldx(H, 0, 10, -8), '48 0f b7 45 f8', 'movzx rax, word ptr [rbp-0x8]'],
    ['r9 = u16 [r10-8]', ldx(H, 9, 10, -8), '4c 0f b7 7d f8', 'movzx r15, word ptr [rbp-0x8]'],
    ['r0 = u32 [r10-8]', ldx(W, 0, 10, -8), '8b 45 f8', 'mov eax, [rbp-0x8]'],
    ['r1 = u32 [r10-8]', ldx(W, 1, 10, -8), '8b 7d f8', 'mov edi, [rbp-0x8]'],
    ['r5 = u32 [r10-8]', ldx(W, 5, 10, -8), '44 8b 45 f8', 'mov r8d, [rbp-0x8]'],
    ['r0 = u32 [r10-200]', ldx(W, 0, 10, -200), '8b 85 38 ff ff ff', 'mov eax, [rbp-0xc8]'],
    ['r0 = u32 [r7+8]', ldx(W, 0, 7, 8), '41 8b 45 08', 'mov eax, [r13+0x8]'],
    ['r5 = u32 [r7+8]', ldx(W, 5, 7, 8), '45 8b 45 08', 'mov r8d, [r13+0x8]'],
    ['r0 = u32 [r6-16] (base rbx)', ldx(W, 0, 6, -16), '8b 43 f0', 'mov eax, [rbx-0x10]'],
    ['r0 = u64 [r10-8]', ldx(DW, 0, 10, -8), '48 8b 45 f8', 'mov rax, [rbp-0x8]'],
    ['r5 = u64 [r10-8]', ldx(DW, 5, 10, -8), '4c 8b 45 f8', 'mov r8, [rbp-0x8]'],
    ['r0 = u64 [r10-200]', ldx(DW, 0, 10, -200), '48 8b 85 38 ff ff ff', 'mov rax, [rbp-0xc8]'],
    ['r0 = u64 [r7+8]', ldx(DW, 0, 7, 8), '49 8b 45 08', 'mov rax, [r13+0x8]'],
    ['r5 = u64 [r7+8]', ldx(DW, 5, 7, 8), '4d 8b 45 08', 'mov r8, [r13+0x8]'],
    ['PROBE_MEM has the MEM bytes (r0 = u64 [r1+8])', mk(0x39, 0, 1, 8), '48 8b 47 08', 'mov rax, [rdi+0x8]'],
  ]);

  it('takes disp8 for -128..127 and disp32 outside: 48 8b 45 d8 (4 bytes) or 48 8b 85 d32 (7)', () => {
    expect([-128, 127, -129, 128, 0].map((off) => lengths(code1(ldx(DW, 0, 10, off))))).toEqual([[4], [4], [7], [7], [4]]);
  });
});

describe('§4.3 STX (REX for dil/sil/bpl byte stores)', () => {
  table([
    ['u8 [r10-8] = r1 needs a bare REX (dil)', stx(B, 10, 1, -8), '40 88 7d f8', 'mov [rbp-0x8], dil'],
    ['u8 [r10-8] = r2 (sil)', stx(B, 10, 2, -8), '40 88 75 f8', 'mov [rbp-0x8], sil'],
    ['u8 [r10-8] = r3 (dl, no REX)', stx(B, 10, 3, -8), '88 55 f8', 'mov [rbp-0x8], dl'],
    ['u8 [r10-8] = r4 (cl)', stx(B, 10, 4, -8), '88 4d f8', 'mov [rbp-0x8], cl'],
    ['u8 [r10-8] = r0 (al)', stx(B, 10, 0, -8), '88 45 f8', 'mov [rbp-0x8], al'],
    ['u8 [r10-8] = r5 (r8b)', stx(B, 10, 5, -8), '44 88 45 f8', 'mov [rbp-0x8], r8b'],
    ['u8 [r10-8] = r9 (r15b)', stx(B, 10, 9, -8), '44 88 7d f8', 'mov [rbp-0x8], r15b'],
    ['u8 [r10-200] = r1', stx(B, 10, 1, -200), '40 88 bd 38 ff ff ff', 'mov [rbp-0xc8], dil'],
    ['u8 [r6-16] = r1 (base rbx)', stx(B, 6, 1, -16), '40 88 7b f0', 'mov [rbx-0x10], dil'],
    ['u8 [r7+8] = r1: REX.B only', stx(B, 7, 1, 8), '41 88 7d 08', 'mov [r13+0x8], dil'],
    ['u8 [r7+8] = r5', stx(B, 7, 5, 8), '45 88 45 08', 'mov [r13+0x8], r8b'],
    ['u8 [r7+200] = r1', stx(B, 7, 1, 200), '41 88 bd c8 00 00 00', 'mov [r13+0xc8], dil'],
    ['u16 [r10-8] = r1', stx(H, 10, 1, -8), '66 89 7d f8', 'mov [rbp-0x8], di'],
    ['u16 [r10-8] = r5: 66 before REX', stx(H, 10, 5, -8), '66 44 89 45 f8', 'mov [rbp-0x8], r8w'],
    ['u16 [r10-200] = r1', stx(H, 10, 1, -200), '66 89 bd 38 ff ff ff', 'mov [rbp-0xc8], di'],
    ['u16 [r7+8] = r1', stx(H, 7, 1, 8), '66 41 89 7d 08', 'mov [r13+0x8], di'],
    ['u16 [r7+8] = r5', stx(H, 7, 5, 8), '66 45 89 45 08', 'mov [r13+0x8], r8w'],
    ['u32 [r10-8] = r1', stx(W, 10, 1, -8), '89 7d f8', 'mov [rbp-0x8], edi'],
    ['u32 [r10-8] = r5', stx(W, 10, 5, -8), '44 89 45 f8', 'mov [rbp-0x8], r8d'],
    ['u32 [r10-200] = r1', stx(W, 10, 1, -200), '89 bd 38 ff ff ff', 'mov [rbp-0xc8], edi'],
    ['u32 [r7+8] = r1', stx(W, 7, 1, 8), '41 89 7d 08', 'mov [r13+0x8], edi'],
    ['u32 [r7+200] = r5', stx(W, 7, 5, 200), '45 89 85 c8 00 00 00', 'mov [r13+0xc8], r8d'],
    ['u64 [r10-8] = r1', stx(DW, 10, 1, -8), '48 89 7d f8', 'mov [rbp-0x8], rdi'],
    ['u64 [r10-8] = r5', stx(DW, 10, 5, -8), '4c 89 45 f8', 'mov [rbp-0x8], r8'],
    ['u64 [r10-200] = r1', stx(DW, 10, 1, -200), '48 89 bd 38 ff ff ff', 'mov [rbp-0xc8], rdi'],
    ['u64 [r7+8] = r1', stx(DW, 7, 1, 8), '49 89 7d 08', 'mov [r13+0x8], rdi'],
    ['u64 [r7+200] = r5', stx(DW, 7, 5, 200), '4d 89 85 c8 00 00 00', 'mov [r13+0xc8], r8'],
    ['u64 [r10-16] = r10 (spill of the frame pointer)', stx(DW, 10, 10, -16), '48 89 6d f0', 'mov [rbp-0x10], rbp'],
  ]);
});

describe('§4.4 ST (immediate of the access size, DW sign-extends an imm32)', () => {
  table([
    ['u8 [r10-8] = 0x11', st(B, 10, -8, 0x11), 'c6 45 f8 11', 'mov byte ptr [rbp-0x8], 0x11'],
    ['u8 [r10-200] = 0x11', st(B, 10, -200, 0x11), 'c6 85 38 ff ff ff 11', 'mov byte ptr [rbp-0xc8], 0x11'],
    ['u8 [r7+8] = 0x11', st(B, 7, 8, 0x11), '41 c6 45 08 11', 'mov byte ptr [r13+0x8], 0x11'],
    ['u8 [r6-32] = 0x11', st(B, 6, -32, 0x11), 'c6 43 e0 11', 'mov byte ptr [rbx-0x20], 0x11'],
    ['u16 [r10-8] = 0x2233', st(H, 10, -8, 0x2233), '66 c7 45 f8 33 22', 'mov word ptr [rbp-0x8], 0x2233'],
    ['u16 [r10-200] = 0x2233', st(H, 10, -200, 0x2233), '66 c7 85 38 ff ff ff 33 22', 'mov word ptr [rbp-0xc8], 0x2233'],
    ['u16 [r7+8] = 0x2233', st(H, 7, 8, 0x2233), '66 41 c7 45 08 33 22', 'mov word ptr [r13+0x8], 0x2233'],
    ['u32 [r10-8] = 0x44556677', st(W, 10, -8, 0x44556677), 'c7 45 f8 77 66 55 44', 'mov dword ptr [rbp-0x8], 0x44556677'],
    ['u32 [r7+8] = 0x44556677', st(W, 7, 8, 0x44556677), '41 c7 45 08 77 66 55 44', 'mov dword ptr [r13+0x8], 0x44556677'],
    ['u64 [r10-8] = 0', st(DW, 10, -8, 0), '48 c7 45 f8 00 00 00 00', 'mov qword ptr [rbp-0x8], 0x0'],
    ['u64 [r10-200] = 0', st(DW, 10, -200, 0), '48 c7 85 38 ff ff ff 00 00 00 00', 'mov qword ptr [rbp-0xc8], 0x0'],
    ['u64 [r7+8] = -5', st(DW, 7, 8, -5), '49 c7 45 08 fb ff ff ff', 'mov qword ptr [r13+0x8], 0xfffffffffffffffb'],
    ['u64 [r6-32] = -5', st(DW, 6, -32, -5), '48 c7 43 e0 fb ff ff ff', 'mov qword ptr [rbx-0x20], 0xfffffffffffffffb'],
  ]);
});

describe('§4.5 XADD (lock add, the only atomic of 5.10)', () => {
  table([
    ['lock u32 [r10-8] += r1', xadd(W, 10, 1, -8), 'f0 01 7d f8', 'lock add [rbp-0x8], edi'],
    ['lock u32 [r10-8] += r5', xadd(W, 10, 5, -8), 'f0 44 01 45 f8', 'lock add [rbp-0x8], r8d'],
    ['lock u32 [r10-8] += r0', xadd(W, 10, 0, -8), 'f0 01 45 f8', 'lock add [rbp-0x8], eax'],
    ['lock u32 [r10-200] += r1', xadd(W, 10, 1, -200), 'f0 01 bd 38 ff ff ff', 'lock add [rbp-0xc8], edi'],
    ['lock u32 [r7-8] += r1', xadd(W, 7, 1, -8), 'f0 41 01 7d f8', 'lock add [r13-0x8], edi'],
    ['lock u32 [r7-8] += r5', xadd(W, 7, 5, -8), 'f0 45 01 45 f8', 'lock add [r13-0x8], r8d'],
    ['lock u64 [r10-8] += r1', xadd(DW, 10, 1, -8), 'f0 48 01 7d f8', 'lock add [rbp-0x8], rdi'],
    ['lock u64 [r10-8] += r5', xadd(DW, 10, 5, -8), 'f0 4c 01 45 f8', 'lock add [rbp-0x8], r8'],
    ['lock u64 [r10-200] += r0', xadd(DW, 10, 0, -200), 'f0 48 01 85 38 ff ff ff', 'lock add [rbp-0xc8], rax'],
    ['lock u64 [r7-8] += r1', xadd(DW, 7, 1, -8), 'f0 49 01 7d f8', 'lock add [r13-0x8], rdi'],
    ['lock u64 [r7-8] += r5', xadd(DW, 7, 5, -8), 'f0 4d 01 45 f8', 'lock add [r13-0x8], r8'],
  ]);
});

describe('§4.6 NOSPEC', () => {
  it('is lfence on a CPU with SSE2', () => {
    expect(hex(code1(mk(0xc2)))).toBe('0faee8');
    expect(disasm(code1(mk(0xc2)))).toEqual(['lfence']);
  });
  it('is nothing without SSE2', () => {
    expect(hex(code1(mk(0xc2), { cpu: { sse2: false } }))).toBe('');
  });
  it('matches the unprivileged spill example', () => {
    const seq = [stx(DW, 10, 1, -8), mk(0xc2), stx(DW, 10, 10, -16), mk(0xc2)];
    expect(hex(seq.map((i) => code1(i)).reduce((a, b) => Uint8Array.from([...a, ...b])))).toBe(hex(unhex('48 89 7d f8 0f ae e8 48 89 6d f0 0f ae e8')));
  });
});
