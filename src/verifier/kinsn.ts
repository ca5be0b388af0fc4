// The kernel's view of a program: one `struct bpf_insn` per 8-byte slot, mutable while the
// verifier rewrites it. The wide ld_imm64 is two slots here (the second holds the high
// immediate), because every index the kernel prints, every jump offset and every patch
// position counts slots.

import { insn as makeInsn, type Insn, LD_IMM64, AluOp, Class, JmpOp, Mode, Size, Source } from '../isa/index.js';

export interface KInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export function toSlots(insns: readonly Insn[]): KInsn[] {
  const out: KInsn[] = [];
  for (const i of insns) {
    out.push({ code: i.code, dst: i.dst, src: i.src, off: i.off, imm: i.imm });
    if (i.code === LD_IMM64) out.push({ code: 0, dst: 0, src: 0, off: 0, imm: i.immHi });
  }
  return out;
}

/** Back to one `Insn` per instruction (the slot after an ld_imm64 becomes its `immHi`). */
export function fromSlots(slots: readonly KInsn[]): Insn[] {
  const out: Insn[] = [];
  for (let s = 0; s < slots.length; s++) {
    const k = slots[s];
    if (k.code === LD_IMM64 && s + 1 < slots.length) {
      out.push(makeInsn(k.code, k.dst, k.src, k.off, k.imm, slots[s + 1].imm));
      s++;
    } else {
      out.push(makeInsn(k.code, k.dst, k.src, k.off, k.imm));
    }
  }
  return out;
}

export const cloneK = (k: KInsn): KInsn => ({ ...k });

// Builders named after the kernel's macros in include/linux/filter.h.
const k = (code: number, dst = 0, src = 0, off = 0, imm = 0): KInsn => ({ code, dst, src, off: off | 0, imm: imm | 0 });
export const alu64Imm = (op: number, dst: number, imm: number) => k(Class.ALU64 | op | Source.K, dst, 0, 0, imm);
export const alu32Imm = (op: number, dst: number, imm: number) => k(Class.ALU | op | Source.K, dst, 0, 0, imm);
export const alu64Reg = (op: number, dst: number, src: number) => k(Class.ALU64 | op | Source.X, dst, src);
export const alu32Reg = (op: number, dst: number, src: number) => k(Class.ALU | op | Source.X, dst, src);
export const mov64Imm = (dst: number, imm: number) => alu64Imm(AluOp.MOV, dst, imm);
export const mov64Reg = (dst: number, src: number) => alu64Reg(AluOp.MOV, dst, src);
export const mov32Reg = (dst: number, src: number) => alu32Reg(AluOp.MOV, dst, src);
export const ldxMem = (size: number, dst: number, src: number, off: number) => k(Class.LDX | Mode.MEM | size, dst, src, off);
export const stxMem = (size: number, dst: number, src: number, off: number) => k(Class.STX | Mode.MEM | size, dst, src, off);
export const jmpImm = (op: number, dst: number, imm: number, off: number) => k(Class.JMP | op | Source.K, dst, 0, off, imm);
export const jmp32Imm = (op: number, dst: number, imm: number, off: number) => k(Class.JMP32 | op | Source.K, dst, 0, off, imm);
export const ja = (off: number) => k(Class.JMP | JmpOp.JA, 0, 0, off);
export const exitInsn = () => k(Class.JMP | JmpOp.EXIT);
export const emitCall = (imm: number) => k(Class.JMP | JmpOp.CALL, 0, 0, 0, imm);
export const raw = k;
export { Size };

/** `BPF_JMP32 | BPF_JA` (gotol, cpu v4): its offset is in imm. */
export const GOTOL_CODE = Class.JMP32 | JmpOp.JA;
/** A jump's offset in slots: `imm` for gotol, `off` for every other jump. */
export const jumpOff = (k: { code: number; off: number; imm: number }): number => (k.code === GOTOL_CODE ? k.imm : k.off);

/** `BPF_JMP | BPF_TAIL_CALL`, the internal opcode bpf_tail_call becomes (0xf5). */
export const TAIL_CALL_CODE = Class.JMP | 0xf0;
