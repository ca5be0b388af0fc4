// Loads and stores: LDX (MEM and PROBE_MEM), STX, ST, XADD and NOSPEC (x86-jit.md §4). Every
// memory operand is [base + disp8/disp32]; no SIB byte is ever needed since neither rsp nor r12
// is a base.

import { AtomicOp, Size } from '../isa/opcode.js';
import type { JitCpu } from '../profile/index.js';
import { emitMovReg } from './alu.js';
import { JitError } from './errors.js';
import {
  AUX_REG, BPF_REG_0, BPF_REG_AX, Emitter, MOD_REG, REX, REX_W, X86_JNE, add1mod, add2mod, add2reg, emitInsnSuffix,
  isEreg, isEreg8l, maybeEmitMod, type JitReg,
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
 * `emit_ldsx` (cpu v4 BPF_MEMSX): dst = *(signed size *)(src + off), sign-extended to 64 bits.
 *   movsx dst, byte [src+off]    ; B: 48/49/4c/4d 0f be /r
 *   movsx dst, word [src+off]    ; H: REX.W 0f bf /r
 *   movsxd dst, dword [src+off]  ; W: REX.W 63 /r
 */
export function emitLdsx(e: Emitter, size: number, dst: JitReg, src: JitReg, off: number): void {
  if (size === Size.B) e.u8(add2mod(REX_W, src, dst), 0x0f, 0xbe);
  else if (size === Size.H) e.u8(add2mod(REX_W, src, dst), 0x0f, 0xbf);
  else e.u8(add2mod(REX_W, src, dst), 0x63);
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

/** `op r/m, reg` opcodes of the atomic read-modify-write ops without fetch (as ALU's). */
const ATOMIC_ALU_OPCODE: Readonly<Record<number, number>> = {
  [AtomicOp.ADD]: 0x01,
  [AtomicOp.OR]: 0x09,
  [AtomicOp.AND]: 0x21,
  [AtomicOp.XOR]: 0x31,
};

/**
 * `emit_atomic`: one locked instruction on `[dst + off]` with `src` in ModRM.reg. 5.10's XADD
 * is the ADD row (same bytes).
 *   lock add/or/and/xor [dst+off], src   ; f0 [REX] 01/09/21/31 /r
 *   lock xadd [dst+off], src             ; f0 [REX] 0f c1 /r (ADD | FETCH)
 *   lock xchg [dst+off], src             ; f0 [REX] 87 /r (the lock is redundant, emitted anyway)
 *   lock cmpxchg [dst+off], src          ; f0 [REX] 0f b1 /r (compares with and loads rax)
 * REX.W for DW; for W a REX only when dst or src is an ereg.
 */
export function emitAtomicInsn(e: Emitter, op: number, size: number, dst: JitReg, src: JitReg, off: number): void {
  e.u8(0xf0);
  maybeEmitMod(e, dst, src, size === Size.DW);
  if (op in ATOMIC_ALU_OPCODE) e.u8(ATOMIC_ALU_OPCODE[op]);
  else if (op === (AtomicOp.ADD | AtomicOp.FETCH)) e.u8(0x0f, 0xc1);
  else if (op === AtomicOp.XCHG) e.u8(0x87);
  else if (op === AtomicOp.CMPXCHG) e.u8(0x0f, 0xb1);
  else throw new JitError('jit.unsupported-insn', `unknown atomic opcode 0x${op.toString(16).padStart(2, '0')}`, {}, { field: 'imm' });
  emitInsnSuffix(e, dst, src, off);
}

/** `imm` of BPF_ATOMIC's load-acquire (dst = *(src + off)) and store-release (*(dst + off) = src). */
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;

/** True for the fetching forms x86 has no single instruction for. */
const needsCmpxchgLoop = (op: number): boolean =>
  op === (AtomicOp.AND | AtomicOp.FETCH) || op === (AtomicOp.OR | AtomicOp.FETCH) || op === (AtomicOp.XOR | AtomicOp.FETCH);

/**
 * do_jit's `BPF_STX | BPF_ATOMIC` case (`BPF_STX | BPF_XADD` in 5.10, whose only op is ADD).
 * Fetch AND/OR/XOR become a cmpxchg loop that needs rax: r0 is parked in r10 (AX), and a src or
 * dst that is r0 is read from there.
 *   mov r10, rax                   ; 49 89 c2
 * retry:
 *   mov eax/rax, [dst'+off]        ; emit_ldx: the old value
 *   mov r11, rax                   ; emit_mov_reg(is64)
 *   and/or/xor r11, src'           ; [REX] 21/09/31 /r
 *   lock cmpxchg [dst'+off], r11   ; emitAtomicInsn
 *   jne retry                      ; 75 cb (lost the race)
 *   mov src', rax                  ; emit_mov_reg(is64): the old value
 *   mov rax, r10                   ; 4c 89 d0
 */
export function emitAtomic(e: Emitter, op: number, size: number, dst: JitReg, src: JitReg, off: number): void {
  // Load-acquire and store-release (6.15) are plain moves on x86 (TSO): emit_ldx / emit_stx.
  if (op === BPF_LOAD_ACQ) {
    emitLdx(e, size, dst, src, off);
    return;
  }
  if (op === BPF_STORE_REL) {
    emitStx(e, size, dst, src, off);
    return;
  }
  if (size !== Size.W && size !== Size.DW) {
    throw new JitError('jit.unsupported-insn', `atomic opcode 0x${op.toString(16).padStart(2, '0')} of a byte or half word`, {}, { field: 'code' });
  }
  if (!needsCmpxchgLoop(op)) {
    emitAtomicInsn(e, op, size, dst, src, off);
    return;
  }
  const is64 = size === Size.DW;
  const realSrc = src === BPF_REG_0 ? BPF_REG_AX : src;
  const realDst = dst === BPF_REG_0 ? BPF_REG_AX : dst;
  emitMovReg(e, true, BPF_REG_AX, BPF_REG_0);
  const retry = e.length;
  emitLdx(e, size, BPF_REG_0, realDst, off);
  emitMovReg(e, is64, AUX_REG, BPF_REG_0);
  maybeEmitMod(e, AUX_REG, realSrc, is64);
  e.u8(ATOMIC_ALU_OPCODE[op & ~AtomicOp.FETCH], add2reg(MOD_REG, AUX_REG, realSrc));
  emitAtomicInsn(e, AtomicOp.CMPXCHG, size, realDst, AUX_REG, off);
  e.u8(X86_JNE, retry - (e.length + 2));
  emitMovReg(e, is64, realSrc, BPF_REG_0);
  emitMovReg(e, true, BPF_REG_0, BPF_REG_AX);
}

/**
 * do_jit's `BPF_ST | BPF_NOSPEC` case.
 *   lfence                       ; 0f ae e8, when the CPU has SSE2; else nothing
 */
export function emitNospec(e: Emitter, cpu: JitCpu): void {
  if (cpu.sse2) e.u8(0x0f, 0xae, 0xe8);
}
