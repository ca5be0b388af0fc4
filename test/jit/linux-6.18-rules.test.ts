// The linux-6.18 profile's instruction rules one by one: bytes derived by hand from the x86
// encodings in the comments (Intel SDM), iced-x86's disassembly as a second reading. Every row's
// form also occurs in a 6.18.44 host image that linux-6.18-isa.test.ts reproduces byte for byte
// (programs/isa: movsx, sdiv, bswap, ldsx, gotol, acqrel; test/jit/oracle: jit_shift, jit_alu).
import { describe, expect, it } from 'vitest';
import { width, type Insn } from '../../src/isa/insn.js';
import { PROFILES, type Profile } from '../../src/profile/index.js';
import { disasm, hex, mk, unhex } from './fixtures.js';
import { EXIT, jit1 } from './helpers.js';

const P618 = PROFILES['linux-6.18'];
const P61 = PROFILES['linux-6.1'];

function codeOf(insns: readonly Insn[], profile: Profile = P618, cpu: { bmi2?: boolean } = {}): Uint8Array {
  const f = jit1([...insns, EXIT], {}, { cpu }, profile).funcs[0];
  const slots = insns.reduce((n, i) => n + width(i), 0);
  return f.image.slice(f.addrs[0], f.addrs[slots]);
}

type Row = readonly [name: string, insn: Insn, bytes: string, asm: readonly string[]];
function table(rows: readonly Row[]): void {
  it.each(rows.map((r) => [r[0], r] as const))('%s', (_n, [, i, bytes, asm]) => {
    const got = codeOf([i]);
    expect(hex(got)).toBe(hex(unhex(bytes)));
    expect(disasm(got)).toEqual(asm);
  });
}

describe('movsx (MOV with off 8/16/32): movsx/movsxd, dst in ModRM.reg, src in ModRM.rm', () => {
  table([
    // REX.W 0f be /r, mod 11 reg=rax(0) rm=r14(6, REX.B): 49 0f be c6
    ['r0 = (s8)r8', mk(0xbf, 0, 8, 8), '49 0f be c6', ['movsx rax, r14b']],
    // REX.W 0f bf /r: reg=rdi(7) rm=r13(5): 49 0f bf fd
    ['r1 = (s16)r7', mk(0xbf, 1, 7, 16), '49 0f bf fd', ['movsx rdi, r13w']],
    // REX.W 63 /r, both rdx: c0 | 2 << 3 | 2 = d2; dst == src is still emitted
    ['r3 = (s32)r3', mk(0xbf, 3, 3, 32), '48 63 d2', ['movsxd rdx, edx']],
    // 32-bit from 8 bits always has a REX (40) so that sil/dil are the byte registers
    ['w0 = (s8)w6', mk(0xbc, 0, 6, 8), '40 0f be c3', ['movsx eax, bl']],
    ['w3 = (s8)w1', mk(0xbc, 3, 1, 8), '40 0f be d7', ['movsx edx, dil']],
    // 32-bit from 16 bits: REX only for an ereg (44 = REX.R for r13d)
    ['w7 = (s16)w4', mk(0xbc, 7, 4, 16), '44 0f bf e9', ['movsx r13d, cx']],
    ['w1 = (s16)w2', mk(0xbc, 1, 2, 16), '0f bf fe', ['movsx edi, si']],
  ]);
  it('6.1 refuses movsx (cpu v4, Linux 6.6)', () => {
    expect(() => jit1([mk(0xbf, 0, 1, 8), EXIT], {}, {}, P61)).toThrow(expect.objectContaining({ code: 'jit.unsupported-insn' }));
  });
});

describe('sdiv/smod (off 1): the unsigned sequence with cqo/cdq and idiv (f7 /7)', () => {
  table([
    // dst r0: no push rax; push rdx; r11 = K; cqo (48 99); idiv r11 (49 f7 fb); pop rdx
    ['r0 s/= 3', mk(0x37, 0, 0, 1, 3), '52 49 c7 c3 03 00 00 00 48 99 49 f7 fb 5a',
      ['push rdx', 'mov r11, 0x3', 'cqo', 'idiv r11', 'pop rdx']],
    // 32-bit mod into r0: cdq (99), idiv r11d (41 f7 fb), the remainder from edx
    ['w0 s%= 7', mk(0x94, 0, 0, 1, 7), '52 49 c7 c3 07 00 00 00 99 41 f7 fb 89 d0 5a',
      ['push rdx', 'mov r11, 0x7', 'cdq', 'idiv r11d', 'mov eax, edx', 'pop rdx']],
    // by a register that is neither rax nor rdx: divide by it in place (48 f7 fe = idiv rsi)
    ['r0 s/= r2', mk(0x3f, 0, 2, 1), '52 48 99 48 f7 fe 5a', ['push rdx', 'cqo', 'idiv rsi', 'pop rdx']],
  ]);
});

