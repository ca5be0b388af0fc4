// tail_call_reachable marking (tailcalls.md §7.3), direct versus indirect tail calls (§7.5,
// selftests.md §0.5) and the interpreter's refusal to mix tail calls with bpf2bpf calls (§7.1).

import { describe, expect, test } from 'vitest';
import * as h from './helpers.js';
import { JmpOp, Size, rejection } from './helpers.js';

const { mov64Imm, exit, callLocal, call, ldMap, jmpImm, ldx } = h;
const TAIL_CALL = 0xf5;
const ret0 = [mov64Imm(0, 0), exit()];
/** r2 = &prog_array (map 0); r3 = key; tail call: 4 instructions, 5 slots. */
const tailCall = (key: number) => [ldMap(2, 0), mov64Imm(3, key), call(12)];

describe('tail_call_reachable marking', () => {
  test('a 3-level chain main -> a -> b -> c, c tail-calls: main, a and b are marked, c is not', () => {
    // slots: main 0-1, a 2-3, b 4-5, c 6-12
    const insns = [callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), ...tailCall(0), ...ret0];
    const vp = h.run(insns, [h.progArray('pa', 1)], { funcs: [['main', 0], ['a', 2], ['b', 4], ['c', 6]] });
    expect(vp.funcs.map((f) => f.tailCallReachable)).toEqual([true, true, true, false]);
    expect(vp.funcs.map((f) => f.hasTailCall)).toEqual([false, false, false, true]);
  });

  test('a single-function program with a tail call is never marked (the JIT finds its own)', () => {
    const vp = h.run([...tailCall(0), ...ret0], [h.progArray('pa', 1)]);
    expect(vp.funcs[0].tailCallReachable).toBe(false);
    expect(vp.funcs[0].hasTailCall).toBe(true);
  });

  test('the sticky flag over-marks a later caller that reaches no tail call (check program of §7.3)', () => {
    // main calls d (-> e), then x (tail-calls), then b (-> c). Expected per §7.3: main and b
    // marked; d, e, c and x (whose mark comes from its own tail call) not.
    const main = [callLocal(4), callLocal(7), callLocal(12), ...ret0]; // slots 0-4
    const d = [callLocal(1), exit()]; // 5-6 -> e at 7
    const e = [...ret0]; // 7-8
    const x = [...tailCall(0), ...ret0]; // 9-14
    const b = [callLocal(1), exit()]; // 15-16 -> c at 17
    const c = [...ret0]; // 17-18
    const insns = [...main, ...d, ...e, ...x, ...b, ...c];
    const vp = h.run(insns, [h.progArray('pa', 4)], { funcs: [['main', 0], ['d', 5], ['e', 7], ['x', 9], ['b', 15], ['c', 17]] });
    expect(vp.funcs.map((f) => [f.name, f.tailCallReachable])).toEqual([
      ['main', true], ['d', false], ['e', false], ['x', false], ['b', true], ['c', false],
    ]);
  });
});

describe('direct or indirect', () => {
  const pa = [h.progArray('pa', 4)];
  const site = (vp: ReturnType<typeof h.run>) => vp.insns.find((i) => i.code === TAIL_CALL)!;

  test('a constant key below max_entries gets a poke descriptor (imm = index + 1)', () => {
    const vp = h.run([...tailCall(3), ...ret0], pa);
    expect(site(vp).imm).toBe(1);
    expect(vp.pokes).toEqual([{ insnIdx: 3, mapIndex: 0, key: 3, func: 0 }]);
  });

  test('a constant key >= max_entries is indirect (§7.5: key 9 on a 4-entry array)', () => {
    const vp = h.run([...tailCall(9), ...ret0], pa);
    expect(site(vp).imm).toBe(0);
    expect(vp.pokes).toEqual([]);
  });

  test('two paths with different constant keys poison the key: indirect', () => {
    // r0 = len; r3 = 0; if r0 == 0 goto +1; r3 = 1; r2 = map; tail call
    const insns = [ldx(Size.W, 0, 1, 0), mov64Imm(3, 0), jmpImm(JmpOp.JEQ, 0, 0, 1), mov64Imm(3, 1), ldMap(2, 0), call(12), ...ret0];
    expect(site(h.run(insns, pa)).imm).toBe(0);
  });

  test('two paths with the same constant key stay direct', () => {
    const insns = [ldx(Size.W, 0, 1, 0), mov64Imm(3, 2), jmpImm(JmpOp.JEQ, 0, 0, 1), mov64Imm(3, 2), ldMap(2, 0), call(12), ...ret0];
    const vp = h.run(insns, pa);
    expect(site(vp).imm).toBe(1);
    expect(vp.pokes[0].key).toBe(2);
  });

  test('a key loaded from a writable global is not a constant: indirect', () => {
    const insns = [h.ldMapValue(3, 1, 0), ldx(Size.W, 3, 3, 0), ldMap(2, 0), call(12), ...ret0];
    expect(site(h.run(insns, [...pa, h.arrayMap('.bss', 4, 1, new Uint8Array(4))])).imm).toBe(0);
  });

  test('a key read from frozen .rodata is a constant (bpf_map_direct_read): direct', () => {
    const rodata = h.arrayMap('.rodata', 4, 1, Uint8Array.of(2, 0, 0, 0), 0x80);
    const vp = h.run([h.ldMapValue(3, 1, 0), ldx(Size.W, 3, 3, 0), ldMap(2, 0), call(12), ...ret0], [...pa, rodata]);
    expect(vp.pokes.map((p) => p.key)).toEqual([2]);
  });

  test('the interpreter gets every tail call indirect and a 512-byte stack', () => {
    const vp = h.run([...tailCall(0), ...ret0], pa, {}, h.interp);
    expect(site(vp).imm).toBe(0);
    expect(vp.funcs[0].stackDepth).toBe(512);
  });

  test('poke indices follow the order of the sites', () => {
    const vp = h.run([...tailCall(1), ...tailCall(2), ...ret0], pa);
    expect(vp.insns.filter((i) => i.code === TAIL_CALL).map((i) => i.imm)).toEqual([1, 2]);
    expect(vp.pokes.map((p) => [p.insnIdx, p.key])).toEqual([[3, 1], [7, 2]]);
  });
});

describe('tail calls and bpf2bpf calls together', () => {
  const insns = [callLocal(1), exit(), ...tailCall(0), ...ret0];
  const opts = { funcs: [['main', 0], ['f', 2]] as [string, number][] };

  test('the x86-64 JIT allows them', () => {
    expect(h.run(insns, [h.progArray('pa', 1)], opts).funcs[1].hasTailCall).toBe(true);
  });

  test('the interpreter refuses them with 5.10 words', () => {
    const e = rejection(() => h.run(insns, [h.progArray('pa', 1)], opts, h.interp));
    expect(e.code).toBe('verifier.tail-call-mixing');
    expect(e.kernelMessage).toBe('tail_calls are not allowed in non-JITed programs with bpf-to-bpf calls');
  });

  test('a prog array passed to another helper is refused', () => {
    const e = rejection(() => h.run([ldMap(1, 0), h.mov64Reg(2, 10), h.alu64Imm(0, 2, -8), h.st(Size.DW, 10, -8, 0), call(1), ...ret0], [h.progArray('pa', 1)]));
    expect(e.kernelMessage).toBe('cannot pass map_type 3 into func bpf_map_lookup_elem#1');
  });
});
