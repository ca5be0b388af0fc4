// x86-jit.md §5 (jumps), §6 (CALL, EXIT, the return), §7 (passes, addrs[], allocation).
import { describe, expect, it } from 'vitest';
import type { Insn } from '../../src/isa/insn.js';
import { JitError, JitBug, jitProgram } from '../../src/jit/index.js';
import { disasm, hex, ldImm64, mk, REF_SYMBOLS, single, unhex } from './fixtures.js';
import { EXIT, IMAGE, P510, codeOf, jit1 } from './helpers.js';

const JMP = 0x05;
const JMP32 = 0x06;
const add1 = (d: number) => mk(0x07, d, 0, 0, 1); // 4 bytes for r0..r4 (48 83 c0+r 01), r5..r9 (49 83 ..)
const le64 = mk(0xd4, 0, 0, 0, 64); // emits nothing
const ja = (off: number) => mk(0x05, 0, 0, off);

// BPF op -> (x86 jcc mnemonic, rel8 opcode) from x86-jit.md §5.2.
const CONDS: [string, number, string, number][] = [
  ['jeq', 0x10, 'je', 0x74], ['jne', 0x50, 'jne', 0x75], ['jset', 0x40, 'jne', 0x75], ['jgt', 0x20, 'ja', 0x77],
  ['jge', 0x30, 'jae', 0x73], ['jlt', 0xa0, 'jb', 0x72], ['jle', 0xb0, 'jbe', 0x76], ['jsgt', 0x60, 'jg', 0x7f],
  ['jsge', 0x70, 'jge', 0x7d], ['jslt', 0xc0, 'jl', 0x7c], ['jsle', 0xd0, 'jle', 0x7e],
];

/** `if <cond> goto +1; r0 += 1` and the code of the jump (a 4-byte skip). */
const jumpOver4 = (j: Insn): Uint8Array => codeOf([j, add1(0)], 1);

