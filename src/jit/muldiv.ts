// MUL, DIV and MOD (K and X, ALU and ALU64): 5.10 has no imul and no signed division, so all go
// through the one-operand forms with rax/rdx saved around them and r11 as the operand
// (x86-jit.md §3.7, §3.8).

import { emitMov, emitMovImm32, emitMovReg } from './alu.js';
import { AUX_REG, BPF_REG_0, BPF_REG_3, Emitter, add1reg, maybeEmit1mod, type JitReg } from './x86.js';

/** Where a MUL/DIV/MOD operand comes from. */
export type MulDivOperand = { readonly kind: 'reg'; readonly reg: JitReg } | { readonly kind: 'imm'; readonly imm: number };

/**
 * do_jit's `BPF_MUL` case:
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
 * do_jit's `BPF_DIV`/`BPF_MOD` case (unsigned):
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
