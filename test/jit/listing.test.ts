// The listing formatter, the x86 -> BPF lookup for the debugger, the PROBE_MEM extable, and
// the golden listings of the spec's images (test/jit/golden/, reviewed as text; regenerate with
// UPDATE_GOLDEN=1 and read the diff).
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bpfInsnAt, formatListing, jitProgram } from '../../src/jit/index.js';
import { PROFILES } from '../../src/profile/index.js';
import type { VerifiedProgram } from '../../src/verifier/types.js';
import { REF_SYMBOLS, ldImm64, mk, program } from './fixtures.js';
import { APPENDIX_A, APPENDIX_A_IMAGE, ENTRY, ONCE_PROG, SECTION_10_1, SUB } from './spec-programs.js';
import { EXIT, IMAGE, jit1 } from './helpers.js';

const P = PROFILES['linux-5.10'];
const names = (a: bigint): string | undefined =>
  a === REF_SYMBOLS.bpfCallBase + 25120n ? 'bpf_get_prandom_u32'
    : a === REF_SYMBOLS.returnThunk ? 'srso_alias_return_thunk'
      : a === ONCE_PROG + 11n ? 'once_prog+0xb'
      : a === REF_SYMBOLS.indirectThunkRcx ? '__x86_indirect_thunk_rcx'
        : a === 0xffffffff811d0360n ? 'bpf_ktime_get_ns'
          : a === 0xffff88803fef4400n ? 'map:progs'
            : SECTION_10_1_MAPS[String(a)];
// The global counters of tailcalls.md §10.1 (map value addresses) and its prog array.
const SECTION_10_1_MAPS: Record<string, string> = {
  [String(0xffffc900000ae004n)]: 'cnt_main', [String(0xffffc900000ae008n)]: 'cnt_back',
  [String(0xffffc900000ae00cn)]: 'cnt_calls', [String(0xffffc900000ae010n)]: 'cnt_refused',
  [String(0xffff88803fef4200n)]: 'jmp_table',
};

describe('listing', () => {
  const prog = program([
    { name: 'entry', tailCallReachable: true, insns: [mk(0xbf, 6, 1), ldImm64(2, 0xffff88803fef4400n), mk(0x85, 0, 0, 0, 25120), mk(0x25, 6, 0, 1, 5), mk(0xd4, 0, 0, 0, 64), mk(0x85, 0, 1, 0, 2), mk(0xf5), EXIT] },
    { name: 'sub', insns: [mk(0xb7, 0, 0, 0, 0), EXIT] },
  ]);
  const r = jitProgram(prog, P, { symbols: REF_SYMBOLS, images: ({ func }) => IMAGE + BigInt(func) * 0x1000n });
  const abs = formatListing(r, prog, { symbolize: names, bpfCallBase: REF_SYMBOLS.bpfCallBase }).split('\n');
  const norm = formatListing(r, prog, { symbolize: names, bpfCallBase: REF_SYMBOLS.bpfCallBase, normalized: true }).split('\n');

  it('interleaves BPF instructions (kernel syntax) with their x86 code', () => {
    expect(norm).toContain('; 0: (bf) r6 = r1');
    expect(norm).toContain('  000d  48 89 fb                       mov rbx, rdi');
    expect(norm).toContain('; 5: (d4) r0 = le64 r0');
    expect(norm).toContain('        (no code)');
    expect(norm).toContain('; 7: (f5) tail_call (indirect)');
  });
  // rel32 by hand: 0xffffffff811b4280 - (IMAGE + 0x21 + 5) = -0x3ee4cda6 -> 5a 32 1b c1.
  it('names helpers, thunks, subprograms and maps, and jump targets by BPF instruction', () => {
    expect(norm).toContain('; 3: (85) call bpf_get_prandom_u32#25120');
    expect(abs).toContain(`  ${(IMAGE + 0x21n).toString(16)}  e8 5a 32 1b c1                 call 0xffffffff811b4280 <bpf_get_prandom_u32>`);
    expect(norm).toContain('  0021  e8 .. .. .. ..                 call <bpf_get_prandom_u32>');
    expect(norm).toContain('  0033  e8 .. .. .. ..                 call <sub>');
    expect(norm).toContain('  006a  e9 .. .. .. ..                 jmp <__x86_indirect_thunk_rcx>');
    expect(norm).toContain('  002a  77 00                          ja 0x2c <insn 6>');
    expect(norm).toContain('  003d  76 30                          jbe 0x6f <insn 8>');
    expect(norm).toContain('  0010  48 be .. .. .. .. .. .. .. ..  mov rsi, <map:progs>');
  });
  it('normalized mode has no absolute address left', () => {
    expect(norm.join('\n')).not.toMatch(/ffffffff/);
  });
});

