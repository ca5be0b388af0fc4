// A fuzz case: BPF programs and subprograms described as operations (so that the minimizer can
// drop them one by one), a prog array, integer globals, and the scenario steps that fill slots,
// write globals and run the entry program. `emitObject` turns it into the ELF writer's input,
// `scenarioSteps` into scenario.md steps.
//
// Register conventions every function keeps: r6 holds the context from the first instruction on
// (a tail call needs it in r1, a subprogram gets it as its first argument), r7-r9 carry scalar
// state across calls and tail calls' fall-throughs, r1-r5 are scratch inside one operation, and
// the stack frame is filled with constants before any operation reads it.

import { MapType } from '../elf/types.js';
import type { WriteFunc, WriteGlobal, WriteObjectSpec, WriteReloc } from '../elf/write.js';
import { width, type Insn } from '../isa/insn.js';
import { BPF_FUNC_tail_call } from '../isa/opcode.js';
import * as I from './insns.js';
import type { AluName, JmpName } from './insns.js';

export type Reg = 7 | 8 | 9;

export type Op =
  | { readonly k: 'alu'; readonly is64: boolean; readonly op: AluName; readonly dst: Reg; readonly src: Reg | null; readonly imm: number }
  /** `*(u64 *)(r10 - 8 * (slot + 1)) = reg` */
  | { readonly k: 'spill'; readonly reg: Reg; readonly slot: number }
  | { readonly k: 'fill'; readonly reg: Reg; readonly slot: number }
  /** `global += 1` (a u64 counter) */
  | { readonly k: 'count'; readonly global: string }
  /** `global = reg` / `reg = global` (u64) */
  | { readonly k: 'store'; readonly global: string; readonly reg: Reg }
  | { readonly k: 'load'; readonly global: string; readonly reg: Reg }
  /** `r7 += sub(ctx, r7)` */
  | { readonly k: 'call'; readonly sub: string }
  /** bpf_tail_call(ctx, map, key): a constant key (direct, poked) or a u32 global (indirect) */
  | { readonly k: 'tail'; readonly key: { readonly const: number } | { readonly global: string } }
  /** `if reg <op> imm goto +body`: the body is skipped when the condition holds */
  | { readonly k: 'skip'; readonly reg: Reg; readonly op: JmpName; readonly imm: number; readonly body: readonly Op[] };

export interface Func {
  readonly name: string;
  /** 8-byte stack slots, each stored with a constant on entry. */
  readonly frame: number;
  /** Initial r7 (programs only: a subprogram gets r7 from its second argument), r8, r9. */
  readonly init: readonly [number, number, number];
  readonly ops: readonly Op[];
  /** r0 on return. */
  readonly ret: Reg;
}

export type CaseStep =
  | { readonly set: { readonly slot: number; readonly prog: string } }
  | { readonly del: { readonly slot: number } }
  | { readonly setvar: { readonly name: string; readonly value: number } }
  | { readonly reset: Record<string, never> }
  | { readonly run: Record<string, never> };

export interface FuzzCase {
  readonly seed: number;
  readonly index: number;
  /** The entry program is the first. */
  readonly programs: readonly Func[];
  readonly subprograms: readonly Func[];
  /** max_entries of the prog array `jmp_table`. */
  readonly slots: number;
  readonly globals: readonly WriteGlobal[];
  readonly steps: readonly CaseStep[];
}

export const MAP_NAME = 'jmp_table';

/** Emits one function; relocations by instruction index. */
export function emitFunc(f: Func, isSub: boolean): WriteFunc {
  const insns: Insn[] = [];
  const relocs: WriteReloc[] = [];
  const e = (...xs: Insn[]) => { insns.push(...xs); };
  e(I.mov(6, 1));
  e(isSub ? I.mov(7, 2) : I.movImm(7, f.init[0]), I.movImm(8, f.init[1]), I.movImm(9, f.init[2]));
  for (let s = 0; s < f.frame; s++) e(I.stDw(10, -8 * (s + 1), (f.init[0] + 31 * s) | 0));
  const global = (dst: number, name: string) => { relocs.push({ insn: insns.length, global: name }); e(I.ldReloc(dst)); };
  const op = (o: Op): void => {
    switch (o.k) {
      case 'alu': e(I.alu(o.is64, o.op, o.dst, o.src, o.imm)); return;
      case 'spill': e(I.stxDw(10, o.reg, -8 * (o.slot + 1))); return;
      case 'fill': e(I.ldxDw(o.reg, 10, -8 * (o.slot + 1))); return;
      case 'count': global(1, o.global); e(I.ldxDw(2, 1, 0), I.alu(true, 'add', 2, null, 1), I.stxDw(1, 2, 0)); return;
      case 'store': global(1, o.global); e(I.stxDw(1, o.reg, 0)); return;
      case 'load': global(1, o.global); e(I.ldxDw(o.reg, 1, 0)); return;
      case 'call':
        e(I.mov(1, 6), I.mov(2, 7));
        relocs.push({ insn: insns.length, call: o.sub });
        e(I.callLocal(), I.alu(true, 'add', 7, 0));
        return;
      case 'tail':
        e(I.mov(1, 6));
        relocs.push({ insn: insns.length, map: MAP_NAME });
        e(I.ldReloc(2));
        if ('const' in o.key) e(I.movImm(3, o.key.const));
        else { global(3, o.key.global); e(I.ldxW(3, 3, 0)); }
        e(I.callHelper(BPF_FUNC_tail_call));
        return;
      case 'skip': {
        const at = insns.length;
        e(I.jmpImm(o.op, o.reg, o.imm, 0));
        o.body.forEach(op);
        const slots = insns.slice(at + 1).reduce((n, i) => n + width(i), 0);
        insns[at] = I.jmpImm(o.op, o.reg, o.imm, slots);
        return;
      }
    }
  };
  f.ops.forEach(op);
  e(I.mov(0, f.ret), I.exit());
  return { name: f.name, insns, relocs, ...(isSub ? { params: 2 } : {}) };
}

export function emitObject(c: FuzzCase): WriteObjectSpec {
  return {
    programs: c.programs.map((f) => emitFunc(f, false)),
    subprograms: c.subprograms.map((f) => emitFunc(f, true)),
    maps: [{ name: MAP_NAME, type: MapType.PROG_ARRAY, maxEntries: c.slots }],
    globals: c.globals,
  };
}

/** The case's steps as scenario.md writes them (JSON-ready). */
export function scenarioSteps(c: FuzzCase): unknown[] {
  return c.steps.map((s) => {
    if ('set' in s) return { set: { map: MAP_NAME, slot: s.set.slot, prog: s.set.prog } };
    if ('del' in s) return { del: { map: MAP_NAME, slot: s.del.slot } };
    return s;
  });
}

/** A scenario file's document for the case, its object beside it as `object`. */
export function scenarioDocument(c: FuzzCase, object: string, description?: string): Record<string, unknown> {
  return {
    ...(description !== undefined ? { description } : {}),
    object, entry: c.programs[0].name, steps: scenarioSteps(c),
  };
}

/** Every op of a function list, skip bodies included. */
export function* allOps(ops: readonly Op[]): Generator<Op> {
  for (const o of ops) {
    yield o;
    if (o.k === 'skip') yield* allOps(o.body);
  }
}
