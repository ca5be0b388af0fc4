// JIT throughput: BPF instructions per second through src/jit for generated programs of 10k,
// 100k and 1M instructions (8-byte slots, as the kernel counts them), and how the cost per
// instruction grows with size. Verify+JIT is measured separately where the verifier takes the
// program (src/verifier gives up past 1M processed instructions, as the kernel does).
//
//   node dist/bench/jit-throughput.js [SIZES...]     (default: 10000 100000 1000000)
//
// The programs are one function of straight-line code cut by forward jumps, in blocks of 16-40
// instructions: ALU on six scratch registers and four long-lived unknown values (r6-r9, from
// bpf_ktime_get_ns), stack loads and stores, 64-bit constants, a helper call in one block of ten,
// conditional jumps forward within the block or to one of the next three blocks, and if/else
// shapes whose `then` arm ends with `ja` over the `else` arm. Jump distances spread over the
// short/near boundary, so the pass loop shrinks jumps over several passes. Every path reaches the
// same abstract state at the start of each block, so the verifier's path search stays linear in
// the program's size instead of doubling at each branch; the verifier's output is checked to
// JIT to the same bytes as the hand-built input.

import { pathToFileURL } from 'node:url';
import { ProgramBuilder } from '../src/asm/index.js';
import { AluOp, Class, JmpOp, LD_IMM64, Layout, Mode, Size, Source, insn, ldImm64, type Insn } from '../src/isa/index.js';
import { jitProgram, type JitResult, type KernelSymbols } from '../src/jit/index.js';
import { PROFILES } from '../src/profile/index.js';
import { verify, type KernelLayout, type VerifiedProgram } from '../src/verifier/index.js';
import type { ObjectFile, ProgramSpec } from '../src/elf/index.js';
import { KALLSYMS } from '../emu/kernel/text.js';

const PROFILE = PROFILES['linux-5.10'];
const KTIME_GET_NS = 5;
const STACK_DEPTH = 64;
/** r10-8 .. r10-32 hold spilled unknowns; r10-40 .. r10-64 hold plain bytes. */
const SPILL_SLOTS = [-8, -16, -24, -32];
const MISC_SLOTS = [-40, -48, -56, -64];
const SCRATCH = [0, 1, 2, 3, 4, 5];
const UNKNOWN = [6, 7, 8, 9];

const SYMBOLS: KernelSymbols = {
  bpfCallBase: KALLSYMS.__bpf_call_base,
  returnThunk: KALLSYMS.srso_alias_return_thunk,
  indirectThunkRcx: KALLSYMS.__x86_indirect_thunk_rcx,
  exHandlerBpf: KALLSYMS.ex_handler_bpf,
};

const LAYOUT: KernelLayout = {
  bpfCallBase: KALLSYMS.__bpf_call_base,
  helperAddress: (id) => (id === KTIME_GET_NS ? KALLSYMS.bpf_ktime_get_ns : undefined),
  mapAddress: () => { throw new Error('no maps'); },
  mapValueAddress: () => { throw new Error('no maps'); },
};

// --- the generator ------------------------------------------------------------------------------

/** xorshift32: the same programs on every run. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s ^= this.s << 13;
    this.s ^= this.s >>> 17;
    this.s ^= this.s << 5;
    return (this.s >>> 0) / 2 ** 32;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
}

const alu64 = (op: number, dst: number, src: number | null, imm = 0): Insn =>
  src === null ? insn(Class.ALU64 | op | Source.K, dst, 0, 0, imm) : insn(Class.ALU64 | op | Source.X, dst, src);
const alu32 = (op: number, dst: number, src: number | null, imm = 0): Insn =>
  src === null ? insn(Class.ALU | op | Source.K, dst, 0, 0, imm) : insn(Class.ALU | op | Source.X, dst, src);
const SIZES = [Size.B, Size.H, Size.W, Size.DW];
const bytesOf = (size: number): number => ({ [Size.B]: 1, [Size.H]: 2, [Size.W]: 4, [Size.DW]: 8 })[size]!;

interface Item {
  readonly insn: Insn;
  /** The label a jump goes to. */
  readonly label?: string;
}

