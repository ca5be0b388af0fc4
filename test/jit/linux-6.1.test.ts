// The linux-6.1 profile's JIT rules one by one (x86-jit.md §8, tailcalls.md §9.1): the bytes each
// rule gives, derived by hand from the encodings quoted in the comments, with iced-x86's
// disassembly as a second reading. Every rule here is also exercised by the 6.1.192 kernel images
// in oracle.test.ts (test/jit/oracle/expected-6.1.192: jit_muldiv, jit_atomic, jit_jmp, ...).
import { describe, expect, it } from 'vitest';
import { width, type Insn } from '../../src/isa/insn.js';
import { JitError } from '../../src/jit/index.js';
import { PROFILES, type Profile } from '../../src/profile/index.js';
import { REF_SYMBOLS, disasm, hex, mk, unhex } from './fixtures.js';
import { EXIT, IMAGE, P510, jit1 } from './helpers.js';

const P61 = PROFILES['linux-6.1'];

/** The code of the first instruction of `[insn, ...rest, exit]` under `profile`. */
function codeOf(insns: readonly Insn[], profile: Profile = P61, n = 1): Uint8Array {
  const f = jit1([...insns, EXIT], {}, {}, profile).funcs[0];
  let slots = 0;
  for (let k = 0; k < n; k++) slots += width(insns[k]);
  return f.image.slice(f.addrs[0], f.addrs[slots]);
}

type Row = readonly [name: string, insn: Insn, bytes: string, asm: readonly string[]];

function table(rows: readonly Row[], profile: Profile = P61): void {
  it.each(rows.map((r) => [r[0], r] as const))('%s', (_n, [, i, bytes, asm]) => {
    const got = codeOf([i], profile);
    expect(hex(got)).toBe(hex(unhex(bytes)));
    expect(disasm(got)).toEqual(asm);
  });
}

const add1 = mk(0x07, 0, 0, 0, 1); // r0 += 1: 48 83 c0 01, 4 bytes
const movR0R6 = mk(0xbf, 0, 6); // r0 = r6: 48 89 d8, 3 bytes

describe('MUL is imul, without the rax/rdx/r11 juggling (x86-jit.md §8)', () => {
  // K: maybe_emit_mod(D, D) then 6b /r ib or 69 /r id; X: maybe_emit_mod(S, D) then 0f af /r.
  table([
    ['r0 *= 3', mk(0x27, 0, 0, 0, 3), '48 6b c0 03', ['imul rax, 0x3']],
    ['r0 *= 0x12345 (imm32)', mk(0x27, 0, 0, 0, 0x12345), '48 69 c0 45 23 01 00', ['imul rax, 0x12345']],
    ['r1 *= 1000000', mk(0x27, 1, 0, 0, 1000000), '48 69 ff 40 42 0f 00', ['imul rdi, 0xf4240']],
    ['r5 *= 3 (ereg in both fields: REX.RB)', mk(0x27, 5, 0, 0, 3), '4d 6b c0 03', ['imul r8, 0x3']],
    ['w1 *= -3 (32-bit, no REX)', mk(0x24, 1, 0, 0, -3), '6b ff fd', ['imul edi, 0xfffffffd']],
    ['r0 *= r3', mk(0x2f, 0, 3), '48 0f af c2', ['imul rax, rdx']],
    ['r0 *= r7 (REX.B for the source)', mk(0x2f, 0, 7), '49 0f af c5', ['imul rax, r13']],
    ['w5 *= w1 (REX.R for the destination)', mk(0x2c, 5, 1), '44 0f af c7', ['imul r8d, edi']],
  ]);
});