describe('§5.1 the compare part', () => {
  it.each([
    ['r6 == 0 uses test', mk(JMP | 0x10, 6, 0, 1, 0), '48 85 db 74 04', ['test rbx, rbx', 'je 0x9']],
    ['r8 == 0', mk(JMP | 0x10, 8, 0, 1, 0), '4d 85 f6 74 04', ['test r14, r14', 'je 0x9']],
    ['w6 == 0 has no REX', mk(JMP32 | 0x10, 6, 0, 1, 0), '85 db 74 04', ['test ebx, ebx', 'je 0x8']],
    ['w8 == 0 has REX.RB', mk(JMP32 | 0x10, 8, 0, 1, 0), '45 85 f6 74 04', ['test r14d, r14d', 'je 0x9']],
    ['r6 == 5 (imm8)', mk(JMP | 0x10, 6, 0, 1, 5), '48 83 fb 05 74 04', ['cmp rbx, 0x5', 'je 0xa']],
    ['r6 == -5 (imm8)', mk(JMP | 0x10, 6, 0, 1, -5), '48 83 fb fb 74 04', ['cmp rbx, 0xfffffffffffffffb', 'je 0xa']],
    ['r6 == 0x1000 (imm32)', mk(JMP | 0x10, 6, 0, 1, 0x1000), '48 81 fb 00 10 00 00 74 04', ['cmp rbx, 0x1000', 'je 0xd']],
    ['r8 == 5', mk(JMP | 0x10, 8, 0, 1, 5), '49 83 fe 05 74 04'],
    ['r8 == 0x1000', mk(JMP | 0x10, 8, 0, 1, 0x1000), '49 81 fe 00 10 00 00 74 04'],
    ['w6 == 5', mk(JMP32 | 0x10, 6, 0, 1, 5), '83 fb 05 74 04'],
    ['w8 == 5', mk(JMP32 | 0x10, 8, 0, 1, 5), '41 83 fe 05 74 04'],
    ['w6 == 0x1000', mk(JMP32 | 0x10, 6, 0, 1, 0x1000), '81 fb 00 10 00 00 74 04'],
    ['w8 == 0x1000', mk(JMP32 | 0x10, 8, 0, 1, 0x1000), '41 81 fe 00 10 00 00 74 04'],
    ['r0 == 0x1000 has no eax short form', mk(JMP | 0x10, 0, 0, 1, 0x1000), '48 81 f8 00 10 00 00 74 04'],
    ['r6 & 0 (JSET K: always imm32)', mk(JMP | 0x40, 6, 0, 1, 0), '48 f7 c3 00 00 00 00 75 04', ['test rbx, 0x0', 'jne 0xd']],
    ['r6 & 5', mk(JMP | 0x40, 6, 0, 1, 5), '48 f7 c3 05 00 00 00 75 04'],
    ['r8 & 5', mk(JMP | 0x40, 8, 0, 1, 5), '49 f7 c6 05 00 00 00 75 04'],
    ['w6 & 5', mk(JMP32 | 0x40, 6, 0, 1, 5), 'f7 c3 05 00 00 00 75 04'],
    ['w8 & 5', mk(JMP32 | 0x40, 8, 0, 1, 5), '41 f7 c6 05 00 00 00 75 04'],
    ['r6 == r7', mk(JMP | 0x18, 6, 7, 1), '4c 39 eb 74 04', ['cmp rbx, r13', 'je 0x9']],
    ['r7 == r8', mk(JMP | 0x18, 7, 8, 1), '4d 39 f5 74 04'],
    ['r1 == r2', mk(JMP | 0x18, 1, 2, 1), '48 39 f7 74 04'],
    ['w6 == w7', mk(JMP32 | 0x18, 6, 7, 1), '44 39 eb 74 04', ['cmp ebx, r13d', 'je 0x9']],
    ['w7 == w8', mk(JMP32 | 0x18, 7, 8, 1), '45 39 f5 74 04'],
    ['w1 == w2', mk(JMP32 | 0x18, 1, 2, 1), '39 f7 74 04'],
    ['r6 & r7 (JSET X is test)', mk(JMP | 0x48, 6, 7, 1), '4c 85 eb 75 04', ['test rbx, r13', 'jne 0x9']],
    ['w6 & w7', mk(JMP32 | 0x48, 6, 7, 1), '44 85 eb 75 04'],
    ['w1 & w2', mk(JMP32 | 0x48, 1, 2, 1), '85 f7 75 04'],
  ] as [string, Insn, string, string[]?][])('%s', (_n, j, bytes, asm) => {
    const got = jumpOver4(j);
    expect(hex(got)).toBe(hex(unhex(bytes)));
    if (asm) expect(disasm(got)).toEqual(asm);
  });
});

describe('§5.2 condition codes, every condition in both classes, K = 0 included', () => {
  for (const [name, op, jcc, opcode] of CONDS) {
    it(`${name}: ${jcc} (${opcode.toString(16)}) after cmp, test and imm forms`, () => {
      const x = jumpOver4(mk(JMP | op | 0x08, 1, 2, 1));
      expect(hex(x)).toBe(hex(Uint8Array.of(0x48, name === 'jset' ? 0x85 : 0x39, 0xf7, opcode, 4)));
      expect(disasm(x)[1]).toBe(`${jcc} 0x9`);
      for (const k of [0, 5]) {
        const got = jumpOver4(mk(JMP32 | op, 2, 0, 1, k));
        expect(got[got.length - 2]).toBe(opcode);
        expect(got[got.length - 1]).toBe(4);
      }
    });
  }
  it('the rel32 form is 0f (rel8 opcode + 0x10)', () => {
    for (const [, op, jcc, opcode] of CONDS) {
      const got = codeOf([mk(JMP | op | 0x08, 1, 2, 32), ...Array(32).fill(add1(0))], 1);
      expect(hex(got.subarray(3))).toBe(hex(Uint8Array.of(0x0f, opcode + 0x10, 0x80, 0, 0, 0)));
      expect(disasm(got)[1]).toBe(`${jcc} 0x89`);
    }
  });
});