/** One instruction of the straight-line mix (no jumps). */
function straightOp(rng: Rng): Insn {
  const r = rng.next();
  const s = rng.pick(SCRATCH);
  const any = rng.int(0, 9);
  const u = rng.pick(UNKNOWN);
  if (r < 0.35) {
    const op = rng.pick([AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.AND, AluOp.OR, AluOp.XOR, AluOp.MOV]);
    return rng.next() < 0.5 ? alu64(op, s, any) : alu64(op, s, null, rng.int(-1000, 100000));
  }
  if (r < 0.41) return alu64(rng.pick([AluOp.LSH, AluOp.RSH, AluOp.ARSH]), s, null, rng.int(1, 63));
  if (r < 0.43) return alu64(rng.pick([AluOp.DIV, AluOp.MOD]), s, null, rng.int(1, 1000));
  if (r < 0.51) {
    const op = rng.pick([AluOp.ADD, AluOp.SUB, AluOp.XOR, AluOp.OR, AluOp.MOV, AluOp.LSH]);
    if (op === AluOp.LSH) return alu32(op, s, null, rng.int(1, 31));
    return rng.next() < 0.5 ? alu32(op, s, any) : alu32(op, s, null, rng.int(0, 65535));
  }
  if (r < 0.59) {
    // Long-lived unknowns: only operations that keep them unknown over the whole range.
    const op = rng.pick([AluOp.ADD, AluOp.SUB, AluOp.XOR, AluOp.MUL, AluOp.OR]);
    return rng.next() < 0.5 ? alu64(op, u, rng.pick(UNKNOWN)) : alu64(op, u, null, rng.int(1, 1 << 20));
  }
  if (r < 0.60) return insn(Class.ALU64 | AluOp.NEG, s);
  if (r < 0.75) {
    const size = rng.pick(SIZES);
    const slot = rng.pick([...SPILL_SLOTS, ...MISC_SLOTS]);
    return insn(Class.LDX | Mode.MEM | size, s, 10, slot + rng.int(0, 8 / bytesOf(size) - 1) * bytesOf(size));
  }
  if (r < 0.86) {
    // Stores of unknowns: whole spills, or bytes of the plain slots.
    const size = rng.pick(SIZES);
    const slot = size === Size.DW ? rng.pick(SPILL_SLOTS) : rng.pick(MISC_SLOTS) + rng.int(0, 8 / bytesOf(size) - 1) * bytesOf(size);
    return insn(Class.STX | Mode.MEM | size, 10, u, slot);
  }
  if (r < 0.95) return insn(Class.ST | Mode.MEM | rng.pick(SIZES), 10, 0, rng.pick(MISC_SLOTS), rng.int(1, 1000));
  return ldImm64(s, BigInt(rng.int(0, 2 ** 31)) * 0x1_0000_0001n);
}

/**
 * One block's body of about `len` instructions: the straight-line mix, conditional jumps
 * forward within the block or to one of the next three blocks, and if/else shapes (a jump over
 * the `then` arm, which ends with `ja` over the `else` arm). `labels` maps a position to the
 * labels defined there; those at or past the end go before the next block.
 */
function blockBody(rng: Rng, block: number, len: number): { items: Item[]; labels: Map<number, string[]> } {
  const items: Item[] = [];
  const labels = new Map<number, string[]>();
  const at = (pos: number, name: string): string => {
    labels.set(pos, [...(labels.get(pos) ?? []), name]);
    return name;
  };
  // A jump at position `from` skips at least one instruction.
  const forward = (from: number): string =>
    rng.next() < 0.2 ? `b${block + rng.int(1, 3)}` : at(rng.int(from + 2, Math.max(from + 2, len)), `b${block}_j${from}`);
  while (items.length < len) {
    const r = rng.next();
    if (r < 0.10) {
      items.push(...conditionalJump(rng, forward, items.length));
    } else if (r < 0.13) {
      const id = `b${block}_if${items.length}`;
      const [thenLen, elseLen] = [rng.int(1, 12), rng.int(1, 12)];
      items.push(...conditionalJump(rng, () => `${id}_else`, items.length));
      for (let k = 0; k < thenLen; k++) items.push({ insn: straightOp(rng) });
      items.push({ insn: insn(Class.JMP | JmpOp.JA), label: `${id}_end` });
      at(items.length, `${id}_else`);
      for (let k = 0; k < elseLen; k++) items.push({ insn: straightOp(rng) });
      at(items.length, `${id}_end`);
    } else {
      items.push({ insn: straightOp(rng) });
    }
  }
  return { items, labels };
}

