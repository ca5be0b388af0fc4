// tailcalls.md §10.1: a main program calling a tail-calling subprogram twice, 5.10.223.
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../src/profile/index.js';
import { jitProgram } from '../../src/jit/index.js';
import { REF_SYMBOLS, hex, unhex } from './fixtures.js';
import { ENTRY, ONCE_PROG, SECTION_10_1 as prog, SUB } from './spec-programs.js';

const ENTRY_BYTES = `
  0f1f440000 31c0 55 4889e5 50 53 4155 4156
  4889fb 48bf04e00a0000c9ffff 8b7700 4883c601 897700 4889df
  488b85f8ffffff e8651b0000 4989c5 49be08e00a0000c9ffff 418b7e00 4883c701 41897e00 4889df
  488b85f8ffffff e83d1b0000 418b7e00 4883c701 41897e00 4c01e8
  415e 415d 5b c9 e9af13bfc1`;
const SUB_HEAD = `
  0f1f440000 6690 55 4889e5 50 53 4155
  4889fb 48bf0ce00a0000c9ffff 8b7700 4883c601 897700 49bd0042ef3f8088ffff
  4889df 4c89ee 31d2
  8b85fcffffff 83f820 7717 83c001 8985fcffffff`;
const SUB_TAIL = `
  48bf10e00a0000c9ffff 8b7700 4883c601 897700 b801000000 415d 5b c9 e910f8bec1`;
const STATE_B = '0f1f440000 415d 5b 58 e96167ffff';
const STATE_C = 'e909000000 415d 5b 58 0f1f440000';

const images = ({ func }: { func: number }) => (func === 0 ? ENTRY : SUB);
const profile = PROFILES['linux-5.10'];

describe('tailcalls.md §10.1 (entry 121 bytes, sub 124 bytes)', () => {
  const withTarget = jitProgram(prog, profile, { symbols: REF_SYMBOLS, images, slotTarget: () => ONCE_PROG });

  it('reproduces entry byte for byte', () => {
    expect(hex(withTarget.funcs[0].image)).toBe(hex(unhex(ENTRY_BYTES)));
    expect(withTarget.funcs[0].image.length).toBe(121);
  });

  it('reproduces sub in state B (slot 0 = once_prog) byte for byte', () => {
    expect(hex(withTarget.funcs[1].image)).toBe(hex(unhex(SUB_HEAD + STATE_B + SUB_TAIL)));
    expect(withTarget.funcs[1].image.length).toBe(124);
  });

  it('reproduces sub in state C when the slot is empty (site 1 e9 09 00 00 00, site 2 nop5)', () => {
    const empty = jitProgram(prog, profile, { symbols: REF_SYMBOLS, images });
    expect(hex(empty.funcs[1].image)).toBe(hex(unhex(SUB_HEAD + STATE_C + SUB_TAIL)));
    expect(empty.pokes[0].stable).toBe(true);
  });

  it('fills the poke descriptor as the spec lists it', () => {
    expect(withTarget.pokes).toEqual([{
      tailcallTarget: SUB + 0x55n, tailcallBypass: SUB + 0x4cn, bypassAddr: SUB + 0x5an, adjOff: 11,
      stable: true, mapIndex: 0, key: 0, func: 1, insnIdx: 32,
    }]);
  });

  it('records cleanup_addr 0x6e for entry and the first exit of sub at 0x73', () => {
    expect(withTarget.funcs[0].cleanupAddr).toBe(0x6e);
    expect(withTarget.funcs[1].cleanupAddr).toBe(0x73);
  });

  it('gives both functions the extra pass of jit_subprogs', () => {
    expect(withTarget.funcs.map((f) => f.extraPass)).toEqual([true, true]);
    expect(withTarget.passes).toBe(withTarget.funcs[0].passes + withTarget.funcs[1].passes + 2);
  });
});