describe('bswap (ALU64 | END, d7): the bytes of be16/be32/be64', () => {
  table([
    ['bswap16 r5', mk(0xd7, 5, 0, 0, 16), '66 41 c1 c8 08 45 0f b7 c0', ['ror r8w, 0x8', 'movzx r8d, r8w']],
    ['bswap32 r1', mk(0xd7, 1, 0, 0, 32), '0f cf', ['bswap edi']],
    ['bswap64 r9', mk(0xd7, 9, 0, 0, 64), '49 0f cf', ['bswap r15']],
  ]);
});

describe('ldsx (LDX | MEMSX): movsx/movsxd from memory, always REX.W', () => {
  table([
    ['r0 = *(s8 *)(r10 - 8)', mk(0x91, 0, 10, -8), '48 0f be 45 f8', ['movsx rax, byte ptr [rbp-0x8]']],
    // disp32 (-200 is not an imm8), base r13: REX.WB 49, mod 10 reg=rax rm=r13 -> 85
    ['r0 = *(s16 *)(r7 - 200)', mk(0x89, 0, 7, -200), '49 0f bf 85 38 ff ff ff', ['movsx rax, word ptr [r13-0xc8]']],
    ['r9 = *(s32 *)(r6 + 60)', mk(0x81, 9, 6, 60), '4c 63 7b 3c', ['movsxd r15, [rbx+0x3c]']],
  ]);
});

describe('load-acquire / store-release (BPF_ATOMIC imm 0x100 / 0x110): plain loads and stores on x86', () => {
  table([
    ['r0 = load_acquire((u8 *)(r10 - 8))', mk(0xd3, 0, 10, -8, 0x100), '48 0f b6 45 f8', ['movzx rax, byte ptr [rbp-0x8]']],
    ['r5 = load_acquire((u16 *)(r7 - 16))', mk(0xcb, 5, 7, -16, 0x100), '4d 0f b7 45 f0', ['movzx r8, word ptr [r13-0x10]']],
    ['r3 = load_acquire((u64 *)(r10 - 200))', mk(0xdb, 3, 10, -200, 0x100), '48 8b 95 38 ff ff ff', ['mov rdx, [rbp-0xc8]']],
    // a byte store of dil needs a REX (40)
    ['store_release((u8 *)(r10 - 8), r1)', mk(0xd3, 10, 1, -8, 0x110), '40 88 7d f8', ['mov [rbp-0x8], dil']],
    ['store_release((u32 *)(r10 - 24), r9)', mk(0xc3, 10, 9, -24, 0x110), '44 89 7d e8', ['mov [rbp-0x18], r15d']],
  ]);
});

describe('shifts by a register with BMI2: shlx/shrx/sarx dst, dst, src (VEX 0f38 f7)', () => {
  table([
    // c4, [~R ~X ~B m=00010] = e2, [W ~vvvv(rdi=7 -> 1000) L=0 pp=01 (66)] = c1, f7, c0 (rax, rax)
    ['r0 <<= r1', mk(0x6f, 0, 1), 'c4 e2 c1 f7 c0', ['shlx rax, rax, rdi']],
    // shrx is pp = 11 (f2); src r8 = 8 -> ~vvvv 0111; dst r15: R and B cleared (42)
    ['r9 >>= r5', mk(0x7f, 9, 5), 'c4 42 bb f7 ff', ['shrx r15, r15, r8']],
    // sarx, 32-bit (W = 0), pp = 10 (f3)
    ['w3 s>>= w2', mk(0xcc, 3, 2), 'c4 e2 4a f7 d2', ['sarx edx, edx, esi']],
    // a count already in rcx (r4) keeps shl ..., cl; r4 by r4 is just that (no r11 detour)
    ['r0 <<= r4', mk(0x6f, 0, 4), '48 d3 e0', ['shl rax, cl']],
    ['r4 <<= r4', mk(0x6f, 4, 4), '48 d3 e1', ['shl rcx, cl']],
  ]);
  it('without BMI2 the count goes through cl as on 6.1', () => {
    expect(hex(codeOf([mk(0x6f, 0, 1)], P618, { bmi2: false }))).toBe(hex(unhex('51 48 89 f9 48 d3 e0 59')));
  });
});

describe('ld_imm64 of a sign-extended 32-bit value: the 7-byte mov (6.18), movabs on 6.1', () => {
  const lddw = (dst: number, lo: number, hi: number): Insn => ({ ...mk(0x18, dst, 0, 0, lo), immHi: hi });
  it('r0 = 0xffffffff80000000', () => {
    expect(hex(codeOf([lddw(0, 0x80000000 | 0, -1)]))).toBe(hex(unhex('48 c7 c0 00 00 00 80')));
    expect(hex(codeOf([lddw(0, 0x80000000 | 0, -1)], P61))).toBe(hex(unhex('48 b8 00 00 00 80 ff ff ff ff')));
  });
  it('r0 = 0xffffffff7fffffff does not fit an s32: movabs', () => {
    expect(hex(codeOf([lddw(0, 0x7fffffff, -1)]))).toBe(hex(unhex('48 b8 ff ff ff 7f ff ff ff ff')));
  });
});
