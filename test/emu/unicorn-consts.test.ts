// The generated constant tables (emu/unicorn/consts.ts) against the headers and the library.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  UcArch, UcErr, UcHookType, UcMode, UcProt, UcQueryType, UnicornError, X86Reg, regWidth, ucErrName, ucVersion,
} from '../../emu/unicorn/index.js';
import { native } from '../../emu/unicorn/native.js';
// @ts-expect-error -- a plain-JS generator without type declarations
import { evaluate, parseEnums } from '../../emu/unicorn/gen-consts.mjs';

const GENERATOR = fileURLToPath(new URL('../../emu/unicorn/gen-consts.mjs', import.meta.url));
const HEADERS = process.env.UNICORN_INCLUDE ?? '/usr/include/unicorn';

describe('generated constants', () => {
  it.skipIf(!existsSync(`${HEADERS}/unicorn.h`))('consts.ts is what the generator makes from the installed headers', () => {
    // Throws (exit 1) when consts.ts is stale.
    expect(execFileSync(process.execPath, [GENERATOR, '--check'], { encoding: 'utf8' })).toContain('up to date');
  });

  it('enum values match a hand count of unicorn.h and x86.h', () => {
    // uc_arch: ARM = 1, ARM64, MIPS, X86 -> 4.
    expect(UcArch.X86).toBe(4);
    // uc_mode: UC_MODE_64 = 1 << 3.
    expect(UcMode.MODE_64).toBe(8);
    // uc_x86_reg: INVALID 0, AH 1, AL 2, AX 3, BH 4, BL 5, BP 6, BPL 7, BX 8, CH 9, CL 10, CS 11,
    // CX 12, DH 13, DI 14, DIL 15, DL 16, DS 17, DX 18, EAX 19, EBP 20, EBX 21, ECX 22, EDI 23,
    // EDX 24, EFLAGS 25, EIP 26, ES = EIP + 2 = 28, ESI 29, ESP 30, FPSW 31, FS 32, GS 33, IP 34,
    // RAX 35, RBP 36, RBX 37, RCX 38, RDI 39, RDX 40, RIP 41, RSI = RIP + 2 = 43, RSP 44.
    expect([X86Reg.EAX, X86Reg.ES, X86Reg.RAX, X86Reg.RBX, X86Reg.RIP, X86Reg.RSI, X86Reg.RSP]).toEqual([19, 28, 35, 37, 41, 43, 44]);
    // UC_HOOK_MEM_INVALID = the six unmapped/prot bits 1<<4 .. 1<<9.
    expect(UcHookType.MEM_INVALID).toBe(0b1111110000);
    expect(UcProt.ALL).toBe(UcProt.READ | UcProt.WRITE | UcProt.EXEC);
    expect(UcQueryType.TIMEOUT).toBe(4);
  });

  it('every uc_err value is the one libunicorn names in uc_strerror', () => {
    // 2.0.1's uc_strerror texts end with the enumerator's name, e.g. "... (UC_ERR_READ_UNMAPPED)",
    // except for UC_ERR_HOOK_EXIST, which it has no text for.
    for (const [name, value] of Object.entries(UcErr)) {
      const text = native().uc_strerror(value);
      if (name === 'HOOK_EXIST') expect(text).toBe('Unknown error code');
      else expect(text, name).toMatch(new RegExp(`\\(UC_ERR_${name}\\)$`));
      expect(ucErrName(value)).toBe(`UC_ERR_${name}`);
    }
    expect(ucErrName(99)).toBe('UC_ERR_UNKNOWN_99');
  });

  it('a UnicornError names its uc_err even when uc_strerror does not', () => {
    const e = new UnicornError('uc_hook_add', UcErr.HOOK_EXIST, native().uc_strerror(UcErr.HOOK_EXIST));
    expect(e.message).toBe('uc_hook_add: Unknown error code (UC_ERR_HOOK_EXIST)');
    expect(e.code).toBe('UC_ERR_HOOK_EXIST');
  });

  it('the loaded library is unicorn 2.0.1, as the headers are', () => {
    // uc_version packs major << 24 | minor << 16 | patch << 8 | extra (0xff for a release).
    expect(ucVersion()).toBe(0x020001ff);
  });
});

describe('register widths', () => {
  it.each([
    { name: 'RAX', reg: X86Reg.RAX, width: 8 }, { name: 'AL (zero-extended)', reg: X86Reg.AL, width: 8 },
    { name: 'RIP', reg: X86Reg.RIP, width: 8 }, { name: 'FS_BASE', reg: X86Reg.FS_BASE, width: 8 },
    { name: 'XMM15', reg: X86Reg.XMM15, width: 16 }, { name: 'YMM0', reg: X86Reg.YMM0, width: 32 },
    { name: 'ZMM31', reg: X86Reg.ZMM31, width: 64 }, { name: 'ST7 (80-bit)', reg: X86Reg.ST7, width: 10 },
    { name: 'FP0 (80-bit)', reg: X86Reg.FP0, width: 10 }, { name: 'MSR (a struct)', reg: X86Reg.MSR, width: 0 },
    { name: 'GDTR (a struct)', reg: X86Reg.GDTR, width: 0 }, { name: 'INVALID', reg: X86Reg.INVALID, width: 0 },
    { name: 'ENDING', reg: X86Reg.ENDING, width: 0 },
  ])('$name moves $width bytes', ({ reg, width }) => {
    expect(regWidth(UcArch.X86, reg)).toBe(width);
  });
});

describe('generator expression evaluator', () => {
  it.each([
    ['literal', '42', 42n],
    ['hex literal', '0x3f0', 0x3f0n],
    ['shift', '1 << 30', 1n << 30n],
    ['+ binds tighter than << (C precedence)', '1 + 1 << 2', 8n],
    ['| is lowest', '1 << 4 | 1 << 5', 48n],
    ['parentheses', '(1 + 2) + 3', 6n],
    ['parentheses change precedence', '1 << (1 + 1)', 4n],
    ['earlier names', 'A + B', 7n],
  ])('%s', (_name, expr, value) => {
    expect(evaluate(expr, new Map([['A', 3n], ['B', 4n]]))).toBe(value);
  });

  it('rejects what it cannot evaluate', () => {
    expect(() => evaluate('sizeof(int)', new Map())).toThrow();
    expect(() => evaluate('UNKNOWN + 1', new Map())).toThrow(/unknown name/);
  });

  it('numbers enum entries after explicit values, like C', () => {
    const known = new Map<string, bigint>();
    const enums = parseEnums('typedef enum e { A = 1, B, C = B + 2, D, } e;', known);
    expect(enums.get('e')).toEqual([
      { name: 'A', value: 1n }, { name: 'B', value: 2n }, { name: 'C', value: 4n }, { name: 'D', value: 5n },
    ]);
  });
});