/** Jumps whose two sides leave the same abstract state (no range refinement of a long-lived register). */
function conditionalJump(rng: Rng, target: (from: number) => string, at: number): Item[] {
  const u = rng.pick(UNKNOWN);
  const k = rng.next();
  if (k < 0.35) {
    const op = rng.pick([JmpOp.JGT, JmpOp.JGE, JmpOp.JLT, JmpOp.JLE, JmpOp.JNE, JmpOp.JEQ, JmpOp.JSGT, JmpOp.JSLT]);
    return [{ insn: insn(Class.JMP | op | Source.X, u, rng.pick(UNKNOWN.filter((x) => x !== u))), label: target(at) }];
  }
  if (k < 0.55) return [{ insn: insn(Class.JMP | JmpOp.JSET | Source.K, u, 0, 0, 1 << rng.int(0, 30)), label: target(at) }];
  if (k < 0.75) {
    const op = rng.pick([JmpOp.JGT, JmpOp.JLT, JmpOp.JNE, JmpOp.JEQ]);
    return [{ insn: insn(Class.JMP32 | op | Source.K, u, 0, 0, rng.int(0, 1 << 30)), label: target(at) }];
  }
  // A fresh unknown in a scratch register, compared with a constant (the register is refined).
  const s = rng.pick([2, 3, 4, 5]);
  return [
    { insn: alu64(AluOp.MOV, s, u) },
    { insn: alu64(AluOp.XOR, s, rng.pick(UNKNOWN)) },
    { insn: insn(Class.JMP | rng.pick([JmpOp.JGT, JmpOp.JLT, JmpOp.JNE]) | Source.K, s, 0, 0, rng.int(0, 1 << 30)), label: target(at + 2) },
  ];
}

const call = (imm: number): Insn => insn(Class.JMP | JmpOp.CALL, 0, 0, 0, imm);

/** Scratch registers set the same way on every path (where the verifier's paths meet again). */
function reinit(rng: Rng): Insn[] {
  return [
    alu64(AluOp.MOV, 0, 6), alu64(AluOp.MOV, 1, 7), alu64(AluOp.MOV, 2, 8), alu64(AluOp.MOV, 3, 9),
    alu64(AluOp.MOV, 4, null, rng.int(0, 1 << 20)), alu64(AluOp.MOV, 5, 6), alu64(AluOp.ADD, 5, 7),
  ];
}

/** A program of exactly `slots` 8-byte slots (helper calls by id, as a loader hands them over). */
export function generate(slots: number, seed = 0x5eed): Insn[] {
  const rng = new Rng(seed);
  const b = new ProgramBuilder();
  let n = 0;
  const emit = (i: Insn, label?: string): void => {
    if (label === undefined) b.emit(i);
    else b.jump(i, label);
    n += i.code === LD_IMM64 ? 2 : 1;
  };
  const prologue = [
    call(KTIME_GET_NS), alu64(AluOp.MOV, 6, 0), call(KTIME_GET_NS), alu64(AluOp.MOV, 7, 0),
    alu64(AluOp.MOV, 8, 6), alu64(AluOp.XOR, 8, 7), alu64(AluOp.MOV, 9, 7), alu64(AluOp.MUL, 9, null, 0x1e3779b1),
    ...UNKNOWN.map((r, i) => insn(Class.STX | Mode.MEM | Size.DW, 10, r, SPILL_SLOTS[i])),
    ...MISC_SLOTS.map((off, i) => insn(Class.ST | Mode.MEM | Size.DW, 10, 0, off, 0x1111 * (i + 1))),
  ];
  prologue.forEach((i) => emit(i));
  const EPILOGUE = 2;
  let block = 0;
  // Each block: its label, sometimes a helper call, the re-initialisation, then the body.
  while (slots - n - EPILOGUE > 64) {
    b.label(`b${block}`);
    if (rng.next() < 0.1) [call(KTIME_GET_NS), alu64(AluOp.ADD, 6, 0)].forEach((i) => emit(i));
    reinit(rng).forEach((i) => emit(i));
    const { items, labels } = blockBody(rng, block, rng.int(16, 40));
    items.forEach((it, pos) => {
      for (const l of labels.get(pos) ?? []) b.label(l);
      emit(it.insn, it.label);
    });
    for (const [pos, names] of labels) if (pos >= items.length) names.forEach((l) => b.label(l));
    block++;
  }
  // Labels of the blocks the last ones jump to, then padding to the exact size.
  for (let k = block; k <= block + 3; k++) b.label(`b${k}`);
  while (n < slots - EPILOGUE) emit(alu64(AluOp.ADD, 0, null, 1));
  emit(alu64(AluOp.MOV, 0, 6));
  emit(insn(Class.JMP | JmpOp.EXIT));
  return b.build();
}

