// The rewrites from the verified program to the xlated one, on hand-built programs. The
// instruction sequences are the ones 5.10.223 produced for test/verifier/fixtures
// (expected-5.10.223/rewrites.json, ctx_fields.json), restated here per rule.

import { describe, expect, test } from 'vitest';
import { xlatedForDump, slotCount } from '../../src/verifier/index.js';
import * as h from './helpers.js';
import { AluOp, Class, JmpOp, Size, Source, PseudoSrc, insn, ldImm64, CALL_BASE, layout, rejection } from './helpers.js';

const { mov64Imm, mov64Reg, alu64Imm, alu64Reg, ldx, st, exit, call, callLocal, ldMap, jmpImm, ja } = h;
const ret0 = [mov64Imm(0, 0), exit()];
const short = (i: { code: number; dst: number; src: number; off: number; imm: number }) => [i.code, i.dst, i.src, i.off, i.imm];

describe('map references and helper calls', () => {
  test('ld_imm64 of a map becomes its address with src_reg 0; the dump shows the map id again', () => {
    const vp = h.run([ldMap(1, 0), ...ret0], [h.arrayMap('a', 8, 4)]);
    expect(vp.insns[0]).toEqual(ldImm64(1, layout.mapAddress(0)));
    const dump = xlatedForDump(vp, () => 42);
    expect(dump[0]).toEqual(insn(0x18, 1, PseudoSrc.MAP_FD, 0, 42, 0));
  });

  test('a global is the value address plus its offset; the dump keeps the offset in the second slot', () => {
    const vp = h.run([h.ldMapValue(1, 0, 4), ...ret0], [h.arrayMap('.bss', 8, 1, new Uint8Array(8))]);
    expect(vp.insns[0]).toEqual(ldImm64(1, layout.mapValueAddress(0) + 4n));
    expect(xlatedForDump(vp, () => 7)[0]).toEqual(insn(0x18, 1, PseudoSrc.MAP_VALUE, 0, 7, 4));
  });

  test('a helper call gets imm = helper - __bpf_call_base', () => {
    const vp = h.run([call(5), ...ret0]);
    expect(vp.insns[0].imm).toBe(Number(layout.helperAddress(5)! - CALL_BASE));
  });

  test("a helper id past 5.10's last (155) is an invalid func", () => {
    const e = rejection(() => h.run([call(500), ...ret0]));
    expect(e.kernelMessage).toBe('invalid func unknown#500');
  });

  test('a helper the kernel layout lacks is an unknown func, by name', () => {
    const e = rejection(() => h.run([call(7), ...ret0], [], {}, { ...h.jit, layout: { ...layout, helperAddress: () => undefined } }));
    expect(e.kernelMessage).toBe('unknown func bpf_get_prandom_u32#7');
  });

  test('bpf_tail_call becomes 0xf5 and dumps as call 12', () => {
    const vp = h.run([ldMap(2, 0), mov64Imm(3, 0), call(12), ...ret0], [h.progArray('pa', 1)]);
    expect(short(vp.insns[2])).toEqual([0xf5, 0, 0, 0, 1]);
    expect(short(xlatedForDump(vp)[2])).toEqual([0x85, 0, 0, 0, 12]);
  });

  test('a bpf2bpf call keeps its relative imm; the dump has off = relative, imm = callee index', () => {
    const vp = h.run([callLocal(1), exit(), ...ret0]);
    expect(short(vp.insns[0])).toEqual([0x85, 0, 1, 0, 1]);
    expect(short(xlatedForDump(vp)[0])).toEqual([0x85, 0, 1, 1, 1]);
  });
});

