// Budgets, statistics, and instructions that are refused when reached.

import { describe, expect, test } from 'vitest';
import {
  DEFAULT_INSN_BUDGET, Environment, InterpProgram, Interpreter, Kind, runProgram,
} from '../../src/interp/index.js';
import { Class, Mode, Size, insn } from '../../src/isa/index.js';
import { alu32, alu64, exit, ja, label, lddw, ldMapFd, mov64, prog, runError } from './build.js';


describe('instruction budget', () => {
  test('an infinite loop ends in interp.budget after exactly the budget', () => {
    const p = prog(mov64(0, 0), label('loop'), alu64('ADD', 0, 1), ja('loop'));
    const e = runError(p, { budget: { insns: 1001 } });
    expect(e.code).toBe('interp.budget');
    expect(e.details.stats?.insns).toBe(1001);
    // 1 + 500 × 2 = 1001 executed; the next one, the add at slot 1, is not
    expect(e.location.insn).toBe(1);
    expect(e.message).toMatch(/1001 instructions and 0 tail calls/);
  });

  test('the default budget is 10 million instructions', () => {
    expect(DEFAULT_INSN_BUDGET).toBe(10_000_000);
    const e = runError(prog(label('l'), ja('l')));
    expect(e.details.stats?.insns).toBe(10_000_000);
  });

  test('a program that needs exactly the budget completes', () => {
    // mov, 3 × add, exit = 5 instructions
    const p = [mov64(0, 0), alu64('ADD', 0, 1), alu64('ADD', 0, 1), alu64('ADD', 0, 1), exit()];
    const res = runProgram(p, { budget: { insns: 5 } });
    expect(res.r0).toBe(3n);
    expect(res.stats.insns).toBe(5);
    expect(runError(p, { budget: { insns: 4 } }).code).toBe('interp.budget');
  });

  test('a wall-time budget stops a long run', () => {
    const e = runError(prog(label('l'), ja('l')), { budget: { insns: Number.MAX_SAFE_INTEGER, wallMs: 20 } });
    expect(e.code).toBe('interp.budget');
    expect(e.message).toMatch(/wall-time budget of 20 ms/);
  });
});

describe('statistics', () => {
  test('ld_imm64 counts as one instruction', () => {
    expect(runProgram([lddw(0, 1n), lddw(1, 2n), exit()]).stats.insns).toBe(3);
  });

  test('a run without calls has depth 1 and no tail calls', () => {
    const s = runProgram([mov64(0, 0), exit()]).stats;
    expect(s).toEqual({
      insns: 2, helperCalls: 0, localCalls: 0,
      tailCalls: { taken: 0, refused: { emptySlot: 0, outOfBounds: 0, limit: 0 } },
      maxCallDepth: 1, maxChainLength: 0,
    });
  });
});

describe('refused instructions', () => {
  test('an unknown opcode is refused with interp.bad-insn when reached, naming its slot', () => {
    const p = [lddw(0, 0n), insn(0xff), exit()];
    const e = runError(p);
    expect(e.code).toBe('interp.bad-insn');
    expect(e.location.insn).toBe(2);
    expect(e.message).toMatch(/unknown opcode 0xff/);
  });

  test('an unknown opcode that is never reached does not matter', () => {
    expect(runProgram(prog(mov64(0, 4), ja('end'), insn(0xff), label('end'), exit())).r0).toBe(4n);
  });

  test('sdiv with an offset other than 0 or 1 is no instruction', () => {
    expect(runError([mov64(0, 1), alu64('DIV', 0, 1, 2), exit()]).code).toBe('interp.bad-insn');
  });

  test('a jump outside the program is refused', () => {
    const e = runError([{ ...insn(Class.JMP, 0, 0, 5) }, exit()]);
    expect(e.code).toBe('interp.bad-insn');
    expect(e.message).toMatch(/slot 6 is outside the program/);
  });

  test('a jump into the second half of ld_imm64 is refused', () => {
    const e = runError([insn(Class.JMP, 0, 0, 1), lddw(0, 1n), exit()]);
    expect(e.message).toMatch(/second half of an ld_imm64/);
  });

  test('writing r10 is refused', () => {
    const e = runError([mov64(10, 0), exit()]);
    expect(e.code).toBe('interp.bad-insn');
    expect(e.message).toMatch(/r10 is read-only/);
  });

  test('running past the last instruction is interp.fall-off', () => {
    const e = runError([mov64(0, 0), mov64(1, 1)]);
    expect(e.code).toBe('interp.fall-off');
    // the slot after the last instruction
    expect(e.location.insn).toBe(2);
  });

  test('legacy LD_ABS is refused with interp.unsupported', () => {
    const e = runError([insn(Class.LD | Mode.ABS | Size.W, 0, 0, 0, 4), exit()]);
    expect(e.code).toBe('interp.unsupported');
    expect(e.message).toMatch(/LD_ABS/);
  });

  test('ld_imm64 with a pseudo source needs the environment', () => {
    const e = runError([ldMapFd(1, 3), exit()]);
    expect(e.code).toBe('interp.pseudo');
    expect(e.message).toMatch(/BPF_PSEUDO_MAP_FD/);
  });

  test('ld_imm64 map_fd resolves to the prog array address the environment gave', () => {
    const env = new Environment();
    const { address } = env.addProgArray({ maxEntries: 1, slots: [null] }, 3);
    expect(runProgram([ldMapFd(0, 3), exit()], { env }).r0).toBe(address);
  });

  test('the decoder picks the semantic kind once', () => {
    const p = new InterpProgram([alu32('DIV', 0, 3, 1), exit()]);
    expect(p.code.map((o) => o.kind)).toEqual([Kind.SDIV32, Kind.EXIT, Kind.FALL_OFF]);
  });
});

describe('options', () => {
  test.each([NaN, -1])('a budget of %s is refused with interp.options', (insns) => {
    expect(() => new Interpreter([exit()], { budget: { insns } })).toThrow(expect.objectContaining({ code: 'interp.options' }));
  });

  test('args set r1..r5', () => {
    const it = new Interpreter([exit()], { args: [1n, 2n, -3n] });
    it.run();
    expect(it.registers().slice(1, 5)).toEqual([1n, 2n, 0xfffffffffffffffdn, 0n]);
  });
});
