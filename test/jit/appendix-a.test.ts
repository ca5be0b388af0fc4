// x86-jit.md Appendix A: a complete 5.10.223 image, reproduced byte for byte.
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../src/profile/index.js';
import { jitProgram } from '../../src/jit/index.js';
import { REF_SYMBOLS, hex, unhex } from './fixtures.js';
import { APPENDIX_A, APPENDIX_A_IMAGE } from './spec-programs.js';

// The table of Appendix A: k, addrs[k], bytes.
const TABLE: [number, number, string][] = [
  [0, 0x12, 'e8 91 b0 1a c1'], [1, 0x17, '48 89 c3'], [2, 0x1a, 'e8 89 b0 1a c1'], [3, 0x1f, '49 89 c5'],
  [4, 0x22, 'e8 81 b0 1a c1'], [5, 0x27, '49 89 c6'], [6, 0x2a, 'e8 79 b0 1a c1'], [7, 0x2f, '49 89 c7'],
  [8, 0x32, '48 89 df'], [9, 0x35, '4c 89 ee'], [10, 0x38, '4c 89 f2'], [11, 0x3b, '4c 89 f9'],
  [12, 0x3e, '49 89 d8'], [13, 0x41, '4c 89 e8'], [14, 0x44, 'e8 5f b0 1a c1'], [15, 0x49, 'e8 3a 71 1c c1'],
  [16, 0x4e, '48 83 fb 05 77 12'], [17, 0x54, 'b8 01 00 00 00'], [18, 0x59, '41 5f 41 5e 41 5d 5b c9 e9 c2 8d bf c1'],
  [19, 0x66, '49 83 fd 07 74 07'], [20, 0x6c, 'b8 02 00 00 00'], [21, 0x71, 'eb e6'],
  [22, 0x73, 'b8 03 00 00 00'], [23, 0x78, '31 c0'], [24, 0x7a, 'eb dd'],
];
const PROLOGUE = '0f1f440000 6690 55 4889e5 53 4155 4156 4157';

describe('x86-jit.md Appendix A (socket filter, 124 bytes, 4 passes)', () => {
  const r = jitProgram(APPENDIX_A, PROFILES['linux-5.10'], { symbols: REF_SYMBOLS, images: () => APPENDIX_A_IMAGE });
  const f = r.funcs[0];

  it('reproduces the whole image byte for byte', () => {
    expect(hex(f.image)).toBe(hex(unhex(PROLOGUE + TABLE.map((t) => t[2]).join(''))));
    expect(f.image.length).toBe(124);
  });

  it('puts every instruction at the offset the table gives (addrs[k])', () => {
    for (const [k, off] of TABLE) expect(f.addrs[k], `addrs[${k}]`).toBe(off);
    expect(f.addrs[25]).toBe(124);
  });

  it('records cleanup_addr at the first exit (0x59)', () => {
    expect(f.cleanupAddr).toBe(0x59);
  });

  it('converges in the spec pass lengths 138, 124, 124, then the image pass', () => {
    expect(f.passLengths).toEqual([138, 124, 124, 124]);
    expect(f.passes).toBe(4);
    expect(r.passes).toBe(4);
  });
});