describe('DIV/MOD save only what dst does not hold and divide in place (x86-jit.md §8)', () => {
  // push rax unless D = r0, push rdx unless D = r3; S = r0/r3 or K go through r11; mov rax, D;
  // xor edx, edx; div; mov D, rdx|rax unless D is it; pops.
  table([
    ['r0 /= r2 (the spec example)', mk(0x3f, 0, 2), '52 31 d2 48 f7 f6 5a', ['push rdx', 'xor edx, edx', 'div rsi', 'pop rdx']],
    ['r1 %= r0 (divisor r0 moves to r11)', mk(0x9f, 1, 0), '50 52 49 89 c3 48 89 f8 31 d2 49 f7 f3 48 89 d7 5a 58',
      ['push rax', 'push rdx', 'mov r11, rax', 'mov rax, rdi', 'xor edx, edx', 'div r11', 'mov rdi, rdx', 'pop rdx', 'pop rax']],
    ['w3 /= 7 (K in r11, dst rdx: no push rdx)', mk(0x34, 3, 0, 0, 7), '50 49 c7 c3 07 00 00 00 89 d0 31 d2 41 f7 f3 89 c2 58',
      ['push rax', 'mov r11, 0x7', 'mov eax, edx', 'xor edx, edx', 'div r11d', 'mov edx, eax', 'pop rax']],
    ['r3 %= r5 (the remainder already is dst)', mk(0x9f, 3, 5), '50 48 89 d0 31 d2 49 f7 f0 58',
      ['push rax', 'mov rax, rdx', 'xor edx, edx', 'div r8', 'pop rax']],
    ['r0 %= 3', mk(0x97, 0, 0, 0, 3), '52 49 c7 c3 03 00 00 00 31 d2 49 f7 f3 48 89 d0 5a',
      ['push rdx', 'mov r11, 0x3', 'xor edx, edx', 'div r11', 'mov rax, rdx', 'pop rdx']],
  ]);
});

describe('BPF_ATOMIC (5.12) as 6.1 emits it (x86-jit.md §8)', () => {
  const atomic = (size: number, d: number, s: number, off: number, op: number) => mk(0xc3 | size, d, s, off, op);
  const [W, DW] = [0x00, 0x18];
  table([
    ['lock add, W', atomic(W, 10, 1, -8, 0x00), 'f0 01 7d f8', ['lock add [rbp-0x8], edi']],
    ['lock or, DW', atomic(DW, 10, 1, -8, 0x40), 'f0 48 09 7d f8', ['lock or [rbp-0x8], rdi']],
    ['lock and, DW', atomic(DW, 10, 1, -8, 0x50), 'f0 48 21 7d f8', ['lock and [rbp-0x8], rdi']],
    ['lock xor, DW', atomic(DW, 10, 1, -8, 0xa0), 'f0 48 31 7d f8', ['lock xor [rbp-0x8], rdi']],
    ['fetch add is lock xadd (W, ereg value)', atomic(W, 10, 5, -8, 0x01), 'f0 44 0f c1 45 f8', ['lock xadd [rbp-0x8], r8d']],
    ['xchg keeps the (redundant) lock prefix', atomic(DW, 7, 1, 8, 0xe1), 'f0 49 87 7d 08', ['lock xchg [r13+0x8], rdi']],
    ['cmpxchg, disp32', atomic(DW, 10, 1, -200, 0xf1), 'f0 48 0f b1 bd 38 ff ff ff', ['lock cmpxchg [rbp-0xc8], rdi']],
    // The loop: park rax in r10, load, op into r11, cmpxchg, jne back 18 bytes, result to src.
    ['fetch or is a cmpxchg loop', atomic(DW, 10, 1, -8, 0x41),
      '49 89 c2 48 8b 45 f8 49 89 c3 49 09 fb f0 4c 0f b1 5d f8 75 ee 48 89 c7 4c 89 d0',
      ['mov r10, rax', 'mov rax, [rbp-0x8]', 'mov r11, rax', 'or r11, rdi', 'lock cmpxchg [rbp-0x8], r11', 'jne 0x3',
        'mov rdi, rax', 'mov rax, r10']],
    // src r0 is read from (and its old value returned through) r10; 32-bit moves; jne back 17.
    ['fetch and with src r0, W', atomic(W, 10, 0, -8, 0x51),
      '49 89 c2 8b 45 f8 41 89 c3 45 21 d3 f0 44 0f b1 5d f8 75 ef 41 89 c2 4c 89 d0',
      ['mov r10, rax', 'mov eax, [rbp-0x8]', 'mov r11d, eax', 'and r11d, r10d', 'lock cmpxchg [rbp-0x8], r11d', 'jne 0x3',
        'mov r10d, eax', 'mov rax, r10']],
    // dst r0 is a base the loop would clobber: the kernel addresses through r10 instead.
    ['fetch xor with dst r0 addresses through r10', atomic(DW, 0, 1, -16, 0xa1),
      '49 89 c2 49 8b 42 f0 49 89 c3 49 31 fb f0 4d 0f b1 5a f0 75 ee 48 89 c7 4c 89 d0',
      ['mov r10, rax', 'mov rax, [r10-0x10]', 'mov r11, rax', 'xor r11, rdi', 'lock cmpxchg [r10-0x10], r11', 'jne 0x3',
        'mov rdi, rax', 'mov rax, r10']],
  ]);
  it('5.10 keeps its XADD, the same bytes as 6.1 add', () => {
    expect(hex(codeOf([atomic(W, 10, 1, -8, 0x00)], P510))).toBe('f0017df8');
  });
});