/** What fixup_bpf_calls() hands the JIT for these programs: helper immediates from __bpf_call_base. */
export function handBuilt(name: string, insns: readonly Insn[]): VerifiedProgram {
  const imm = Number(KALLSYMS.bpf_ktime_get_ns - KALLSYMS.__bpf_call_base);
  const fixed = insns.map((i) => (i.code === (Class.JMP | JmpOp.CALL) ? insn(i.code, 0, 0, 0, imm) : i));
  const slots = new Layout(fixed).slots;
  return {
    name, type: 'socket_filter', insns: fixed, pokes: [], usedMaps: [],
    funcs: [{ start: 0, end: slots, name, stackDepth: STACK_DEPTH, hasTailCall: false, tailCallReachable: false }],
  };
}

// --- measuring ----------------------------------------------------------------------------------

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

function jitOnce(vp: VerifiedProgram): { ms: number; value: JitResult } {
  return timed(() => jitProgram(vp, PROFILE, { symbols: SYMBOLS }));
}

const reps = (slots: number): number => (slots <= 10_000 ? 15 : slots <= 100_000 ? 5 : 3);
const sameImage = (a: JitResult, b: JitResult): boolean =>
  a.funcs.length === b.funcs.length && a.funcs.every((f, i) => Buffer.compare(f.image, b.funcs[i].image) === 0);

interface Row {
  slots: number;
  jit_ms_median: number;
  jit_ns_per_insn: number;
  jit_insns_per_s: number;
  passes: number;
  jit_ns_per_insn_per_pass: number;
  pass_lengths: readonly number[];
  image_bytes: number;
  rss_mb: number;
  verify?:
    | { ms_median: number; ns_per_insn: number; verify_plus_jit_ns_per_insn: number; same_image_as_hand_built: boolean }
    | { error: string; ms: number };
}

function specOf(name: string, insns: readonly Insn[]): { spec: ProgramSpec; obj: ObjectFile } {
  const spec: ProgramSpec = { name, section: 'socket', type: 'socket_filter', insns, funcs: [], lineInfo: [], license: 'GPL' };
  return { spec, obj: { programs: [spec], maps: [] } };
}

const verifyOnce = (name: string, insns: readonly Insn[]) => {
  const { spec, obj } = specOf(name, insns);
  return timed(() => verify(spec, obj, { profile: PROFILE, layout: LAYOUT, backend: 'jit' }));
};

function measureVerify(slots: number, insns: readonly Insn[], handJit: JitResult, jitMs: number): Row['verify'] {
  const t0 = performance.now();
  try {
    const runs = Array.from({ length: slots <= 10_000 ? 3 : 1 }, () => verifyOnce(`bench${slots}`, insns));
    const ms = median(runs.map((r) => r.ms));
    const j = jitOnce(runs[0].value);
    return {
      ms_median: +ms.toFixed(1), ns_per_insn: Math.round((ms * 1e6) / slots),
      verify_plus_jit_ns_per_insn: Math.round(((ms + jitMs) * 1e6) / slots),
      same_image_as_hand_built: sameImage(j.value, handJit),
    };
  } catch (e) {
    return { error: (e as Error).message, ms: Math.round(performance.now() - t0) };
  }
}

function measure(slots: number): Row {
  const insns = generate(slots);
  const vp = handBuilt(`bench${slots}`, insns);
  jitOnce(vp); // warm-up
  const runs = Array.from({ length: reps(slots) }, () => jitOnce(vp));
  const ms = median(runs.map((r) => r.ms));
  const f = runs[0].value.funcs[0];
  return {
    slots, jit_ms_median: +ms.toFixed(1), jit_ns_per_insn: Math.round((ms * 1e6) / slots),
    jit_insns_per_s: Math.round(slots / (ms / 1000)), passes: f.passes,
    jit_ns_per_insn_per_pass: Math.round((ms * 1e6) / slots / f.passes),
    pass_lengths: f.passLengths, image_bytes: f.image.length,
    rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
    verify: measureVerify(slots, insns, runs[0].value, ms),
  };
}

function main(): void {
  const sizes = process.argv.slice(2).map(Number);
  verifyOnce('warm-up', generate(5_000)); // the verifier's code warmed up like the JIT's
  const rows = (sizes.length ? sizes : [10_000, 100_000, 1_000_000]).map(measure);
  const first = rows[0];
  const last = rows[rows.length - 1];
  console.log(JSON.stringify({
    node: process.version, profile: PROFILE.name,
    rows,
    growth: {
      [`jit_ns_per_insn_${last.slots}_over_${first.slots}`]: +(last.jit_ns_per_insn / first.jit_ns_per_insn).toFixed(2),
      [`jit_ns_per_insn_per_pass_${last.slots}_over_${first.slots}`]: +(last.jit_ns_per_insn_per_pass / first.jit_ns_per_insn_per_pass).toFixed(2),
    },
  }, null, 2));
}

// Run when executed, not when imported (by a test or a scratch script).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
