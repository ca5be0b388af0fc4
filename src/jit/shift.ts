// LSH, RSH and ARSH by an immediate and by a register (x86-jit.md §3.9, §3.10). 5.10 has no
// BMI2 shlx/shrx/sarx: a count in a register must go through cl; 6.18 takes them when the CPU
// has BMI2 and the count is not already in rcx (`emitShiftx`).

import { AluOp } from '../isa/opcode.js';
import { emitMov } from './alu.js';
import { AUX_REG, BPF_REG_4, Emitter, MOD_REG, add1reg, add2reg, isEreg, maybeEmit1mod, reg2hex, type JitReg } from './x86.js';

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
 *   mov r11, rcx           ; 49 89 cb, when dst == r4 (then r11 is shifted; 6.18: unless src == r4 too)
 *   push rcx; mov rcx, src ; 51, 48/4c 89 /r, when src != r4
 *   shl dst', cl           ; [REX] d3 /n
 *   pop rcx                ; 59, when src != r4
 *   mov rcx, r11           ; 4c 89 d9, when dst == r4
 */
export function emitShiftReg(e: Emitter, is64: boolean, op: number, dst: JitReg, src: JitReg, rcxDetourOnlyForOtherSrc = false): void {
  // 6.18 (`rcxDetourOnlyForOtherSrc`): r4 shifted by itself is `shl rcx, cl`, no detour via r11.
  const detour = dst === BPF_REG_4 && !(rcxDetourOnlyForOtherSrc && src === BPF_REG_4);
  const shifted = detour ? AUX_REG : dst;
  if (detour) emitMov(e, AUX_REG, dst);
  if (src !== BPF_REG_4) {
    e.u8(0x51);
    emitMov(e, BPF_REG_4, src);
  }
  maybeEmit1mod(e, shifted, is64);
  e.u8(0xd3, add1reg(SHIFT_EXT[op], shifted));
  if (src !== BPF_REG_4) e.u8(0x59);
  if (detour) emitMov(e, dst, AUX_REG);
}

/** VEX.pp of the BMI2 shift: shlx 66 (1), sarx f3 (2), shrx f2 (3). */
const SHIFTX_PP: Readonly<Record<number, number>> = {
  [AluOp.LSH]: 1,
  [AluOp.ARSH]: 2,
  [AluOp.RSH]: 3,
};

/**
 * `emit_shiftx` (BMI2, src != r4): dst = dst shifted by src, one three-byte-VEX instruction.
 *   shlx/sarx/shrx dst, dst, src   ; c4 [~R 1 ~B 00010] [W ~vvvv 0 pp] f7 /r
 * R and B are the dst's ereg bit (dst is both ModRM operands), vvvv the full number of src,
 * map 0f38, W for ALU64.
 */
export function emitShiftx(e: Emitter, is64: boolean, op: number, dst: JitReg, src: JitReg): void {
  const r = isEreg(dst);
  const vvvv = reg2hex[src] | (isEreg(src) ? 8 : 0);
  e.u8(0xc4, (r ? 0 : 0x80) | 0x40 | (r ? 0 : 0x20) | 0x02, (is64 ? 0x80 : 0) | ((~vvvv & 0xf) << 3) | SHIFTX_PP[op]);
  e.u8(0xf7, add2reg(MOD_REG, dst, dst));
}