describe('§5.3 displacements and the rel8/rel32 choice', () => {
  const jgtK = (off: number) => mk(JMP | 0x20, 6, 0, off, 5);
  it('jcc +0 over an instruction that emits nothing', () => {
    expect(hex(codeOf([mk(JMP | 0x10, 6, 0, 1, 3), le64], 1))).toBe(hex(unhex('48 83 fb 03 74 00')));
  });
  it('forward +127 is rel8 (77 7f), +128 is rel32 (0f 87 80 00 00 00)', () => {
    const mov3 = mk(0xbf, 5, 6); // 49 89 d8, 3 bytes
    expect(hex(codeOf([jgtK(32), mov3, ...Array(31).fill(add1(5))], 1))).toBe(hex(unhex('48 83 fb 05 77 7f')));
    expect(hex(codeOf([jgtK(32), ...Array(32).fill(add1(5))], 1))).toBe(hex(unhex('48 83 fb 05 0f 87 80 00 00 00')));
  });

  // A backward `cmp imm8; jcc` loop: the jump is measured from its previous-pass (rel32) end, so
  // by hand: rel8 iff body + 4 (cmp) + 6 (jcc rel32) <= 128, i.e. a body of at most 118 bytes,
  // final displacement -(118 + 6) = -124; with 119 bytes it stays rel32, -(119 + 10) = -129.
  it('a backward jcc loop shrinks to rel8 down to -124 (72 84) and stays rel32 at -129', () => {
    // body 118 = 3 + 28*4 + 3; body 119 = 3 + 29*4
    const b118 = [mk(0xbf, 5, 6), ...Array(28).fill(add1(5)), mk(0xbf, 5, 7)];
    const b119 = [mk(0xbf, 5, 6), ...Array(29).fill(add1(5))];
    for (const [body, bytes] of [[b118, '49 83 fd 03 72 84'], [b119, '49 83 fd 03 0f 82 7f ff ff ff']] as const) {
      const f = jit1([...body, mk(JMP | 0xa0, 7, 0, -(body.length + 1), 3), EXIT]).funcs[0];
      const n = body.length;
      expect(hex(f.image.subarray(f.addrs[n], f.addrs[n + 1]))).toBe(hex(unhex(bytes)));
    }
  });
  // A backward ja: rel8 iff S + 5 <= 128 with S the bytes from the target to the ja, final -(S + 2):
  // S = 123 gives -125 (eb 83); S = 124 stays e9 with -(124 + 5) = -129.
  it('a backward ja reaches -125 (eb 83) and one byte more stays e9 7f ff ff ff', () => {
    const s123 = [...Array(30).fill(add1(5)), mk(0xbf, 5, 6)]; // 120 + 3
    const s124 = [...Array(31).fill(add1(5))];
    for (const [body, bytes] of [[s123, 'eb 83'], [s124, 'e9 7f ff ff ff']] as const) {
      const f = jit1([...body, ja(-(body.length + 1)), EXIT]).funcs[0];
      const n = body.length;
      expect(hex(f.image.subarray(f.addrs[n], f.addrs[n + 1]))).toBe(hex(unhex(bytes)));
    }
  });
});

describe('§5.4 BPF_JA', () => {
  it('ja -1 is a jump to itself', () => {
    expect(hex(codeOf([ja(-1)], 1))).toBe('ebfe');
  });
  it('ja +0 emits nothing', () => {
    expect(hex(codeOf([ja(0)], 1))).toBe('');
  });
  it('ja +1 over le64 emits nothing', () => {
    expect(hex(codeOf([ja(1), le64], 1))).toBe('');
  });
  it('forward +127 is eb 7f, +128 is e9 80 00 00 00', () => {
    expect(hex(codeOf([ja(32), mk(0xbf, 5, 6), ...Array(31).fill(add1(5))], 1))).toBe('eb7f');
    expect(hex(codeOf([ja(32), ...Array(32).fill(add1(5))], 1))).toBe('e980000000');
  });
  it('a jump out of the function is an error', () => {
    expect(() => jit1([ja(5), EXIT])).toThrow(expect.objectContaining({ code: 'jit.jump-outside-function', location: { insn: 0 } }));
  });
});