describe('map lookups of a JIT-ed program (array_map_gen_lookup, htab_map_gen_lookup)', () => {
  const lookup = [st(Size.W, 10, -4, 0), ldMap(1, 0), mov64Reg(2, 10), alu64Imm(AluOp.ADD, 2, -4), call(1), ...ret0];
  const inline = (elemOp: ReturnType<typeof insn>, max: number) => [
    alu64Imm(AluOp.ADD, 1, 0x110),
    ldx(Size.W, 0, 2, 0),
    jmpImm(JmpOp.JGE, 0, max, 3),
    elemOp,
    alu64Reg(AluOp.ADD, 0, 1),
    ja(1),
    mov64Imm(0, 0),
  ];

  test('8-byte values: the index is shifted by 3', () => {
    const vp = h.run(lookup, [h.arrayMap('a', 8, 4)]);
    expect(vp.insns.slice(4, 11)).toEqual(inline(alu64Imm(AluOp.LSH, 0, 3), 4));
  });

  test('12-byte values round to 16: shift by 4', () => {
    const vp = h.run(lookup, [h.arrayMap('a', 12, 3)]);
    expect(vp.insns[7]).toEqual(alu64Imm(AluOp.LSH, 0, 4));
  });

  test('24-byte values: a multiplication', () => {
    const vp = h.run(lookup, [h.arrayMap('a', 24, 5)]);
    expect(vp.insns[7]).toEqual(alu64Imm(AluOp.MUL, 0, 24));
  });

  test('a hash lookup calls __htab_map_lookup_elem and steps over the element header (48 + round_up(key, 8))', () => {
    const vp = h.run(lookup, [{ name: 'h', type: h.MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8, flags: 0 }]);
    expect(vp.insns.slice(4, 7).map(short)).toEqual([
      [0x85, 0, 0, 0, 0x500000],
      short(jmpImm(JmpOp.JEQ, 0, 0, 1)),
      short(alu64Imm(AluOp.ADD, 0, 56)),
    ]);
  });

  test('the interpreter calls the helper instead', () => {
    const vp = h.run(lookup, [h.arrayMap('a', 8, 4)], {}, h.interp);
    expect(slotCount(vp)).toBe(8);
    expect(vp.insns[4].imm).toBe(0x1000);
  });
});

describe('division and modulo by a register', () => {
  test('64-bit division: if src != 0 skip the zeroing, else dst = 0', () => {
    const vp = h.run([mov64Imm(0, 7), mov64Imm(1, 0), alu64Reg(AluOp.DIV, 0, 1), exit()]);
    expect(vp.insns.slice(2, 6).map(short)).toEqual([
      short(jmpImm(JmpOp.JNE, 1, 0, 2)),
      short(insn(Class.ALU | AluOp.XOR | Source.X, 0, 0)),
      short(ja(1)),
      short(alu64Reg(AluOp.DIV, 0, 1)),
    ]);
  });

  test('32-bit modulo: JMP32 check over the mod, then a 32-bit self-move for the zero case', () => {
    const vp = h.run([mov64Imm(0, 7), mov64Imm(1, 0), insn(Class.ALU | AluOp.MOD | Source.X, 0, 1), exit()]);
    expect(vp.insns.slice(2, 6).map(short)).toEqual([
      short(insn(Class.JMP32 | JmpOp.JEQ | Source.K, 1, 0, 2, 0)),
      short(insn(Class.ALU | AluOp.MOD | Source.X, 0, 1)),
      short(ja(1)),
      short(insn(Class.ALU | AluOp.MOV | Source.X, 0, 0)),
    ]);
  });
});

describe('context accesses', () => {
  test('skb->len is sk_buff offset 112', () => {
    const vp = h.run([ldx(Size.W, 0, 1, 0), exit()]);
    expect(vp.insns[0]).toEqual(ldx(Size.W, 0, 1, 112));
  });

  test('skb->pkt_type grows into two instructions and a jump over it is moved', () => {
    // if r1 == 0 goto +1 (never: r1 is ctx... compare a scalar instead): r2 = 0; if r2 != 0 goto +1 over the load
    const vp = h.run([ldx(Size.W, 2, 1, 0), jmpImm(JmpOp.JNE, 2, 0, 1), ldx(Size.W, 2, 1, 4), mov64Reg(0, 2), exit()]);
    expect(vp.insns.map(short)).toEqual([
      short(ldx(Size.W, 2, 1, 112)),
      short(jmpImm(JmpOp.JNE, 2, 0, 2)),
      short(ldx(Size.B, 2, 1, 128)),
      short(insn(Class.ALU | AluOp.AND | Source.K, 2, 0, 0, 7)),
      short(mov64Reg(0, 2)),
      short(exit()),
    ]);
  });

  test('a narrow load of skb->len reads the whole field and masks it', () => {
    const vp = h.run([ldx(Size.B, 0, 1, 1), exit()]);
    expect(vp.insns.map(short)).toEqual([
      short(ldx(Size.W, 0, 1, 112)),
      short(insn(Class.ALU | AluOp.RSH | Source.K, 0, 0, 0, 8)),
      short(insn(Class.ALU | AluOp.AND | Source.K, 0, 0, 0, 0xff)),
      short(exit()),
    ]);
  });

  test('xdp_md->data is xdp_buff->data, an 8-byte load', () => {
    const vp = h.run([ldx(Size.W, 2, 1, 0), ldx(Size.W, 3, 1, 4), mov64Imm(0, 2), exit()], [], { type: 'xdp' });
    expect(vp.insns.slice(0, 2)).toEqual([ldx(Size.DW, 2, 1, 0), ldx(Size.DW, 3, 1, 8)]);
  });

  test('a socket filter may not write skb->mark', () => {
    const e = rejection(() => h.run([mov64Imm(2, 1), h.stx(Size.W, 1, 2, 8), ...ret0], [], { type: 'socket_filter' }));
    expect(e.kernelMessage).toBe('invalid bpf_context access off=8 size=4');
  });

  test('a field outside the table is "not modeled", never a guess', () => {
    const e = rejection(() => h.run([ldx(Size.W, 0, 1, 92), exit()]));
    expect(e.code).toBe('verifier.not-modeled');
    expect(e.message).toMatch(/context offset 92/);
  });
});

