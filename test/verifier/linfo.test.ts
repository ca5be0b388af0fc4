// line_info through the verifier's rewrites: the kernel's bpf_adj_linfo() (a patch) and
// bpf_adj_linfo_after_remove() (a removal), first on the verifier's state directly, then through
// verify() on hand-built programs; and the slots errors name once the program has changed.
// Every expected value is a hand computation with those two rules, written out in the case.

import { describe, expect, test } from 'vitest';
import type { LineInfo, ProgramSpec } from '../../src/elf/types.js';
import { Env } from '../../src/verifier/env.js';
import { mov64Imm as kMov64Imm, toSlots } from '../../src/verifier/kinsn.js';
import { verify } from '../../src/verifier/index.js';
import * as h from './helpers.js';
import { JmpOp, Size, rejection } from './helpers.js';

const { mov64Imm, mov64Reg, ldx, jmpImm, exit } = h;

/** One record per offset, the i-th on line i + 1. */
const li = (...offs: number[]): LineInfo[] => offs.map((insnOff, i) => ({ insnOff, file: 'f.c', line: i + 1, column: 1, text: `line ${i + 1}` }));
const offs = (l: readonly LineInfo[] | undefined) => (l ?? []).map((x) => [x.insnOff, x.line]);

const withLines = (insns: ReturnType<typeof mov64Imm>[], lineInfo: LineInfo[]): ProgramSpec => ({ ...h.program(insns), lineInfo });

/** The verifier's state for a straight-line program of `slots` slots with records at `at`. */
function envOf(slots: number, at: number[]): Env {
  const p = withLines(Array.from({ length: slots }, () => mov64Imm(0, 0)), li(...at));
  return new Env(p, h.object([], p), h.jit, toSlots(p.insns));
}
const filler = (cnt: number) => Array.from({ length: cnt }, () => kMov64Imm(0, 0));

describe('Env.patch and Env.remove move line_info (bpf_adj_linfo, bpf_adj_linfo_after_remove)', () => {
  test('a patch of slot 2 into 4 slots moves the records after slot 2 by 3, not the one at 2', () => {
    const env = envOf(8, [0, 2, 3, 6]);
    env.patch(2, filler(4));
    expect(offs(env.lineInfo)).toEqual([[0, 1], [2, 2], [6, 3], [9, 4]]);
  });

  test('removing slots 2..3 drops their records and pulls later ones in by 2', () => {
    // Records at 2 and 4: slot 4 keeps its own record (now at 2), the one at 2 goes.
    const env = envOf(6, [0, 2, 4]);
    env.remove(2, 2);
    expect(offs(env.lineInfo)).toEqual([[0, 1], [2, 3]]);
  });

  test('the first live slot after a removal inherits the last removed record when it has none', () => {
    // Records at 0, 2, 3, 6; slots 2..4 removed: slot 5 (now 2) had no record, so it gets line 3's.
    const env = envOf(8, [0, 2, 3, 6]);
    env.remove(2, 3);
    expect(offs(env.lineInfo)).toEqual([[0, 1], [2, 3], [3, 4]]);
  });

  test('removing the tail of the program drops its records without inheritance', () => {
    const env = envOf(6, [0, 4]);
    env.remove(4, 2);
    expect(offs(env.lineInfo)).toEqual([[0, 1]]);
  });

  test('edits apply in order, each on the program the previous one left', () => {
    // 10 slots, records at 0, 5, 8: slot 1 becomes 3 slots (5 -> 7, 8 -> 10), then slots 7..8 go
    // (record 7 removed, slot 9 inherits it: 9 - 2 = 7), 10 -> 8.
    const env = envOf(10, [0, 5, 8]);
    env.patch(1, filler(3));
    env.remove(7, 2);
    expect(offs(env.lineInfo)).toEqual([[0, 1], [7, 2], [8, 3]]);
  });
});