describe('rel8 only up to +123 (is_imm8_jmp_offset, 6.1.113)', () => {
  // A jgt r1, 5 over mov (3 bytes) + n adds (4 bytes each): displacement 3 + 4n, or 4n without the mov.
  const over = (head: Insn[], n: number): Insn[] => [mk(0x25, 1, 0, head.length + n, 5), ...head, ...Array<Insn>(n).fill(add1)];
  const ja = (head: Insn[], n: number): Insn[] => [mk(0x05, 0, 0, head.length + n), ...head, ...Array<Insn>(n).fill(add1)];
  it.each([
    ['jcc +123: rel8 on both', over([movR0R6], 30), '48 83 ff 05 77 7b', '48 83 ff 05 77 7b'],
    ['jcc +124: rel32 on 6.1, rel8 on 5.10', over([], 31), '48 83 ff 05 0f 87 7c 00 00 00', '48 83 ff 05 77 7c'],
    ['ja +123', ja([movR0R6], 30), 'eb 7b', 'eb 7b'],
    ['ja +124', ja([], 31), 'e9 7c 00 00 00', 'eb 7c'],
  ])('%s', (_n, insns, on61, on510) => {
    expect(hex(codeOf(insns, P61))).toBe(hex(unhex(on61)));
    expect(hex(codeOf(insns, P510))).toBe(hex(unhex(on510)));
  });
  it('backwards, the rel8 range is unchanged', () => {
    // n adds, then jgt back over them and itself. Sized first as rel32: -(4n + 4 + 6); it takes
    // rel8 only if that fits, then settles at -(4n + 6). n = 29: -126 fits, final -122 (86);
    // n = 30: -130 does not, so it stays rel32 at -130, as on 5.10 (x86-jit.md §5.3).
    const loop = (n: number): Insn[] => [...Array<Insn>(n).fill(add1), mk(0x25, 1, 0, -(n + 1), 5)];
    expect(hex(codeOf(loop(29), P61, 30).subarray(116))).toBe('4883ff057786');
    expect(hex(codeOf(loop(30), P61, 31).subarray(120))).toBe('4883ff050f877effffff');
    expect(hex(codeOf(loop(30), P510, 31).subarray(120))).toBe('4883ff050f877effffff');
  });
});

describe('NOP padding from PADDING_PASSES on (x86-jit.md §8)', () => {
  // Padding from pass 1: pass 0 sizes every jump from the 64-byte estimates, pass 1 pads a jump
  // that shrank back to that size, so the image keeps pass 0's layout.
  const padded: Profile = { ...P61, jit: { ...P61.jit, jmpPaddingPass: 1 } };
  it('a jcc that shrank from rel32 to rel8 keeps 10 bytes: cmp, nop4, jcc rel8', () => {
    // Pass 0: target addrs[3] = 256 - addrs[1] = 128 > 123 -> rel32, 4 + 6 bytes. Pass 1: the
    // real distance 8 fits rel8; INSN_SZ_DIFF - 2 = (10 - 4) - 2 = 4 bytes of nop.
    const insns = [mk(0x25, 1, 0, 2, 5), add1, add1];
    expect(hex(codeOf(insns, padded))).toBe(hex(unhex('48 83 ff 05 0f 1f 40 00 77 08')));
    expect(hex(codeOf(insns, P61))).toBe(hex(unhex('48 83 ff 05 77 08')));
  });
  it('a ja that shrank to rel8 keeps 5 bytes: nop3, jmp rel8', () => {
    expect(hex(codeOf([mk(0x05, 0, 0, 2), add1, add1], padded))).toBe(hex(unhex('0f 1f 00 eb 08')));
  });
  it('a ja that vanished keeps its 2 bytes as a nop2', () => {
    // ja +1 over le64 (no code): pass 0 sees 64 bytes (eb 40), pass 1 a 0 displacement.
    expect(hex(codeOf([mk(0x05, 0, 0, 1), mk(0xd4, 0, 0, 0, 64)], padded))).toBe('6690');
    expect(hex(codeOf([mk(0x05, 0, 0, 1), mk(0xd4, 0, 0, 0, 64)], P61))).toBe('');
  });
});

