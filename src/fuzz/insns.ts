// The few instruction forms the fuzzer's programs are made of, by name (RFC 9669 encodings).

import { AluOp, CallSrc, Class, JmpOp, Mode, Size, Source } from '../isa/opcode.js';
import { insn, ldImm64, type Insn } from '../isa/insn.js';

export const ALU_OPS = ['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'mod', 'xor', 'mov', 'arsh'] as const;
export type AluName = (typeof ALU_OPS)[number];
const ALU: Record<AluName, number> = {
  add: AluOp.ADD, sub: AluOp.SUB, mul: AluOp.MUL, div: AluOp.DIV, or: AluOp.OR, and: AluOp.AND,
  lsh: AluOp.LSH, rsh: AluOp.RSH, mod: AluOp.MOD, xor: AluOp.XOR, mov: AluOp.MOV, arsh: AluOp.ARSH,
};
export const JMP_OPS = ['jeq', 'jne', 'jgt', 'jge', 'jset', 'jsgt', 'jslt'] as const;
export type JmpName = (typeof JMP_OPS)[number];
const JMP: Record<JmpName, number> = {
  jeq: JmpOp.JEQ, jne: JmpOp.JNE, jgt: JmpOp.JGT, jge: JmpOp.JGE, jset: JmpOp.JSET, jsgt: JmpOp.JSGT, jslt: JmpOp.JSLT,
};

export const alu = (is64: boolean, op: AluName, dst: number, src: number | null, imm = 0): Insn =>
  insn((is64 ? Class.ALU64 : Class.ALU) | ALU[op] | (src === null ? Source.K : Source.X), dst, src ?? 0, 0, imm);
export const mov = (dst: number, src: number): Insn => alu(true, 'mov', dst, src);
export const movImm = (dst: number, imm: number): Insn => alu(true, 'mov', dst, null, imm);
export const ldxDw = (dst: number, src: number, off: number): Insn => insn(Class.LDX | Mode.MEM | Size.DW, dst, src, off);
export const ldxW = (dst: number, src: number, off: number): Insn => insn(Class.LDX | Mode.MEM | Size.W, dst, src, off);
export const stxDw = (dst: number, src: number, off: number): Insn => insn(Class.STX | Mode.MEM | Size.DW, dst, src, off);
export const stDw = (dst: number, off: number, imm: number): Insn => insn(Class.ST | Mode.MEM | Size.DW, dst, 0, off, imm);
/** `ld_imm64 dst, 0` with src 0: the relocation makes it a map or global reference. */
export const ldReloc = (dst: number): Insn => ldImm64(dst, 0n);
export const callHelper = (id: number): Insn => insn(Class.JMP | JmpOp.CALL, 0, 0, 0, id);
/** `call local` as clang leaves it before relocation (imm -1: the symbol itself). */
export const callLocal = (): Insn => insn(Class.JMP | JmpOp.CALL, 0, CallSrc.LOCAL, 0, -1);
export const exit = (): Insn => insn(Class.JMP | JmpOp.EXIT);
export const jmpImm = (op: JmpName, dst: number, imm: number, off: number): Insn => insn(Class.JMP | JMP[op] | Source.K, dst, 0, off, imm);
