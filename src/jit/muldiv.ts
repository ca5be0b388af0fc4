// MUL, DIV and MOD (K and X, ALU and ALU64). 5.10 has no imul and no signed division, so all go
// through the one-operand forms with rax/rdx saved around them and r11 as the operand
// (x86-jit.md §3.7, §3.8); 6.1 multiplies with imul and saves only what a division clobbers (§8).
// The profile's `jit.mul` and `jit.divMod` choose.

import type { JitProfile } from '../profile/index.js';
import { emitMov, emitMovImm32, emitMovReg } from './alu.js';
import { JitError } from './errors.js';
import {
  AUX_REG, BPF_REG_0, BPF_REG_3, Emitter, MOD_REG, add1reg, add2reg, isImm8, maybeEmit1mod, maybeEmitMod, type JitReg,
} from './x86.js';

/** Where a MUL/DIV/MOD operand comes from. */
export type MulDivOperand = { readonly kind: 'reg'; readonly reg: JitReg } | { readonly kind: 'imm'; readonly imm: number };

/** do_jit's `BPF_MUL` case in the profile's form. */
export function emitMulInsn(e: Emitter, jit: JitProfile, is64: boolean, dst: JitReg, operand: MulDivOperand): void {
  if (jit.mul === 'imul') emitImul(e, is64, dst, operand);
  else emitMul(e, is64, dst, operand);
}

/**
 * do_jit's `BPF_DIV`/`BPF_MOD` case in the profile's form; `signed` is cpu v4's sdiv/smod
 * (off = 1), which only the `save-clobbered` JIT has (checkSupported refuses it on older profiles).
 */
export function emitDivModInsn(e: Emitter, jit: JitProfile, is64: boolean, isMod: boolean, dst: JitReg, operand: MulDivOperand, signed = false): void {
  if (jit.divMod === 'save-clobbered') emitDivModSaveClobbered(e, is64, isMod, dst, operand, signed);
  else if (signed) throw new JitError('jit.unsupported-insn', 'signed division (sdiv/smod) has no case in this JIT', {}, { field: 'off' });
  else emitDivMod(e, is64, isMod, dst, operand);
}

/**
 * 6.1's `BPF_MUL` case: no fixed registers.
 *   imul dst, dst, imm8    ; [REX] 6b /r ib (REX.W for ALU64; REX.RB for an ereg dst)
 *   imul dst, dst, imm32   ; [REX] 69 /r id
 *   imul dst, src          ; [REX] 0f af /r (dst in ModRM.reg, src in ModRM.rm)
 */
export function emitImul(e: Emitter, is64: boolean, dst: JitReg, operand: MulDivOperand): void {
  if (operand.kind === 'imm') {
    maybeEmitMod(e, dst, dst, is64);
    if (isImm8(operand.imm)) e.u8(0x6b, add2reg(MOD_REG, dst, dst), operand.imm);
    else e.u8(0x69, add2reg(MOD_REG, dst, dst)).u32(operand.imm);
    return;
  }
  maybeEmitMod(e, operand.reg, dst, is64);
  e.u8(0x0f, 0xaf, add2reg(MOD_REG, operand.reg, dst));
}

/**
 * 6.1's `BPF_DIV`/`BPF_MOD` case (unsigned): rax and rdx are saved only when dst is not
 * already the register, and a divisor that is neither is used in place.
 *   push rax               ; 50, unless dst == r0
 *   push rdx               ; 52, unless dst == r3
 *   mov r11, src           ; 49/4d 89 /r, only when src is r0 or r3 (then r11 is the divisor)
 *   mov r11, simm32        ; 49 c7 c3 id, for K (r11 is the divisor)
 *   mov rax, dst           ; emit_mov_reg(is64), unless dst == r0
 *   xor edx, edx           ; 31 d2 (signed: cqo 48 99 / cdq 99, sign-extending rax into rdx)
 *   div divisor            ; [REX] f7 /6 (signed: idiv, f7 /7)
 *   mov dst, rdx | rax     ; emit_mov_reg(is64) (MOD / DIV), unless dst already is that register
 *   pop rdx                ; 5a, unless dst == r3
 *   pop rax                ; 58, unless dst == r0
 */