describe('dead code of a privileged load', () => {
  test('a branch the verifier decides becomes a ja, the dead slot goes, then the ja 0', () => {
    // 0: r1 = 0; 1: if r1 == 0 goto +1; 2: r1 = 5 (dead); 3: r0 = r1; 4: exit
    // hard-wire: slot 2 unseen -> ja +1; remove slot 2 -> ja +0; remove nop -> 3 slots.
    const vp = h.run([mov64Imm(1, 0), jmpImm(JmpOp.JEQ, 1, 0, 1), mov64Imm(1, 5), mov64Reg(0, 1), exit()]);
    expect(vp.insns).toEqual([mov64Imm(1, 0), mov64Reg(0, 1), exit()]);
  });

  test('a branch never taken whose target nothing else reaches becomes ja 0 and disappears', () => {
    // 0: r1 = 1; 1: if r1 == 0 goto +2; 2: r0 = 1; 3: exit; 4: r0 = 2 (dead); 5: exit (dead)
    const vp = h.run([mov64Imm(1, 1), jmpImm(JmpOp.JEQ, 1, 0, 2), mov64Imm(0, 1), exit(), mov64Imm(0, 2), exit()]);
    expect(vp.insns).toEqual([mov64Imm(1, 1), mov64Imm(0, 1), exit()]);
  });

  test('a branch whose both sides are reached is left alone', () => {
    // 0: r1 = 1; 1: if r1 == 0 goto +1; 2: r1 = 5; 3: r0 = r1; 4: exit (slot 3 follows slot 2)
    const insns = [mov64Imm(1, 1), jmpImm(JmpOp.JEQ, 1, 0, 1), mov64Imm(1, 5), mov64Reg(0, 1), exit()];
    expect(h.run(insns).insns).toEqual(insns);
  });

  test('a .rodata constant decides a branch', () => {
    const rodata = h.arrayMap('.rodata', 4, 1, Uint8Array.of(0, 0, 0, 0), 0x80);
    // r1 = *(u32 *)&rodata; if r1 != 0 goto +2; r0 = 1; exit; r0 = 2; exit
    const insns = [h.ldMapValue(1, 0, 0), ldx(Size.W, 1, 1, 0), jmpImm(JmpOp.JNE, 1, 0, 2), mov64Imm(0, 1), exit(), mov64Imm(0, 2), exit()];
    const vp = h.run(insns, [rodata]);
    expect(slotCount(vp)).toBe(5);
    expect(vp.insns.slice(2)).toEqual([mov64Imm(0, 1), exit()]);
  });

  test('a function only called from dead code is removed with it', () => {
    // main: r1 = 0; if r1 != 0 goto +1 -> never; call f (dead) ... f is unseen
    const insns = [mov64Imm(1, 0), jmpImm(JmpOp.JEQ, 1, 0, 1), callLocal(2), mov64Imm(0, 0), exit(), ...ret0];
    const vp = h.run(insns);
    expect(vp.funcs).toHaveLength(1);
    expect(vp.insns).toEqual([mov64Imm(1, 0), mov64Imm(0, 0), exit()]);
  });
});