describe("verify() returns the xlated program's line_info", () => {
  test('a context load that grows into two slots pushes the later records by one', () => {
    // skb->pkt_type (ctx offset 4) becomes a byte load and a mask (rewrites.test.ts): slot 0 is
    // two slots, so the records at 1 and 2 move to 2 and 3; the one at 0 stays on the load.
    const p = withLines([ldx(Size.W, 2, 1, 4), mov64Reg(0, 2), exit()], li(0, 1, 2));
    const vp = verify(p, h.object([], p), h.jit);
    expect(offs(vp.lineInfo)).toEqual([[0, 1], [2, 2], [3, 3]]);
  });

  test('dead code and the nop left of its branch take their records along, as the kernel does', () => {
    // 0: r1 = 0 (line 1); 1: if r1 == 0 goto +1 (line 2); 2: r1 = 5, dead (line 3); 3: r0 = r1
    // (no record); 4: exit (line 4). Slot 1 becomes `ja +1`; removing slot 2 makes slot 3 (now 2)
    // inherit line 3, since it has no record, and line 4 moves to 3; slot 1, now `ja 0`, goes
    // with line 2 (slot 2 has its own record), lines 3 and 4 move to 1 and 2.
    const p = withLines([mov64Imm(1, 0), jmpImm(JmpOp.JEQ, 1, 0, 1), mov64Imm(1, 5), mov64Reg(0, 1), exit()], li(0, 1, 2, 4));
    const vp = verify(p, h.object([], p), h.jit);
    expect(vp.insns).toEqual([mov64Imm(1, 0), mov64Reg(0, 1), exit()]);
    expect(offs(vp.lineInfo)).toEqual([[0, 1], [1, 3], [2, 4]]);
  });

  test('a program without line_info has none after the rewrites', () => {
    expect(h.run([mov64Imm(1, 0), jmpImm(JmpOp.JEQ, 1, 0, 1), mov64Imm(1, 5), mov64Reg(0, 1), exit()]).lineInfo).toEqual([]);
  });
});

describe('errors after the rewrites name slots of the program as loaded (orig_idx)', () => {
  test('a context field outside the table, met after dead code went, is reported at its own slot and line', () => {
    // 0: r2 = 0; 1: if r2 == 0 goto +1; 2: r0 = 1 (dead); 3: r0 = *(u32 *)(r1 + 92); 4: exit.
    // Slots 2 and then 1 (the `ja 0`) are gone when the load at 3 is converted, in slot 1.
    const p = withLines([mov64Imm(2, 0), jmpImm(JmpOp.JEQ, 2, 0, 1), mov64Imm(0, 1), ldx(Size.W, 0, 1, 92), exit()], li(0, 1, 2, 3, 4));
    const e = rejection(() => verify(p, h.object([], p), h.jit));
    expect(e.code).toBe('verifier.not-modeled');
    expect(e.slot).toBe(3);
    expect(e.location).toMatchObject({ insn: 3, line: 4 });
  });

  /** r0 = 0; r2 = skb->len; if r2 == 0 goto +n over skb->pkt_type (a load that grows by one) and n - 1 fillers; exit. */
  const jumpOverGrowingLoad = (n: number) =>
    [mov64Imm(0, 0), ldx(Size.W, 2, 1, 0), jmpImm(JmpOp.JEQ, 2, 0, n), ldx(Size.W, 3, 1, 4), ...Array.from({ length: n - 1 }, () => mov64Imm(0, 0)), exit()];

  test('a patch that pushes a jump past +32767 is refused at the patched slot (bpf_patch_insn_data)', () => {
    // The jump at slot 2 covers the load at slot 3; the load becoming two slots needs +32768.
    const e = rejection(() => h.run(jumpOverGrowingLoad(32767)));
    expect(e.code).toBe('verifier.patch-range');
    expect(e.kernelMessage).toBe('insn 3 cannot be patched due to 16-bit range');
    expect(e.slot).toBe(3);
  });

  test('a jump that still fits after the patch is moved to +32767', () => {
    const vp = h.run(jumpOverGrowingLoad(32766));
    expect(vp.insns[2].off).toBe(32767);
  });
});
