// ALU and ALU64 without MUL/DIV/MOD and shifts: register moves, constants, ADD/SUB/AND/OR/XOR,
// NEG and BPF_END (x86-jit.md §2.6, §3.1-§3.5, §3.11).

import { AluOp } from '../isa/opcode.js';
import {
  Emitter, MOD_REG, REX, REX_W, add1mod, add1reg, add2mod, add2reg, isAxreg, isEreg, isImm8, maybeEmit1mod,
  maybeEmitMod, type JitReg,
} from './x86.js';

/**
 * `EMIT_mov(DST, SRC)`: 64-bit register move, nothing when DST == SRC.
 *   mov dst, src          ; 48/49/4c/4d 89 /r
 */
export function emitMov(e: Emitter, dst: JitReg, src: JitReg): void {
  if (dst === src) return;
  e.u8(add2mod(REX_W, dst, src), 0x89, add2reg(MOD_REG, dst, src));
}

/**
 * `emit_mov_reg`: 64-bit moves vanish when dst == src; the 32-bit one is always emitted
 * because it zero-extends.
 *   mov dst, src          ; is64
 *   mov dst32, src32      ; [41/44/45] 89 /r
 */
export function emitMovReg(e: Emitter, is64: boolean, dst: JitReg, src: JitReg): void {
  if (is64) {
    emitMov(e, dst, src);
    return;
  }
  if (isEreg(dst) || isEreg(src)) e.u8(add2mod(REX, dst, src));
  e.u8(0x89, add2reg(MOD_REG, dst, src));
}

/**
 * `emit_movsx_reg` (cpu v4 `movsx`, MOV with off = 8/16/32; always emitted, even for dst == src).
 *   movsx dst, src8       ; 64-bit: 48/49/4c/4d 0f be /r; 32-bit: 40..45 0f be /r (REX always: sil, dil)
 *   movsx dst, src16      ; 64-bit: REX.W 0f bf /r; 32-bit: [41/44/45] 0f bf /r
 *   movsxd dst, src32     ; 64-bit only: REX.W 63 /r
 * dst is in ModRM.reg, src in ModRM.rm. Other widths emit nothing (the verifier refuses them).
 */
export function emitMovsxReg(e: Emitter, is64: boolean, bits: number, dst: JitReg, src: JitReg): void {
  if (is64) {
    if (bits === 8) e.u8(add2mod(REX_W, src, dst), 0x0f, 0xbe, add2reg(MOD_REG, src, dst));
    else if (bits === 16) e.u8(add2mod(REX_W, src, dst), 0x0f, 0xbf, add2reg(MOD_REG, src, dst));
    else if (bits === 32) e.u8(add2mod(REX_W, src, dst), 0x63, add2reg(MOD_REG, src, dst));
    return;
  }
  if (bits === 8) {
    e.u8(add2mod(REX, src, dst), 0x0f, 0xbe, add2reg(MOD_REG, src, dst));
  } else if (bits === 16) {
    if (isEreg(dst) || isEreg(src)) e.u8(add2mod(REX, src, dst));
    e.u8(0x0f, 0xbf, add2reg(MOD_REG, src, dst));
  }
}

/**
 * `emit_mov_imm32`: the first form that applies.
 *   mov dst, simm32       ; sign_propagate and imm < 0: 48 c7 c0+r id (sign-extends)
 *   xor dst32, dst32      ; imm == 0: [45] 31 /r (clears all 64 bits, 3 bytes shorter)
 *   mov dst32, imm32      ; otherwise: [41] b8+r id (zero-extends, 2 bytes shorter)
 */
export function emitMovImm32(e: Emitter, signPropagate: boolean, dst: JitReg, imm32: number): void {
  const imm = imm32 | 0;
  if (signPropagate && imm < 0) {
    e.u8(add1mod(REX_W, dst), 0xc7, add1reg(MOD_REG, dst)).u32(imm);
    return;
  }
  if (imm === 0) {
    if (isEreg(dst)) e.u8(add2mod(REX, dst, dst));
    e.u8(0x31, add2reg(MOD_REG, dst, dst));
    return;
  }
  if (isEreg(dst)) e.u8(add1mod(REX, dst));
  e.u8(add1reg(0xb8, dst)).u32(imm);
}

/**
 * `emit_mov_imm64` (LD_IMM64): a value that fits in u32 takes `emit_mov_imm32(false, ...)`;
 * with `simm32` (6.18's `jit.movImm64Simm32`) one that fits in s32 takes `emit_mov_imm32(true,
 * ...)`, the 7-byte sign-extending mov; anything else the 10-byte `movabs`.
 *   movabs dst, imm64     ; 48/49 b8+r lo32 hi32
 */
export function emitMovImm64(e: Emitter, dst: JitReg, immHi: number, immLo: number, simm32 = false): void {
  if ((immHi | 0) === 0) {
    emitMovImm32(e, false, dst, immLo);
    return;
  }
  if (simm32 && (immHi | 0) === -1 && (immLo | 0) < 0) {
    emitMovImm32(e, true, dst, immLo);
    return;
  }
  e.u8(add1mod(REX_W, dst), add1reg(0xb8, dst)).u32(immLo).u32(immHi);
}

