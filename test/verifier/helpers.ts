// Fixtures for the verifier tests: a kernel layout with made-up addresses, hand-built
// programs and maps, the instruction builders of the kernel's filter.h by name, and readers
// of the kernel's answers (a rejection, the tail_call_reachable marks of a JIT image).

import { expect } from 'vitest';
import { insn, ldImm64, type Insn, Class, AluOp, JmpOp, Mode, Size, Source, PseudoSrc, CallSrc, LD_IMM64 } from '../../src/isa/index.js';
import type { MapSpec, ObjectFile, ProgramSpec, ProgTypeName } from '../../src/elf/types.js';
import { MapType } from '../../src/elf/types.js';
import { PROFILES } from '../../src/profile/index.js';
import type { KernelLayout } from '../../src/verifier/types.js';
import { verify, VerifierError, type VerifyOptions } from '../../src/verifier/index.js';

export const CALL_BASE = 0xffffffff81000000n;
/** Helper `id` lives at base + 0x1000 * id; map `i` at 0xffff8880_00100000 + 0x1000 * i. */
export const layout: KernelLayout = {
  bpfCallBase: CALL_BASE,
  helperAddress: (id) => (id > 0 && id < 200 ? CALL_BASE + 0x1000n * BigInt(id) : undefined),
  mapAddress: (i) => 0xffff888000100000n + 0x1000n * BigInt(i),
  mapValueAddress: (i) => 0xffff888000100000n + 0x1000n * BigInt(i) + 0x110n,
  kernelSymbol: (name) => {
    const known: Record<string, bigint> = {
      __htab_map_lookup_elem: CALL_BASE + 0x500000n,
      htab_map_update_elem: CALL_BASE + 0x501000n,
      htab_map_delete_elem: CALL_BASE + 0x502000n,
      array_map_update_elem: CALL_BASE + 0x503000n,
      array_map_delete_elem: CALL_BASE + 0x504000n,
      bpf_skb_load_helper_8_no_cache: CALL_BASE + 0x505000n,
      bpf_skb_load_helper_16_no_cache: CALL_BASE + 0x506000n,
      bpf_skb_load_helper_32_no_cache: CALL_BASE + 0x507000n,
    };
    return known[name];
  },
};

export const jit: VerifyOptions = { profile: PROFILES['linux-5.10'], layout, backend: 'jit' };
export const interp: VerifyOptions = { ...jit, backend: 'interp' };

// filter.h builders.
export const mov64Imm = (d: number, imm: number) => insn(Class.ALU64 | AluOp.MOV | Source.K, d, 0, 0, imm);
export const mov64Reg = (d: number, s: number) => insn(Class.ALU64 | AluOp.MOV | Source.X, d, s);
export const alu64Imm = (op: number, d: number, imm: number) => insn(Class.ALU64 | op | Source.K, d, 0, 0, imm);
export const alu64Reg = (op: number, d: number, s: number) => insn(Class.ALU64 | op | Source.X, d, s);
export const alu32Reg = (op: number, d: number, s: number) => insn(Class.ALU | op | Source.X, d, s);
export const ldx = (size: number, d: number, s: number, off: number) => insn(Class.LDX | Mode.MEM | size, d, s, off);
export const stx = (size: number, d: number, s: number, off: number) => insn(Class.STX | Mode.MEM | size, d, s, off);
export const st = (size: number, d: number, off: number, imm: number) => insn(Class.ST | Mode.MEM | size, d, 0, off, imm);
export const jmpImm = (op: number, d: number, imm: number, off: number) => insn(Class.JMP | op | Source.K, d, 0, off, imm);
export const ja = (off: number) => insn(Class.JMP | JmpOp.JA, 0, 0, off);
export const exit = () => insn(Class.JMP | JmpOp.EXIT);
export const call = (helper: number) => insn(Class.JMP | JmpOp.CALL, 0, 0, 0, helper);
export const callLocal = (rel: number) => insn(Class.JMP | JmpOp.CALL, 0, CallSrc.LOCAL, 0, rel);
export const ldMap = (d: number, map: number) => ldImm64(d, BigInt(map), PseudoSrc.MAP_FD);
export const ldMapValue = (d: number, map: number, off: number) => ldImm64(d, (BigInt(off) << 32n) | BigInt(map), PseudoSrc.MAP_VALUE);
export { insn, ldImm64, Class, AluOp, JmpOp, Mode, Size, Source, PseudoSrc, CallSrc, LD_IMM64, MapType };

