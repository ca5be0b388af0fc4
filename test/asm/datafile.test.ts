// The `.data` reader, against the format in /work/shared/conformance/README.md.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { dataFileProgram, parseDataFile, rawToBytes, readDataFile } from '../../src/asm/datafile.js';
import { AsmError } from '../../src/asm/errors.js';
import { encode } from '../../src/isa/insn.js';

const SUITE = '/work/shared/conformance/tests/';

function errorOf(text: string): AsmError {
  try {
    const d = parseDataFile(text, { file: 'x.data' });
    dataFileProgram(d);
  } catch (e) {
    if (e instanceof AsmError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

describe('sections', () => {
  const sample = [
    '# Copyright header',           // 1
    '-- asm',                       // 2
    'mov %r0, %r2 # the length',    // 3
    'exit',                         // 4
    '-- mem',                       // 5
    '00 01 # two bytes',            // 6
    'fF',                           // 7
    '-- no register offset',        // 8
    '-- result',                    // 9
    '0xABCDEF',                     // 10
    '-- c',                         // 11
    'int f(void) { return 0; }',    // 12
  ].join('\n');

  test('reads asm, mem, result, c and the register-offset marker', () => {
    const d = parseDataFile(sample);
    expect(d.asm).toEqual({ text: 'mov %r0, %r2 # the length\nexit', firstLine: 3 });
    expect([...d.mem!]).toEqual([0x00, 0x01, 0xff]);
    expect(d.result).toBe(0xabcdefn);
    expect(d.c).toBe('int f(void) { return 0; }');
    expect(d.noRegisterOffset).toBe(true);
    expect(d.skip).toBeUndefined();
    expect(d.sections.map((s) => [s.kind, s.line])).toEqual([
      ['asm', 2], ['mem', 5], ['no register offset', 8], ['result', 9], ['c', 11],
    ]);
  });

  test('a decimal result and a negative one (taken modulo 2^64, as stoull does)', () => {
    expect(parseDataFile('-- result\n42').result).toBe(42n);
    expect(parseDataFile('-- result\n-1').result).toBe(0xffffffffffffffffn);
  });

  test('an error section keeps its text without trailing white space', () => {
    expect(parseDataFile('-- asm\nexit\n-- error\nFailed to load   \n').error).toBe('Failed to load');
  });

  test('an unknown section makes the file skipped, as the reference runner does', () => {
    const d = parseDataFile('-- asm\nexit\n-- frobnicate\n-- result\n0x1');
    expect(d.skip).toBe("unknown section '-- frobnicate' at line 3");
  });

  test('a file with neither result nor error is skipped', () => {
    expect(parseDataFile('-- asm\nexit\n').skip).toBe('no result or error section');
  });

  test('CRLF line ends are accepted', () => {
    expect(parseDataFile('-- asm\r\nexit\r\n-- result\r\n0x2\r\n').result).toBe(2n);
  });
});

describe('malformed values', () => {
  test.each([
    ['-- asm\nexit\n-- mem\n00 zz\n-- result\n0', 'data.bad-hex', 4, 4, "expected a hex byte (00..ff), got 'zz'"],
    ['-- asm\nexit\n-- mem\n123\n-- result\n0', 'data.bad-hex', 4, 1, "expected a hex byte (00..ff), got '123'"],
    ['-- asm\nexit\n-- result\n0xfoo', 'data.bad-result', 4, 1, "expected a 64-bit result (0x… or decimal), got '0xfoo'"],
    ['-- asm\nexit\n-- result\n0x10000000000000000', 'data.bad-result', 4, 1, "expected a 64-bit result (0x… or decimal), got '0x10000000000000000'"],
    ['-- asm\nexit\n-- result\n1 2', 'data.bad-result', 4, 3, "'-- result' holds one value, found '2' after it"],
    ['-- raw\n0x95 0xqq\n-- result\n0', 'data.bad-raw', 2, 6, "expected a 64-bit slot value (0x… or decimal), got '0xqq'"],
    ['-- asm\nexit\n-- result\n1\n-- result\n2', 'data.duplicate-section', 5, 1, "second '-- result' section"],
  ])('%j gives %s at %d:%d', (text, code, line, column, message) => {
    const e = errorOf(text);
    expect([e.code, e.location.file, e.location.line, e.location.column, e.message]).toEqual([code, 'x.data', line, column, message]);
  });

  test('an assembler error points into the file, not into the section', () => {
    const e = errorOf('# header\n-- asm\nmov %r0, 1\n  bogus\n-- result\n0x1');
    expect([e.code, e.location.line, e.location.column]).toEqual(['asm.unknown-mnemonic', 4, 3]);
    expect(e.format().split('\n')[0]).toBe("x.data:4:3: error: unknown mnemonic 'bogus'");
  });
});

describe('lddw.data', () => {
  const d = readDataFile(SUITE + 'lddw.data');

  test('its raw slots are the README example: 0x5566778800000018, 0x1122334400000000, 0x95', () => {
    expect(d.raw).toEqual([0x5566778800000018n, 0x1122334400000000n, 0x95n]);
  });

  test('its raw slots equal the bytes its assembly assembles to', () => {
    const fromAsm = encode(parseAsmOnly(readFileSync(SUITE + 'lddw.data', 'utf8')));
    expect([...rawToBytes(d.raw!)]).toEqual([...fromAsm]);
  });

  test('the program comes from the raw section when there is one', () => {
    expect(dataFileProgram(d).map((i) => i.code)).toEqual([0x18, 0x95]);
  });
});

/** The program of the file's asm section, ignoring any raw section. */
function parseAsmOnly(text: string) {
  const { raw: _raw, ...rest } = parseDataFile(text);
  return dataFileProgram(rest);
}
