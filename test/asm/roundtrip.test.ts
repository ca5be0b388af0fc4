// Every conformance file survives assemble -> encode -> decode -> disassemble -> assemble with
// the same bytes, with and without labels.

import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { dataFileProgram, readDataFile } from '../../src/asm/datafile.js';
import { disassemble, disassembleText } from '../../src/asm/disassembler.js';
import { decode, encode } from '../../src/isa/insn.js';

const SUITE = '/work/shared/conformance/tests/';
const FILES = readdirSync(SUITE).filter((f) => f.endsWith('.data')).sort();

test('the suite has 313 files and none is skipped', () => {
  expect(FILES).toHaveLength(313);
  expect(FILES.filter((f) => readDataFile(SUITE + f).skip !== undefined)).toEqual([]);
});

describe('round trip through the disassembler', () => {
  test.each(FILES)('%s', (file) => {
    const bytes = encode(dataFileProgram(readDataFile(SUITE + file)));
    const decoded = decode(bytes);
    const lines = disassemble(decoded);
    expect(lines.filter((l) => l.invalid || l.unshown.length)).toEqual([]);
    for (const labels of [false, true]) {
      const text = disassembleText(decoded, { labels });
      expect(encode(assemble(text))).toEqual(bytes);
    }
  });
});
