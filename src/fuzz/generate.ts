// Random fuzz cases from a seed: the same (seed, index, attempt) always gives the same case.
//
// What keeps a case valid under the Linux verifier (5.10 to 6.18): every register is set before
// it is read (case.ts's conventions), stack slots are written before the ops run and every access
// is inside the frame, subprograms call only subprograms after them (no recursion, at most
// 1 + 3 frames deep), frames are at most 6 slots (48 bytes: a call path stays far below 512 bytes,
// the callers of a tail-calling subprogram below 256 even in 5.10's 32-byte rounding), and there
// are no backward jumps. What keeps it small: at most one tail call site per function and two
// call sites; how much work the tail calls make depends on the kernel's counter (by value in
// 5.10/6.1: every call of a tail-calling subprogram starts a new chain of 33), which the runner
// measures and rejects (emu/fuzz).

import type { WriteGlobal } from '../elf/write.js';
import { ALU_OPS, JMP_OPS, type AluName } from './insns.js';
import type { CaseStep, Func, FuzzCase, Op, Reg } from './case.js';

/** mulberry32: a small, fast, well-mixed 32-bit generator. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0..n-1 */
  int(n: number): number { return n <= 1 ? 0 : this.next() % n; }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.next() / 0x100000000 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

/** One generator per case: a hash of seed, index and attempt. */
export function caseRng(seed: number, index: number, attempt = 0): Rng {
  let h = 0x811c9dc5;
  for (const v of [seed, index, attempt]) {
    for (let b = 0; b < 4; b++) h = Math.imul(h ^ ((v >>> (8 * b)) & 0xff), 0x01000193);
  }
  return new Rng(h);
}

export interface GenOptions {
  /** Programs besides nothing: 1..maxPrograms (default 3). */
  readonly maxPrograms?: number;
  /** Subprograms: 0..maxSubprograms (default 3). */
  readonly maxSubprograms?: number;
  /** Operations per function after its counter, at most (default 10). */
  readonly maxOps?: number;
  /** Runs of the entry program (default 1..3). */
  readonly maxRuns?: number;
}

const REGS: readonly Reg[] = [7, 8, 9];
const IMMS = [0, 1, -1, 2, 7, 0x7fffffff, -0x80000000, 0x1000, -12345, 0xff];
const KEYS = ['key0', 'key1'];
const ACCS = ['acc0', 'acc1'];

function imm(r: Rng): number {
  return r.chance(0.5) ? r.pick(IMMS) : (r.next() | 0) >> r.int(31);
}

function aluOp(r: Rng): Op {
  const op: AluName = r.pick(ALU_OPS);
  const is64 = r.chance(0.7);
  const dst = r.pick(REGS);
  const shift = op === 'lsh' || op === 'rsh' || op === 'arsh';
  if (r.chance(0.35)) return { k: 'alu', is64, op, dst, src: r.pick(REGS), imm: 0 };
  let v = shift ? r.int(is64 ? 64 : 32) : imm(r);
  if ((op === 'div' || op === 'mod') && v === 0) v = 3;
  return { k: 'alu', is64, op, dst, src: null, imm: v };
}

/** The entry point: a fresh case. */
export function generateCase(seed: number, index: number, attempt = 0, options: GenOptions = {}): FuzzCase {
  const r = caseRng(seed, index, attempt);
  const nProgs = r.range(1, options.maxPrograms ?? 3);
  const nSubs = r.range(0, options.maxSubprograms ?? 3);
  const maxOps = options.maxOps ?? 10;
  const slots = r.range(2, 4);
  const progNames = Array.from({ length: nProgs }, (_, i) => `p${i}`);
  const subNames = Array.from({ length: nSubs }, (_, i) => `s${i}`);

  const globals: WriteGlobal[] = [
    ...[...progNames, ...subNames].map((n): WriteGlobal => ({ name: `runs_${n}`, section: '.bss', size: 8 })),
    ...KEYS.map((n): WriteGlobal => ({ name: n, section: '.bss', size: 4 })),
    ...ACCS.map((n): WriteGlobal => ({ name: n, section: '.data', size: 8, init: BigInt(r.next()) })),
  ];

  const func = (name: string, callable: readonly string[]): Func => {
    const frame = r.int(7);
    let calls = 0;
    let tail = r.chance(0.6);
    const one = (inSkip: boolean): Op => {
      for (;;) {
        const w = r.int(16);
        if (w < 6) return aluOp(r);
        if (w < 8 && frame > 0) return { k: r.chance(0.5) ? 'spill' : 'fill', reg: r.pick(REGS), slot: r.int(frame) };
        if (w === 8) return { k: 'store', global: r.pick(ACCS), reg: r.pick(REGS) };
        if (w === 9) return { k: 'load', global: r.pick(ACCS), reg: r.pick(REGS) };
        if (w <= 11 && callable.length && calls < 2) { calls++; return { k: 'call', sub: r.pick(callable) }; }
        if (w === 12 && tail) {
          tail = false;
          return { k: 'tail', key: r.chance(0.5) ? { const: r.int(slots + 1) } : { global: r.pick(KEYS) } };
        }
        if (w === 13 && !inSkip) {
          const body = Array.from({ length: r.range(1, 2) }, () => one(true));
          return { k: 'skip', reg: r.pick(REGS), op: r.pick(JMP_OPS), imm: imm(r), body };
        }
      }
    };
    const ops: Op[] = [{ k: 'count', global: `runs_${name}` }];
    const n = r.range(1, maxOps);
    for (let i = 0; i < n; i++) ops.push(one(false));
    return { name, frame, init: [imm(r), imm(r), imm(r)], ops, ret: r.pick(REGS) };
  };
  const subprograms = subNames.map((n, i) => func(n, subNames.slice(i + 1)));
  const programs = progNames.map((n) => func(n, subNames));

  // Steps: fill some slots, then runs with changes between them.
  const steps: CaseStep[] = [];
  const filled: boolean[] = new Array(slots).fill(false);
  const setSlot = (slot: number) => { steps.push({ set: { slot, prog: r.pick(progNames) } }); filled[slot] = true; };
  for (let s = 0; s < slots; s++) if (r.chance(0.6)) setSlot(s);
  const change = () => {
    const w = r.int(10);
    if (w < 4) setSlot(r.int(slots));
    else if (w < 6 && filled.some(Boolean)) {
      const s = r.pick(filled.flatMap((f, i) => (f ? [i] : [])));
      steps.push({ del: { slot: s } });
      filled[s] = false;
    } else if (w < 9) steps.push({ setvar: { name: r.pick(KEYS), value: r.int(slots + 1) } });
    else steps.push({ reset: {} });
  };
  if (r.chance(0.5)) steps.push({ setvar: { name: r.pick(KEYS), value: r.int(slots + 1) } });
  const runs = r.range(1, options.maxRuns ?? 3);
  for (let i = 0; i < runs; i++) {
    if (i > 0) for (let c = r.range(1, 2); c > 0; c--) change();
    steps.push({ run: {} });
  }
  return { seed, index, programs, subprograms, slots, globals, steps };
}
