// Conditional jumps (JMP, JMP32), JA and the rel8/rel32 choice (x86-jit.md §5). Displacements
// come from `addrs[]` in the caller; these helpers only encode them.

import { JmpOp } from '../isa/opcode.js';
import { JitError } from './errors.js';
import {
  Emitter, MOD_REG, X86_JA, X86_JAE, X86_JB, X86_JBE, X86_JE, X86_JG, X86_JGE, X86_JL, X86_JLE, X86_JNE,
  add1reg, add2reg, isImm8, isSimm32, maybeEmit1mod, maybeEmitMod, type JitReg,
} from './x86.js';

/** x86 rel8 opcode of each BPF condition (x86-jit.md §5.2); JSET is `test` + jne. */
export const JMP_COND: Readonly<Record<number, number>> = {
  [JmpOp.JEQ]: X86_JE,
  [JmpOp.JNE]: X86_JNE,
  [JmpOp.JSET]: X86_JNE,
  [JmpOp.JGT]: X86_JA,
  [JmpOp.JGE]: X86_JAE,
  [JmpOp.JLT]: X86_JB,
  [JmpOp.JLE]: X86_JBE,
  [JmpOp.JSGT]: X86_JG,
  [JmpOp.JSGE]: X86_JGE,
  [JmpOp.JSLT]: X86_JL,
  [JmpOp.JSLE]: X86_JLE,
};

/**
 * The compare of a conditional jump with a register (x86-jit.md §5.1).
 *   cmp dst, src           ; [REX] 39 /r
 *   test dst, src          ; [REX] 85 /r (JSET)
 */
export function emitCmpReg(e: Emitter, is64: boolean, op: number, dst: JitReg, src: JitReg): void {
  maybeEmitMod(e, dst, src, is64);
  e.u8(op === JmpOp.JSET ? 0x85 : 0x39, add2reg(MOD_REG, dst, src));
}

/**
 * The compare of a conditional jump with an immediate (x86-jit.md §5.1).
 *   test dst, imm32        ; JSET: [REX] f7 /0 id, always imm32
 *   test dst, dst          ; K == 0: [REX] 85 /r, one byte shorter than cmp, same flags
 *   cmp dst, imm8          ; [REX] 83 /7 ib
 *   cmp dst, imm32         ; [REX] 81 /7 id (no eax short form)
 */
export function emitCmpImm(e: Emitter, is64: boolean, op: number, dst: JitReg, imm32: number): void {
  if (op === JmpOp.JSET) {
    maybeEmit1mod(e, dst, is64);
    e.u8(0xf7, add1reg(MOD_REG, dst)).u32(imm32);
    return;
  }
  if (imm32 === 0) {
    maybeEmitMod(e, dst, dst, is64);
    e.u8(0x85, add2reg(MOD_REG, dst, dst));
    return;
  }
  maybeEmit1mod(e, dst, is64);
  if (isImm8(imm32)) e.u8(0x83, add1reg(0xf8, dst), imm32);
  else e.u8(0x81, add1reg(0xf8, dst)).u32(imm32);
}

/**
 * The rel8 test of BPF jumps (the profile's `jmpRel8Max`): `is_imm8` in 5.10 (127);
 * `is_imm8_jmp_offset` from 6.1.113 stops at 123 (x86-jit.md §8). Backwards, -128 for both.
 */
export const fitsRel8 = (jmpOffset: number, rel8Max: number): boolean => jmpOffset >= -128 && jmpOffset <= rel8Max;

/**
 * `emit_cond_jmp`: jcc rel8 when the displacement fits (0 included), else jcc rel32.
 *   jcc rel8               ; 7x cb
 *   jcc rel32              ; 0f 8x cd
 */
export function emitCondJmp(e: Emitter, jcc: number, jmpOffset: number, rel8Max = 127): void {
  if (fitsRel8(jmpOffset, rel8Max)) e.u8(jcc, jmpOffset);
  else if (isSimm32(BigInt(jmpOffset))) e.u8(0x0f, jcc + 0x10).u32(jmpOffset);
  else throw new JitError('jit.jump-range', `conditional jump displacement ${jmpOffset} does not fit in 32 bits (cond_jmp gen bug)`);
}

/**
 * `emit_jmp` (JA and the EXIT jumps back to the epilogue); the caller drops a 0 displacement.
 *   jmp rel8               ; eb cb
 *   jmp rel32              ; e9 cd
 */
export function emitJmp(e: Emitter, jmpOffset: number, rel8Max = 127): void {
  if (fitsRel8(jmpOffset, rel8Max)) e.u8(0xeb, jmpOffset);
  else if (isSimm32(BigInt(jmpOffset))) e.u8(0xe9).u32(jmpOffset);
  else throw new JitError('jit.jump-range', `jump displacement ${jmpOffset} does not fit in 32 bits (jmp gen bug)`);
}

/** `x86_nops[1..5]`, the nops `emit_nops` pads with (6.1). */
const X86_NOPS: readonly (readonly number[])[] = [
  [],
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
];

/** `emit_nops`: `len` bytes of nops, at most 5 per nop (the longest padding a jump needs). */
export function emitNops(e: Emitter, len: number): void {
  for (let left = len; left > 0; ) {
    const n = Math.min(left, X86_NOPS.length - 1);
    e.raw(X86_NOPS[n]);
    left -= n;
  }
}

/** BPF_JA's displacement rule: `ja -1` is a jump to itself (`eb fe`) without reading addrs[]. */
export const JA_SELF = -2;