describe('bpfInsnAt (x86 offset -> BPF instruction)', () => {
  // Appendix A's layout: prologue 0..0x12, insn 16 at 0x4e (6 bytes), insn 18 (exit) at 0x59.
  const f = jitProgram(APPENDIX_A, P, { symbols: REF_SYMBOLS, images: () => APPENDIX_A_IMAGE }).funcs[0];
  it.each([[0, 'prologue'], [0x11, 'prologue'], [0x12, 0], [0x16, 0], [0x17, 1], [0x4e, 16], [0x53, 16], [0x59, 18], [0x65, 18], [0x66, 19], [0x7b, 24], [0x7c, undefined], [-1, undefined]] as const)(
    'offset 0x%s is %s', (off, want) => expect(bpfInsnAt(f, off)).toBe(want),
  );
  it('a zero-length instruction never contains an offset; slots count ld_imm64 as two', () => {
    const g = jit1([ldImm64(1, 1n << 40n), mk(0xd4, 0, 0, 0, 64), mk(0xb7, 0, 0, 0, 1), EXIT]).funcs[0];
    expect(bpfInsnAt(g, g.addrs[0])).toBe(0);
    expect(bpfInsnAt(g, g.addrs[3])).toBe(3); // le64 at slot 2 is skipped
  });
});

describe('§4.2 the PROBE_MEM exception table', () => {
  const probe = mk(0x39, 0, 1, 8); // r0 = *(u64 *)(r1 + 8), PROBE_MEM
  it('one 12-byte entry per PROBE_MEM load after the code, fields relative to themselves', () => {
    const sizes: number[] = [];
    const f = jit1([mk(0xbf, 6, 1), probe, EXIT], {}, { images: (q) => { sizes.push(q.size); return IMAGE; } }).funcs[0];
    const codeEnd = Math.ceil(f.image.length / 4) * 4;
    expect(sizes).toEqual([codeEnd + 12]);
    const entry = IMAGE + BigInt(codeEnd);
    expect(f.extable).toEqual([{
      address: entry,
      insn: Number(IMAGE + BigInt(f.addrs[1]) - entry),
      fixup: 4 | (0x50 << 8), // mov rax, [rdi+8] is 4 bytes; rax is pt_regs 0x50
      handler: Number(REF_SYMBOLS.exHandlerBpf! - (entry + 8n)),
    }]);
  });
  it('instruction 0 carries the prologue: its entry points at the function start (the kernel corner)', () => {
    const f = jit1([probe, EXIT]).funcs[0];
    const entry = IMAGE + BigInt(Math.ceil(f.image.length / 4) * 4);
    expect(f.extable[0].insn).toBe(Number(IMAGE - entry));
    expect(f.extable[0].fixup & 0xff).toBe(f.addrs[1]);
  });
  it('a PROBE_MEM load into a register beyond r9 fails', () => {
    expect(() => jit1([mk(0x39, 11, 1, 8), EXIT])).toThrow(expect.objectContaining({ code: 'jit.extable' }));
  });
});

describe('golden listings (test/jit/golden)', () => {
  const dir = join(import.meta.dirname, 'golden');
  const goldens: Record<string, () => [ReturnType<typeof jitProgram>, VerifiedProgram]> = {
    'appendix-a': () => [jitProgram(APPENDIX_A, P, { symbols: REF_SYMBOLS, images: () => APPENDIX_A_IMAGE }), APPENDIX_A],
    'tailcalls-10-1': () => [jitProgram(SECTION_10_1, P, {
      symbols: REF_SYMBOLS, images: ({ func }) => (func === 0 ? ENTRY : SUB), slotTarget: () => ONCE_PROG,
    }), SECTION_10_1],
  };
  for (const [name, make] of Object.entries(goldens)) {
    it(`${name}.txt matches`, () => {
      const [r, prog] = make();
      const text = formatListing(r, prog, { symbolize: names, bpfCallBase: REF_SYMBOLS.bpfCallBase, normalized: true });
      const file = join(dir, `${name}.txt`);
      if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
      expect(existsSync(file), `${file} (run with UPDATE_GOLDEN=1)`).toBe(true);
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
  it('has no orphaned golden file', () => {
    const files = existsSync(dir) ? readdirSync(dir) : [];
    expect(files.filter((f) => !(f.replace(/\.txt$/, '') in goldens))).toEqual([]);
  });
});
