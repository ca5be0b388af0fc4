// A tiny hand assembler for the interpreter's tests (the real one, src/asm, is not a dependency
// of these tests): one function per instruction form, built with `insn()` from src/isa, and
// labels resolved to slot offsets by `prog()`.

import {
  AluOp, AtomicOp, CallSrc, Class, JmpOp, Mode, PseudoSrc, Size, Source, insn, ldImm64, width,
  type Insn,
} from '../../src/isa/index.js';

import { Interpreter, InterpError, type InterpOptions } from '../../src/interp/index.js';
export type Item = Insn | Label | LabelRef;
interface Label { readonly label: string }
/** An instruction whose offset (or imm) is the distance to a label, in slots. */
interface LabelRef { readonly to: string; readonly make: (off: number) => Insn }

export const label = (name: string): Label => ({ label: name });

/** Resolves labels: a reference's offset is target slot - (its slot + 1). */
export function prog(...items: Item[]): Insn[] {
  const at = new Map<string, number>();
  let slot = 0;
  for (const it of items) {
    if ('label' in it) at.set(it.label, slot);
    else slot += 'to' in it ? 1 : width(it);
  }
  const out: Insn[] = [];
  slot = 0;
  for (const it of items) {
    if ('label' in it) continue;
    if ('to' in it) {
      const target = at.get(it.to);
      if (target === undefined) throw new Error(`no label ${it.to}`);
      out.push(it.make(target - slot - 1));
      slot += 1;
    } else {
      out.push(it);
      slot += width(it);
    }
  }
  return out;
}

export type SizeName = 'b' | 'h' | 'w' | 'dw';
const SIZE: Record<SizeName, number> = { b: Size.B, h: Size.H, w: Size.W, dw: Size.DW };

export type AluName = keyof typeof AluOp;
export const alu64 = (op: AluName, dst: number, imm: number, off = 0) => insn(Class.ALU64 | AluOp[op] | Source.K, dst, 0, off, imm);
export const alu64x = (op: AluName, dst: number, src: number, off = 0) => insn(Class.ALU64 | AluOp[op] | Source.X, dst, src, off);
export const alu32 = (op: AluName, dst: number, imm: number, off = 0) => insn(Class.ALU | AluOp[op] | Source.K, dst, 0, off, imm);
export const alu32x = (op: AluName, dst: number, src: number, off = 0) => insn(Class.ALU | AluOp[op] | Source.X, dst, src, off);
export const mov64 = (dst: number, imm: number) => alu64('MOV', dst, imm);
export const mov64x = (dst: number, src: number) => alu64x('MOV', dst, src);
export const lddw = (dst: number, v: bigint) => ldImm64(dst, v);
export const ldMapFd = (dst: number, fd: number) => insn(Class.LD | Size.DW, dst, PseudoSrc.MAP_FD, 0, fd, 0);
export const ldMapValue = (dst: number, fd: number, off = 0) => insn(Class.LD | Size.DW, dst, PseudoSrc.MAP_VALUE, 0, fd, off);
/** le (ALU, K) / be (ALU, X) / bswap (ALU64, K) with imm = bits. */
export const endian = (kind: 'le' | 'be' | 'bswap', dst: number, bits: 16 | 32 | 64) =>
  insn((kind === 'bswap' ? Class.ALU64 : Class.ALU) | AluOp.END | (kind === 'be' ? Source.X : Source.K), dst, 0, 0, bits);

export const ldx = (s: SizeName, dst: number, src: number, off = 0) => insn(Class.LDX | Mode.MEM | SIZE[s], dst, src, off);
export const ldxs = (s: SizeName, dst: number, src: number, off = 0) => insn(Class.LDX | Mode.MEMSX | SIZE[s], dst, src, off);
export const st = (s: SizeName, dst: number, off: number, imm: number) => insn(Class.ST | Mode.MEM | SIZE[s], dst, 0, off, imm);
export const stx = (s: SizeName, dst: number, src: number, off = 0) => insn(Class.STX | Mode.MEM | SIZE[s], dst, src, off);
export const atomic = (s: 'w' | 'dw', imm: number, dst: number, src: number, off = 0) =>
  insn(Class.STX | Mode.ATOMIC | SIZE[s], dst, src, off, imm);
export { AtomicOp };

export type JmpName = Exclude<keyof typeof JmpOp, 'JA' | 'CALL' | 'EXIT'>;
export const jmp = (op: JmpName, dst: number, imm: number, to: string): LabelRef =>
  ({ to, make: (off) => insn(Class.JMP | JmpOp[op] | Source.K, dst, 0, off, imm) });
export const jmpx = (op: JmpName, dst: number, src: number, to: string): LabelRef =>
  ({ to, make: (off) => insn(Class.JMP | JmpOp[op] | Source.X, dst, src, off) });
export const jmp32 = (op: JmpName, dst: number, imm: number, to: string): LabelRef =>
  ({ to, make: (off) => insn(Class.JMP32 | JmpOp[op] | Source.K, dst, 0, off, imm) });
export const jmp32x = (op: JmpName, dst: number, src: number, to: string): LabelRef =>
  ({ to, make: (off) => insn(Class.JMP32 | JmpOp[op] | Source.X, dst, src, off) });
export const ja = (to: string): LabelRef => ({ to, make: (off) => insn(Class.JMP | JmpOp.JA, 0, 0, off) });
/** gotol: JMP32 JA with the offset in imm. */
export const gotol = (to: string): LabelRef => ({ to, make: (off) => insn(Class.JMP32 | JmpOp.JA, 0, 0, 0, off) });
export const call = (id: number) => insn(Class.JMP | JmpOp.CALL, 0, CallSrc.HELPER, 0, id);
export const callLocal = (to: string): LabelRef => ({ to, make: (off) => insn(Class.JMP | JmpOp.CALL, 0, CallSrc.LOCAL, 0, off) });
export const callx = (reg: number) => insn(Class.JMP | JmpOp.CALL | Source.X, reg, 0, 0, 0);
export const exit = () => insn(Class.JMP | JmpOp.EXIT);

/** The InterpError a run of `p` raises (fails the test when the run succeeds). */
export function runError(p: Insn[], opts: InterpOptions = {}): InterpError {
  try {
    new Interpreter(p, opts).run();
  } catch (e) {
    if (e instanceof InterpError) return e;
    throw e;
  }
  throw new Error('expected the run to fail');
}
