// `tailjit run` as a library: ELF objects and conformance-syntax programs, slots filled from the
// command line, the context options, the report and its text form.

import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRunReport, parseHexBytes, parseSlotAssignment, runFile } from '../../emu/run.js';

const PROGRAMS = join(import.meta.dirname, '../../programs');
const tmp = mkdtempSync(join(tmpdir(), 'tailjit-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('command-line values', () => {
  test('MAP:SLOT=PROG', () => {
    expect(parseSlotAssignment('jmp_table:3=target')).toEqual({ map: 'jmp_table', slot: 3, prog: 'target' });
    expect(() => parseSlotAssignment('jmp_table=target')).toThrow(/expected MAP:SLOT=PROG/);
    expect(() => parseSlotAssignment('jmp_table:-1=t')).toThrow(/expected MAP:SLOT=PROG/);
  });

  test('hex bytes', () => {
    expect([...parseHexBytes('00 ff 10')]).toEqual([0, 255, 16]);
    expect(() => parseHexBytes('abc')).toThrow(/even number of hex digits/);
  });
});

describe('ELF objects', () => {
  test('sub_twice with slot 0 = once_prog: 68 (tailcalls.md §8.2), the report in JSON and text', () => {
    const r = runFile(join(PROGRAMS, 'sub_twice.bpf.o'), { prog: 'entry', set: [parseSlotAssignment('jmp_table:0=once_prog')] });
    expect(r.kind).toBe('elf');
    expect(r.run.retval).toBe(68);
    expect(r.run.r0).toBe('0x44');
    expect(r.run.globals).toMatchObject({ cnt_target: 66 });
    expect(r.pokes[0].report.sites.map((s) => s.path)).toEqual([['C', 'D', 'B'], ['C', 'D', 'B']]);
    expect(r.program.jited_func_lens).toEqual([121, 124]); // tailcalls.md §10.1
    const text = formatRunReport(r);
    expect(text).toMatch(/^entry: retval 68 \(r0 0x44\)/);
    expect(text).toMatch(/tail calls: 66 taken/);
    expect(JSON.parse(JSON.stringify(r)).run.retval).toBe(68);
  });

  test('the first program that loaded runs by default; --ctx is the frame', () => {
    const r = runFile(join(PROGRAMS, 'maps.bpf.o'), { ctx: new Uint8Array(65) });
    expect(r.prog).toBe('count_len');
    expect(r.run.data_size).toBe(65);
    expect(r.run.retval).toBe(1); // maps.json: len 65, class 1, count 1
  });

  test('--trace counts x86 instructions', () => {
    const r = runFile(join(PROGRAMS, 'self_tail.bpf.o'), { prog: 'loop_direct', set: [parseSlotAssignment('jmp_table:0=loop_direct')], trace: true });
    expect(r.run.retval).toBe(34);
    expect(r.run.trace.x86_insns).toBeGreaterThan(34 * 10);
  });

  test('an unknown program is an error with the known names', () => {
    expect(() => runFile(join(PROGRAMS, 'maps.bpf.o'), { prog: 'nope' })).toThrow(/no program named nope \(known: count_len\)/);
  });
});

describe('assembly', () => {
  test('a .data file runs with its -- mem as r1/r2', () => {
    const f = join(tmp, 'sum.data');
    writeFileSync(f, '-- asm\nldxb %r0, [%r1]\nldxb %r2, [%r1+1]\nadd %r0, %r2\nexit\n-- mem\n05 07\n-- result\n0xc\n');
    const r = runFile(f);
    expect(r.kind).toBe('asm');
    expect(r.run.r0).toBe('0xc');
  });

  test('plain assembly with --ctx as the memory, helper calls through the kernel text', () => {
    const f = join(tmp, 'len.s');
    writeFileSync(f, 'ldxb %r6, [%r1+2]\ncall 8\nadd %r0, %r6\nexit\n');
    // the memory's third byte, plus bpf_get_smp_processor_id() = 0 (one CPU, number 0)
    const r = runFile(f, { ctx: parseHexBytes('010203') });
    expect(r.prog).toBe('len');
    expect(r.run.error).toBeNull();
    expect(r.run.retval).toBe(3);
  });
});