export function emitDivModSaveClobbered(e: Emitter, is64: boolean, isMod: boolean, dst: JitReg, operand: MulDivOperand, signed = false): void {
  if (dst !== BPF_REG_0) e.u8(0x50);
  if (dst !== BPF_REG_3) e.u8(0x52);
  let divisor: JitReg;
  if (operand.kind === 'reg') {
    divisor = operand.reg;
    if (divisor === BPF_REG_0 || divisor === BPF_REG_3) {
      emitMov(e, AUX_REG, divisor);
      divisor = AUX_REG;
    }
  } else {
    e.u8(0x49, 0xc7, 0xc3).u32(operand.imm);
    divisor = AUX_REG;
  }
  if (dst !== BPF_REG_0) emitMovReg(e, is64, BPF_REG_0, dst);
  if (!signed) e.u8(0x31, 0xd2);
  else if (is64) e.u8(0x48, 0x99);
  else e.u8(0x99);
  maybeEmit1mod(e, divisor, is64);
  e.u8(0xf7, add1reg(signed ? 0xf8 : 0xf0, divisor));
  const result = isMod ? BPF_REG_3 : BPF_REG_0;
  if (dst !== result) emitMovReg(e, is64, dst, result);
  if (dst !== BPF_REG_3) e.u8(0x5a);
  if (dst !== BPF_REG_0) e.u8(0x58);
}

/**
 * 5.10's `BPF_MUL` case:
 *   push rax               ; 50, unless dst == r0
 *   push rdx               ; 52, unless dst == r3
 *   mov r11, dst           ; 49/4d 89 /r (64-bit even for ALU)
 *   mov rax, src | mov eax, imm   ; emit_mov_reg / emit_mov_imm32 with is64
 *   mul r11 | mul r11d     ; 49 f7 e3 / 41 f7 e3
 *   pop rdx                ; 5a, unless dst == r3
 *   mov dst, rax; pop rax  ; unless dst == r0
 */
export function emitMul(e: Emitter, is64: boolean, dst: JitReg, operand: MulDivOperand): void {
  if (dst !== BPF_REG_0) e.u8(0x50);
  if (dst !== BPF_REG_3) e.u8(0x52);
  emitMov(e, AUX_REG, dst);
  if (operand.kind === 'reg') emitMovReg(e, is64, BPF_REG_0, operand.reg);
  else emitMovImm32(e, is64, BPF_REG_0, operand.imm);
  maybeEmit1mod(e, AUX_REG, is64);
  e.u8(0xf7, add1reg(0xe0, AUX_REG));
  if (dst !== BPF_REG_3) e.u8(0x5a);
  if (dst !== BPF_REG_0) {
    emitMov(e, dst, BPF_REG_0);
    e.u8(0x58);
  }
}

/**
 * 5.10's `BPF_DIV`/`BPF_MOD` case (unsigned):
 *   push rax; push rdx     ; 50 52, always
 *   mov r11, src | mov r11, simm32   ; 49/4d 89 /r, or 49 c7 c3 id (always the 7-byte form)
 *   mov rax, dst           ; nothing when dst == r0
 *   xor edx, edx           ; 31 d2
 *   div r11 | div r11d     ; 49 f7 f3 / 41 f7 f3
 *   mov r11, rax | rdx     ; 49 89 c3 (DIV) / 49 89 d3 (MOD)
 *   pop rdx; pop rax       ; 5a 58
 *   mov dst, r11           ; 4c/4d 89 /r
 */
export function emitDivMod(e: Emitter, is64: boolean, isMod: boolean, dst: JitReg, operand: MulDivOperand): void {
  e.u8(0x50, 0x52);
  if (operand.kind === 'reg') emitMov(e, AUX_REG, operand.reg);
  else e.u8(0x49, 0xc7, 0xc3).u32(operand.imm);
  emitMov(e, BPF_REG_0, dst);
  e.u8(0x31, 0xd2);
  e.u8(is64 ? 0x49 : 0x41, 0xf7, 0xf3);
  e.u8(0x49, 0x89, isMod ? 0xd3 : 0xc3);
  e.u8(0x5a, 0x58);
  emitMov(e, dst, AUX_REG);
}
