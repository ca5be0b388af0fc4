// LSH, RSH and ARSH by an immediate and by a register (x86-jit.md §3.9, §3.10). 5.10 has no
// BMI2 shlx/shrx/sarx: a count in a register must go through cl.

import { AluOp } from '../isa/opcode.js';
import { emitMov } from './alu.js';
import { AUX_REG, BPF_REG_4, Emitter, add1reg, maybeEmit1mod, type JitReg } from './x86.js';

/** ModRM /digit of the shift group: shl /4, shr /5, sar /7. */
const SHIFT_EXT: Readonly<Record<number, number>> = {
  [AluOp.LSH]: 0xe0,
  [AluOp.RSH]: 0xe8,
  [AluOp.ARSH]: 0xf8,
};

/**
 * do_jit's `BPF_LSH/RSH/ARSH | BPF_K` case; a shift by 0 is still emitted.
 *   shl dst, 1             ; [REX] d1 /n
 *   shl dst, imm8          ; [REX] c1 /n ib
 */
export function emitShiftImm(e: Emitter, is64: boolean, op: number, dst: JitReg, imm32: number): void {
  maybeEmit1mod(e, dst, is64);
  if (imm32 === 1) e.u8(0xd1, add1reg(SHIFT_EXT[op], dst));
  else e.u8(0xc1, add1reg(SHIFT_EXT[op], dst), imm32);
}

/**
 * do_jit's `BPF_LSH/RSH/ARSH | BPF_X` case: the count must be in cl.
 *   mov r11, rcx           ; 49 89 cb, when dst == r4 (then r11 is shifted)
 *   push rcx; mov rcx, src ; 51, 48/4c 89 /r, when src != r4
 *   shl dst', cl           ; [REX] d3 /n
 *   pop rcx                ; 59, when src != r4
 *   mov rcx, r11           ; 4c 89 d9, when dst == r4
 */
export function emitShiftReg(e: Emitter, is64: boolean, op: number, dst: JitReg, src: JitReg): void {
  const shifted = dst === BPF_REG_4 ? AUX_REG : dst;
  if (dst === BPF_REG_4) emitMov(e, AUX_REG, dst);
  if (src !== BPF_REG_4) {
    e.u8(0x51);
    emitMov(e, BPF_REG_4, src);
  }
  maybeEmit1mod(e, shifted, is64);
  e.u8(0xd3, add1reg(SHIFT_EXT[op], shifted));
  if (src !== BPF_REG_4) e.u8(0x59);
  if (dst === BPF_REG_4) emitMov(e, dst, AUX_REG);
}