describe('the prologue is its own chunk (x86-jit.md §8)', () => {
  it("an EXIT at instruction 0: the thunk's rel32 counts the prologue once, and later EXITs jump to the epilogue", () => {
    // 6.1: cleanup_addr = proglen = 11; the return's ip = image + 11 + 1 (leave).
    const f = jit1([EXIT, EXIT], {}, {}, P61).funcs[0];
    expect(hex(f.image.subarray(0, 13))).toBe(hex(unhex('0f1f440000 6690 55 4889e5 c9 e9')));
    expect(BigInt(new DataView(f.image.buffer).getInt32(13, true))).toBe(REF_SYMBOLS.returnThunk! - (IMAGE + 12n + 5n));
    expect(hex(f.image.subarray(17))).toBe('ebf8'); // 11 - 19
    // 5.10: cleanup_addr = 0 (the prologue rides with instruction 0), so the jump goes to the start.
    expect(hex(jit1([EXIT, EXIT]).funcs[0].image.subarray(17))).toBe('ebed'); // 0 - 19
  });
});

describe('tail calls and the nop5 (tailcalls.md §9.1)', () => {
  it('the indirect sequence compares with 33 and bails out with jae', () => {
    // tailcalls.md §4.1 with cmp eax, 0x21 (83 f8 21) and jae (73): main function, no stack.
    const f = jit1([mk(0xf5), EXIT], {}, {}, P61).funcs[0];
    const seq = '89d2 395624 762f 8b85fcffffff 83f821 7324 83c001 8985fcffffff 488b8cd610010000 4885c9 740e 58 488b4930 4883c10b e9';
    expect(hex(f.image.subarray(f.addrs[0], f.addrs[0] + 50))).toBe(hex(unhex(seq)));
  });
  it('the nop5 is x86_nops[5] whatever the CPU says; 5.10 takes the CPU\'s', () => {
    const k8 = [0x66, 0x66, 0x90, 0x66, 0x90];
    expect(hex(jit1([EXIT], {}, { cpu: { nop5: k8 } }, P61).funcs[0].image.subarray(0, 5))).toBe('0f1f440000');
    expect(hex(jit1([EXIT], {}, { cpu: { nop5: k8 } }, P510).funcs[0].image.subarray(0, 5))).toBe('6666906690');
  });
  it("the plain indirect jump gets an int3 (CONFIG_RETPOLINE / CONFIG_SLS)", () => {
    const f = jit1([mk(0xf5), EXIT], {}, { cpu: { indirectJump: 'plain' } }, P61).funcs[0];
    expect(hex(f.image.subarray(f.addrs[0] + 49, f.addrs[0] + 52))).toBe('ffe1cc');
  });
});

describe('what else the 6.1 profile accepts or refuses', () => {
  it('gotol (JMP32 | JA, offset in imm) is a backport the 6.1.192 JIT takes like ja', () => {
    expect(hex(codeOf([mk(0x06, 0, 0, 0, 1), add1], P61))).toBe('eb04');
    expect(hex(codeOf([mk(0x06, 0, 0, 0, -1)], P61))).toBe('ebfe');
  });
  it('PROBE_MEM loads are refused: the address guard of 6.1 is not modeled', () => {
    expect(() => jit1([mk(0x39, 0, 1, 8), EXIT], {}, {}, P61)).toThrow(expect.objectContaining({ code: 'jit.unsupported-insn', location: { insn: 0 } }));
    expect(() => jit1([mk(0x39, 0, 1, 8), EXIT], {}, {}, P61)).toThrow(JitError);
  });
  it('cpu v4 forms stay refused (they arrived in 6.6)', () => {
    expect(() => jit1([mk(0xbf, 0, 1, 8), EXIT], {}, {}, P61)).toThrow(expect.objectContaining({ code: 'jit.unsupported-insn', message: expect.stringContaining('Linux 6.6') }));
  });
});
