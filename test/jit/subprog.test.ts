// x86-jit.md §7.5 / tailcalls.md §3.4: jit_subprogs - placeholder round, fix-up, extra pass.
import { describe, expect, it } from 'vitest';
import { jitProgram } from '../../src/jit/index.js';
import { PROFILES } from '../../src/profile/index.js';
import { REF_SYMBOLS, mk, program } from './fixtures.js';
import { EXIT } from './helpers.js';

const P = PROFILES['linux-5.10'];
const callLocal = (imm: number) => mk(0x85, 0, 1, 0, imm);
const rel32At = (b: Uint8Array, at: number): bigint => BigInt(new DataView(b.buffer, b.byteOffset).getInt32(at, true));

// main: r6 = r1; call f1; call f2; exit    f1: call f2; exit    f2: r0 = 7; exit
const PROG = program([
  { name: 'main', insns: [mk(0xbf, 6, 1), callLocal(2), callLocal(3), EXIT] },
  { name: 'f1', insns: [callLocal(1), EXIT] },
  { name: 'f2', insns: [mk(0xb7, 0, 0, 0, 7), EXIT] },
]);
const AT = [0xffffffffc0002000n, 0xffffffffc0004000n, 0xffffffffc0006000n];

describe('jit_subprogs', () => {
  const r = jitProgram(PROG, P, { symbols: REF_SYMBOLS, images: ({ func }) => AT[func] });

  it('every call targets the first byte of its callee after the extra pass', () => {
    const main = r.funcs[0];
    for (const [k, callee] of [[1, 1], [2, 2]] as const) {
      const at = main.addrs[k];
      expect(main.image[at]).toBe(0xe8);
      expect(rel32At(main.image, at + 1)).toBe(AT[callee] - (AT[0] + BigInt(at) + 5n));
    }
    const f1 = r.funcs[1];
    expect(rel32At(f1.image, f1.addrs[0] + 1)).toBe(AT[2] - (AT[1] + BigInt(f1.addrs[0]) + 5n));
  });

  it('gives each function a full first round plus one extra pass', () => {
    expect(r.funcs.map((f) => f.extraPass)).toEqual([true, true, true]);
    expect(r.funcs.map((f) => f.passes)).toEqual([3, 3, 3]);
    expect(r.passes).toBe(9 + 3);
  });

  it('names functions and places them where the allocator said', () => {
    expect(r.funcs.map((f) => [f.name, f.address, f.firstSlot])).toEqual([['main', AT[0], 0], ['f1', AT[1], 4], ['f2', AT[2], 6]]);
  });

  it('subprograms get nop2 at offset 5 and their own callee-saved set', () => {
    expect(Array.from(r.funcs[1].image.subarray(5, 7))).toEqual([0x66, 0x90]);
    expect(r.funcs[0].addrs[0]).toBe(12); // push rbx for r6
    expect(r.funcs[1].addrs[0]).toBe(11);
  });

  it("a callee the extra pass cannot reach: JIT doesn't support bpf-to-bpf calls", () => {
    // f2 3 GiB below the others: its placeholder call in round one reaches __bpf_call_base + 1,
    // the real call from main (at 0xffffffffc0002000) does not fit in rel32.
    const far = [AT[0], AT[1], 0xffffffff40000000n];
    expect(() => jitProgram(PROG, P, { symbols: REF_SYMBOLS, images: ({ func }) => far[func] }))
      .toThrow(expect.objectContaining({ code: 'jit.bpf2bpf-unsupported', func: 0, message: expect.stringContaining("JIT doesn't support bpf-to-bpf calls") }));
  });

  it('a single-function program has no extra pass', () => {
    const one = jitProgram(program([{ insns: [EXIT] }]), P, { symbols: REF_SYMBOLS });
    expect(one.funcs[0].extraPass).toBe(false);
    expect(one.passes).toBe(3);
  });

  it('the default allocator gives each image its own page-rounded, 4-byte-aligned slot', () => {
    const d = jitProgram(PROG, P, { symbols: REF_SYMBOLS });
    const addrs = d.funcs.map((f) => f.address);
    expect(addrs.every((a) => (a & 3n) === 0n && a >= 0xffffffffc0000000n)).toBe(true);
    expect(new Set(addrs.map((a) => a >> 12n)).size).toBe(3);
  });
});