describe('§6.1 helper calls', () => {
  it('a call at offset 0x12 of an image at 0xffffffffc00091d8 to bpf_get_prandom_u32', () => {
    const f = jitProgram(single([mk(0x85, 0, 0, 0, 25120), mk(0xbf, 6, 0), mk(0xbf, 7, 0), mk(0xbf, 8, 0), mk(0xbf, 9, 0), EXIT]), P510, {
      symbols: REF_SYMBOLS, images: () => 0xffffffffc00091d8n,
    }).funcs[0];
    expect(f.addrs[0]).toBe(0x12);
    expect(hex(f.image.subarray(0x12, 0x17))).toBe('e891b01ac1');
  });
  it('a tail-call-reachable function reloads the counter slot before every call (SD 16)', () => {
    const got = codeOf([mk(0x85, 0, 0, 0, 25120)], 1, { stackDepth: 16, tailCallReachable: true });
    expect(hex(got.subarray(0, 8))).toBe(hex(unhex('48 8b 85 e8 ff ff ff e8')));
    expect(disasm(got, IMAGE)[0]).toBe('mov rax, [rbp-0x18]');
  });
  it.each([[0, 'f8ffffff'], [12, 'e8ffffff'], [16, 'e8ffffff'], [40, 'd0ffffff'], [64, 'b8ffffff'], [224, '18ffffff']])(
    'stack depth %i: mov rax, [rbp - round_up(SD, 8) - 8] has d32 %s (tailcalls.md §3.1)', (sd, d32) => {
      const got = codeOf([mk(0x85, 0, 0, 0, 25120)], 1, { stackDepth: sd, tailCallReachable: true });
      expect(hex(got.subarray(0, 7))).toBe('488b85' + d32);
    },
  );
  it('rel32 = target - (address after the call), also after the reload', () => {
    const target = REF_SYMBOLS.bpfCallBase + 25120n;
    for (const reachable of [false, true]) {
      const f = jit1([mk(0x85, 0, 0, 0, 25120), EXIT], { tailCallReachable: reachable }).funcs[0];
      const callAt = f.addrs[0] + (reachable ? 7 : 0);
      const rel = new DataView(f.image.buffer).getInt32(callAt + 1, true);
      expect(BigInt(rel)).toBe(target - (IMAGE + BigInt(callAt) + 5n));
    }
  });
  it('CALL with imm 0 is refused', () => {
    expect(() => jit1([mk(0x85, 0, 0, 0, 0), EXIT])).toThrow(expect.objectContaining({ code: 'jit.call-target', location: { insn: 0 } }));
  });
  it('a target out of rel32 reach is refused', () => {
    expect(() => jit1([mk(0x85, 0, 0, 0, 1), EXIT], {}, { images: () => 0xffffffff00000000n })).toThrow(expect.objectContaining({ code: 'jit.call-target' }));
  });
});

