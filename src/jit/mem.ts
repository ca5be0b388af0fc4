// Loads and stores: LDX (MEM and PROBE_MEM), STX, ST, XADD and NOSPEC (x86-jit.md §4). Every
// memory operand is [base + disp8/disp32]; no SIB byte is ever needed since neither rsp nor r12
// is a base.

import { Size } from '../isa/opcode.js';
import type { JitCpu } from '../profile/index.js';
import {
  BPF_REG_0, Emitter, REX, REX_W, add1mod, add2mod, emitInsnSuffix, isEreg, isEreg8l, type JitReg,
} from './x86.js';

/**
 * `emit_ldx`: dst = *(size *)(src + off).
 *   movzx dst, byte [src+off]    ; B:  48/49/4c/4d 0f b6 /r (REX.W always)
 *   movzx dst, word [src+off]    ; H:  48/49/4c/4d 0f b7 /r
 *   mov dst32, [src+off]         ; W:  [41/44/45] 8b /r (zero-extends)
 *   mov dst, [src+off]           ; DW: 48/49/4c/4d 8b /r
 */
export function emitLdx(e: Emitter, size: number, dst: JitReg, src: JitReg, off: number): void {
  switch (size) {
    case Size.B:
      e.u8(add2mod(REX_W, src, dst), 0x0f, 0xb6);
      break;
    case Size.H:
      e.u8(add2mod(REX_W, src, dst), 0x0f, 0xb7);
      break;
    case Size.W:
      if (isEreg(dst) || isEreg(src)) e.u8(add2mod(REX, src, dst));
      e.u8(0x8b);
      break;
    default:
      e.u8(add2mod(REX_W, src, dst), 0x8b);
  }
  emitInsnSuffix(e, src, dst, off);
}

/**
 * `emit_stx`: *(size *)(dst + off) = src.
 *   mov [dst+off], src8          ; B:  [REX] 88 /r, REX also for dil/sil/bpl as the value
 *   mov [dst+off], src16         ; H:  66 [REX] 89 /r
 *   mov [dst+off], src32         ; W:  [REX] 89 /r
 *   mov [dst+off], src           ; DW: 48/49/4c/4d 89 /r
 */
export function emitStx(e: Emitter, size: number, dst: JitReg, src: JitReg, off: number): void {
  switch (size) {
    case Size.B:
      if (isEreg(dst) || isEreg8l(src)) e.u8(add2mod(REX, dst, src));
      e.u8(0x88);
      break;
    case Size.H:
      e.u8(0x66);
      if (isEreg(dst) || isEreg(src)) e.u8(add2mod(REX, dst, src));
      e.u8(0x89);
      break;
    case Size.W:
      if (isEreg(dst) || isEreg(src)) e.u8(add2mod(REX, dst, src));
      e.u8(0x89);
      break;
    default:
      e.u8(add2mod(REX_W, dst, src), 0x89);
  }
  emitInsnSuffix(e, dst, src, off);
}

/** `bpf_size_to_x86_bytes`: immediate bytes of ST (DW stores a sign-extended imm32). */
const ST_IMM_BYTES: Readonly<Record<number, 1 | 2 | 4>> = { [Size.B]: 1, [Size.H]: 2, [Size.W]: 4, [Size.DW]: 4 };

/**
 * do_jit's `BPF_ST | BPF_MEM` cases: *(size *)(dst + off) = imm.
 *   mov byte [dst+off], imm8     ; [41] c6 /0 ib
 *   mov word [dst+off], imm16    ; 66 [41] c7 /0 iw
 *   mov dword [dst+off], imm32   ; [41] c7 /0 id
 *   mov qword [dst+off], simm32  ; 48/49 c7 /0 id
 */
export function emitSt(e: Emitter, size: number, dst: JitReg, off: number, imm32: number): void {
  switch (size) {
    case Size.B:
      if (isEreg(dst)) e.u8(0x41);
      e.u8(0xc6);
      break;
    case Size.H:
      e.u8(0x66);
      if (isEreg(dst)) e.u8(0x41);
      e.u8(0xc7);
      break;
    case Size.W:
      if (isEreg(dst)) e.u8(0x41);
      e.u8(0xc7);
      break;
    default:
      e.u8(add1mod(REX_W, dst), 0xc7);
  }
  emitInsnSuffix(e, dst, BPF_REG_0, off); // reg field /0
  e.imm(imm32, ST_IMM_BYTES[size]);
}

/**
 * do_jit's `BPF_STX | BPF_XADD` cases (the only atomic of 5.10).
 *   lock add [dst+off], src32    ; W:  f0 [REX] 01 /r
 *   lock add [dst+off], src      ; DW: f0 48/49/4c/4d 01 /r
 */
export function emitXadd(e: Emitter, size: number, dst: JitReg, src: JitReg, off: number): void {
  e.u8(0xf0);
  if (size === Size.DW) e.u8(add2mod(REX_W, dst, src));
  else if (isEreg(dst) || isEreg(src)) e.u8(add2mod(REX, dst, src));
  e.u8(0x01);
  emitInsnSuffix(e, dst, src, off);
}

/**
 * do_jit's `BPF_ST | BPF_NOSPEC` case.
 *   lfence                       ; 0f ae e8, when the CPU has SSE2; else nothing
 */
export function emitNospec(e: Emitter, cpu: JitCpu): void {
  if (cpu.sse2) e.u8(0x0f, 0xae, 0xe8);
}