export const progArray = (name: string, maxEntries: number): MapSpec => ({ name, type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries, flags: 0 });
export const arrayMap = (name: string, valueSize: number, maxEntries: number, initial?: Uint8Array, flags = 0): MapSpec =>
  ({ name, type: MapType.ARRAY, keySize: 4, valueSize, maxEntries, flags, initial });

/** Slots of `insns` at which functions start, given the function lengths in slots. */
export function program(insns: Insn[], opts: { type?: ProgTypeName; funcs?: [string, number][]; name?: string } = {}): ProgramSpec {
  return {
    name: opts.name ?? 'prog',
    section: 'tc',
    type: opts.type ?? 'sched_cls',
    insns,
    funcs: (opts.funcs ?? []).map(([name, insnOff]) => ({ name, insnOff, typeId: 0 })),
    lineInfo: [],
    license: 'GPL',
  };
}

export function object(maps: MapSpec[] = [], ...programs: ProgramSpec[]): ObjectFile {
  return { programs, maps };
}

/** Verifies a single program against its maps. */
export function run(insns: Insn[], maps: MapSpec[] = [], opts: Parameters<typeof program>[1] = {}, options: VerifyOptions = jit) {
  const p = program(insns, opts);
  return verify(p, object(maps, p), options);
}

/** The VerifierError `f` throws; any other outcome fails the test. */
export function rejection(f: () => unknown): VerifierError {
  try {
    f();
  } catch (e) {
    if (e instanceof VerifierError) return e;
    throw e;
  }
  throw new Error('the program was accepted');
}

/**
 * R(f) read back from the kernel's images (tailcalls.md §1.1-§1.2), one per function of a
 * golden program: a main function that is R starts `nop5; xor eax,eax`, and every R function
 * has `push rax` right after `mov rbp,rsp` (or after `sub rsp,imm32` when it has a stack).
 */
export function reachableFromImage(g: { readonly jited_hex: string; readonly jited_func_lens: readonly number[] }): boolean[] {
  const image = Buffer.from(g.jited_hex, 'hex');
  let at = 0;
  return g.jited_func_lens.map((len) => {
    const f = image.subarray(at, at + len);
    at += len;
    const afterFrame = f[11] === 0x48 && f[12] === 0x81 && f[13] === 0xec ? 18 : 11;
    return f[afterFrame] === 0x50;
  });
}

const isHelperCall = (i: Insn) => i.code === (Class.JMP | JmpOp.CALL) && i.src !== CallSrc.LOCAL;

/** Compares two xlated dumps instruction for instruction; helper-call immediates must correspond one to one. */
export function compareDumps(mine: Insn[], kernel: Insn[]): void {
  const fwd = new Map<number, number>();
  const back = new Map<number, number>();
  const norm = (i: Insn, imm: number) => `${i.code.toString(16)} r${i.dst} r${i.src} off=${i.off} imm=${imm} hi=${i.immHi}`;
  const lines = (xs: Insn[], peer: Insn[]) => xs.map((i, n) => norm(i, isHelperCall(i) && peer[n] && isHelperCall(peer[n]) ? 0 : i.imm));
  expect(lines(mine, kernel).join('\n')).toBe(lines(kernel, mine).join('\n'));
  mine.forEach((i, n) => {
    if (!isHelperCall(i) || i.imm === 12) return;
    const k = kernel[n].imm;
    expect(fwd.get(i.imm) ?? k, `helper call at ${n}`).toBe(k);
    expect(back.get(k) ?? i.imm, `helper call at ${n}`).toBe(i.imm);
    fwd.set(i.imm, k);
    back.set(k, i.imm);
  });
}