/** `op r/m, reg` opcodes of the register forms (x86-jit.md §3.1). */
const ALU_REG_OPCODE: Readonly<Record<number, number>> = {
  [AluOp.ADD]: 0x01,
  [AluOp.SUB]: 0x29,
  [AluOp.AND]: 0x21,
  [AluOp.OR]: 0x09,
  [AluOp.XOR]: 0x31,
};

/** ModRM with the /digit of `81`/`83`, and the accumulator short opcode (x86-jit.md §3.2). */
const ALU_IMM_FORM: Readonly<Record<number, { readonly ext: number; readonly short: number }>> = {
  [AluOp.ADD]: { ext: 0xc0, short: 0x05 },
  [AluOp.SUB]: { ext: 0xe8, short: 0x2d },
  [AluOp.AND]: { ext: 0xe0, short: 0x25 },
  [AluOp.OR]: { ext: 0xc8, short: 0x0d },
  [AluOp.XOR]: { ext: 0xf0, short: 0x35 },
};

/** True for the five ops with both a register and an immediate x86 form. */
export const isSimpleAluOp = (op: number): boolean => op in ALU_REG_OPCODE;

/**
 * do_jit's `BPF_ADD/SUB/AND/OR/XOR | BPF_X` case.
 *   add dst, src          ; [REX] 01/29/21/09/31 /r
 */
export function emitAluReg(e: Emitter, is64: boolean, op: number, dst: JitReg, src: JitReg): void {
  maybeEmitMod(e, dst, src, is64);
  e.u8(ALU_REG_OPCODE[op], add2reg(MOD_REG, dst, src));
}

/**
 * do_jit's `BPF_ADD/SUB/AND/OR/XOR | BPF_K` case. The imm8 test comes first, so r0 with an
 * imm8 still takes `83`; K == 0 is not optimised away.
 *   add dst, imm8         ; [REX] 83 /n ib
 *   add eax/rax, imm32    ; [48] 05/2d/25/0d/35 id (dst == r0)
 *   add dst, imm32        ; [REX] 81 /n id
 */
export function emitAluImm(e: Emitter, is64: boolean, op: number, dst: JitReg, imm32: number): void {
  const { ext, short } = ALU_IMM_FORM[op];
  maybeEmit1mod(e, dst, is64);
  if (isImm8(imm32)) e.u8(0x83, add1reg(ext, dst), imm32);
  else if (isAxreg(dst)) e.u8(short).u32(imm32);
  else e.u8(0x81, add1reg(ext, dst)).u32(imm32);
}

/**
 * do_jit's `BPF_NEG` case.
 *   neg dst               ; [REX] f7 /3
 */
export function emitNeg(e: Emitter, is64: boolean, dst: JitReg): void {
  maybeEmit1mod(e, dst, is64);
  e.u8(0xf7, add1reg(0xd8, dst));
}

/**
 * `BPF_ALU | BPF_END | BPF_FROM_BE` (opcode dc), and cpu v4's unconditional `BPF_ALU64 |
 * BPF_END` (d7), which 6.18 compiles the same way. An imm other than 16/32/64 emits nothing,
 * as the kernel's switch has no default (describe() refuses such instructions earlier).
 *   be16: ror dst16, 8; movzx dst32, dst16   ; 66 [41] c1 c8+r 08, [45] 0f b7 /r
 *   be32: bswap dst32                        ; [41] 0f c8+r
 *   be64: bswap dst                          ; 48/49 0f c8+r
 */
export function emitBswap(e: Emitter, dst: JitReg, bits: number): void {
  switch (bits) {
    case 16:
      e.u8(0x66);
      if (isEreg(dst)) e.u8(0x41);
      e.u8(0xc1, add1reg(0xc8, dst), 8);
      emitMovzx16(e, dst);
      return;
    case 32:
      if (isEreg(dst)) e.u8(0x41);
      e.u8(0x0f, add1reg(0xc8, dst));
      return;
    case 64:
      e.u8(add1mod(REX_W, dst), 0x0f, add1reg(0xc8, dst));
      return;
  }
}

/**
 * `BPF_ALU | BPF_END | BPF_FROM_LE` (opcode d4): on x86 only a truncation.
 *   le16: movzx dst32, dst16   ; [45] 0f b7 /r
 *   le32: mov dst32, dst32     ; [45] 89 /r
 *   le64: nothing
 */
export function emitLe(e: Emitter, dst: JitReg, bits: number): void {
  switch (bits) {
    case 16:
      emitMovzx16(e, dst);
      return;
    case 32:
      if (isEreg(dst)) e.u8(0x45);
      e.u8(0x89, add2reg(MOD_REG, dst, dst));
      return;
  }
}

/** movzx dst32, dst16 ; [45] 0f b7 /r (the register is in both ModRM fields, hence REX.RB). */
function emitMovzx16(e: Emitter, dst: JitReg): void {
  if (isEreg(dst)) e.u8(0x45);
  e.u8(0x0f, 0xb7, add2reg(MOD_REG, dst, dst));
}