describe('§6.3/§6.4 EXIT and the return', () => {
  // if r6 > 5 goto +2; r0 = 1; exit (epilogue: pop rbx, leave, jmp thunk = 7 bytes); filler; exit
  const twoExits = (filler: Insn[]): Insn[] => [mk(JMP | 0x20, 6, 0, 2, 5), mk(0xb7, 0, 0, 0, 1), EXIT, ...filler, EXIT];
  const filler = (n: number): Insn[] => [mk(0xbf, 5, 6), ...Array(n).fill(add1(5))]; // 3 + 4n bytes
  const exitJump = (insns: Insn[]): string => {
    const f = jit1(insns).funcs[0];
    const k = insns.length - 1;
    return hex(f.image.subarray(f.addrs[k], f.addrs[k + 1]));
  };
  it('the first exit emits pops, leave and the thunk jump; a later exit jumps back to it', () => {
    const f = jit1(twoExits([])).funcs[0];
    expect(f.cleanupAddr).toBe(f.addrs[2]);
    expect(hex(f.image.subarray(f.addrs[2], f.addrs[3]))).toMatch(/^5bc9e9/);
    expect(hex(f.image.subarray(f.addrs[3], f.addrs[4]))).toBe('ebf7'); // -(7 + 2)
  });
  // Measured from its previous-pass end (§5.3): with X filler bytes the rel8 form is chosen iff
  // 7 + X + 5 <= 128. X = 115: eb, -(7 + 115 + 2) = -124; X = 119: e9, -(7 + 119 + 5) = -131.
  it('an exit-jump is eb 84 at -124 and e9 7d ff ff ff at -131', () => {
    expect(exitJump(twoExits(filler(28)))).toBe('eb84');
    expect(exitJump(twoExits(filler(29)))).toBe('e97dffffff');
  });
  it('and e9 2d ff ff ff at -211 (X = 199)', () => {
    expect(exitJump(twoExits(filler(49)))).toBe('e92dffffff');
  });
  it.each([['ret', 'c3'], ['ret-int3', 'c3cc']] as const)('return %s is %s', (ret, bytes) => {
    const f = jit1([mk(0xb7, 0, 0, 0, 0), EXIT], {}, { cpu: { ret } }).funcs[0];
    expect(hex(f.image.subarray(f.addrs[1]))).toBe('c9' + bytes);
  });
  it('thunk: rel32 = thunk - (end of the jmp)', () => {
    const f = jit1([mk(0xb7, 0, 0, 0, 0), EXIT]).funcs[0];
    const at = f.addrs[1] + 1;
    expect(f.image[at]).toBe(0xe9);
    expect(BigInt(new DataView(f.image.buffer).getInt32(at + 1, true))).toBe(REF_SYMBOLS.returnThunk! - (IMAGE + BigInt(at) + 5n));
  });
  it("an EXIT at instruction 0 counts the prologue twice in the thunk's rel32 (the kernel's corner)", () => {
    const f = jit1([EXIT]).funcs[0];
    expect(hex(f.image.subarray(0, 13))).toBe(hex(unhex('0f1f440000 6690 55 4889e5 c9 e9')));
    expect(f.image.length).toBe(17);
    const rel = BigInt(new DataView(f.image.buffer).getInt32(13, true));
    expect(rel).toBe(REF_SYMBOLS.returnThunk! - (IMAGE + 11n + 11n + 1n + 5n));
  });
});

describe('§7 passes, addrs[] and allocation', () => {
  it('straight-line code takes 3 passes (two sizing passes agree, then the image pass)', () => {
    const f = jit1([mk(0xb7, 0, 0, 0, 1), EXIT]).funcs[0];
    expect(f.passes).toBe(3);
    expect(f.passLengths[0]).toBe(f.passLengths[1]);
  });
  it("the middle entry of an ld_imm64 keeps the first estimate 64 * (k + 2)", () => {
    const f = jit1([mk(0xb7, 0, 0, 0, 1), ldImm64(1, 1n << 40n), EXIT]).funcs[0];
    expect(f.addrs[2]).toBe(64 * (1 + 2));
    expect(f.addrs[3]).toBe(f.addrs[1] + 10);
  });
  it('addrs[0] is the prologue length and addrs[len] the image length', () => {
    const f = jit1([mk(0xb7, 6, 0, 0, 1), EXIT]).funcs[0];
    expect(f.addrs[0]).toBe(12); // nop5 nop2 push rbp mov rbp,rsp push rbx
    expect(f.addrs[2]).toBe(f.image.length);
  });
  it('the allocator is asked for roundup(proglen, 4) bytes and must return a 4-byte-aligned address', () => {
    const sizes: number[] = [];
    jit1([mk(0xb7, 0, 0, 0, 1), EXIT], {}, { images: (r) => { sizes.push(r.size); return IMAGE; } });
    expect(sizes).toEqual([24]); // 11 + 5 + 1 + 5 = 22 -> 24
    expect(() => jit1([EXIT], {}, { images: () => IMAGE + 2n })).toThrow(expect.objectContaining({ code: 'jit.alloc' }));
  });
  it('no two equal lengths within the size passes: not JITed', () => {
    const oneSizePass = { ...P510, jit: { ...P510.jit, maxPasses: 1 } };
    expect(() => jit1([mk(JMP | 0x20, 6, 0, 1, 5), add1(0), EXIT], {}, {}, oneSizePass)).toThrow(expect.objectContaining({ code: 'jit.not-converged' }));
  });
  it('errors are typed: JitError for refusals, JitBug only for internal invariants', () => {
    try {
      jit1([mk(0x85, 0, 0, 0, 0), EXIT]);
    } catch (e) {
      expect(e).toBeInstanceOf(JitError);
      expect(e).not.toBeInstanceOf(JitBug);
    }
  });
});

