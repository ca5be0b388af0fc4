// Encoder primitives of arch/x86/net/bpf_jit_comp.c (5.10): the register map, the operand
// predicates, the REX/ModRM byte builders and an explicit byte sink. Everything here is a pure
// function of its arguments except `Emitter`, which every emit helper receives explicitly (no
// hidden cursor, unlike the kernel's EMIT* macros). x86-jit.md §2.

/** BPF r0..r10 are 0..10; the JIT's extra registers follow (x86-jit.md §2.1). */
export const BPF_REG_0 = 0;
export const BPF_REG_1 = 1;
export const BPF_REG_2 = 2;
export const BPF_REG_3 = 3;
export const BPF_REG_4 = 4;
export const BPF_REG_5 = 5;
export const BPF_REG_6 = 6;
export const BPF_REG_7 = 7;
export const BPF_REG_8 = 8;
export const BPF_REG_9 = 9;
export const BPF_REG_FP = 10;
/** Hidden scratch of constant blinding and some verifier rewrites (x86 r10). */
export const BPF_REG_AX = 11;
/** MAX_BPF_JIT_REG: index 12 has no register. */
export const MAX_BPF_JIT_REG = 12;
/** The JIT's own scratch (x86 r11): MUL, DIV/MOD, shifts with D = r4. */
export const AUX_REG = 13;
/** x86 r9: BPF trampolines only; do_jit never uses it. */
export const X86_REG_R9 = 14;

/** Registers the encoders accept: BPF r0..r10, AX, AUX_REG, X86_REG_R9. */
export type JitReg = number;

/** Low three bits of the x86 register each JIT register lives in (`reg2hex[]`). */
export const reg2hex: readonly number[] = Object.freeze([
  0, // r0  -> rax
  7, // r1  -> rdi
  6, // r2  -> rsi
  2, // r3  -> rdx
  1, // r4  -> rcx
  0, // r5  -> r8
  3, // r6  -> rbx
  5, // r7  -> r13
  6, // r8  -> r14
  7, // r9  -> r15
  5, // r10 -> rbp
  2, // AX  -> r10
  0, // 12: unused
  3, // AUX_REG -> r11
  1, // X86_REG_R9 -> r9
]);

/** x86 name of each JIT register, for comments, tests and listings. */
export const X86_NAME: readonly string[] = Object.freeze([
  'rax', 'rdi', 'rsi', 'rdx', 'rcx', 'r8', 'rbx', 'r13', 'r14', 'r15', 'rbp', 'r10', '', 'r11', 'r9',
]);

/**
 * `pt_regs` offset of the x86 register each of BPF r0..r9 lives in (`reg2pt_regs[]`); the
 * PROBE_MEM extable fixup names the register to zero with it (x86-jit.md §2.1, §4.2).
 */
export const reg2ptRegs: readonly number[] = Object.freeze([0x50, 0x70, 0x68, 0x60, 0x58, 0x48, 0x28, 0x10, 0x08, 0x00]);

const EREGS = new Set<number>([BPF_REG_5, BPF_REG_7, BPF_REG_8, BPF_REG_9, BPF_REG_AX, AUX_REG, X86_REG_R9]);

// --- predicates (x86-jit.md §2.2) -------------------------------------------------------------

/** `is_imm8`: fits a sign-extended byte. */
export const isImm8 = (v: number | bigint): boolean => v >= -128 && v <= 127;

/** `is_simm32`: `v == (s64)(s32)v`. */
export const isSimm32 = (v: bigint): boolean => v === BigInt.asIntN(32, v);

/** `is_uimm32`: `v == (u64)(u32)v`. */
export const isUimm32 = (v: bigint): boolean => v === BigInt.asUintN(32, v);

/** `is_ereg`: the x86 register is r8..r15 and needs a REX.B/REX.R bit. */
export const isEreg = (r: JitReg): boolean => EREGS.has(r);

/** `is_ereg_8l`: the low byte is only addressable with a REX prefix (dil, sil, bpl, r8b..r15b). */
export const isEreg8l = (r: JitReg): boolean => isEreg(r) || r === BPF_REG_1 || r === BPF_REG_2 || r === BPF_REG_FP;

/** `is_axreg`: BPF r0, which has the one-byte accumulator forms. */
export const isAxreg = (r: JitReg): boolean => r === BPF_REG_0;

// --- REX and ModRM builders (x86-jit.md §2.3) ---------------------------------------------------

/** `add_1mod`: REX.B for `r` when it is an ereg. */
export const add1mod = (b: number, r: JitReg): number => (isEreg(r) ? b | 1 : b);

/** `add_2mod`: REX.B for `r1` (ModRM.rm), REX.R for `r2` (ModRM.reg). */
export const add2mod = (b: number, r1: JitReg, r2: JitReg): number =>
  b | (isEreg(r1) ? 1 : 0) | (isEreg(r2) ? 4 : 0);

/** `add_1reg`: `r` in ModRM.rm, or in the low bits of a `b8+r` / `0f c8+r` opcode. */
export const add1reg = (b: number, r: JitReg): number => b + reg2hex[r];

/** `add_2reg`: `r1` in ModRM.rm, `r2` in ModRM.reg. */
export const add2reg = (b: number, r1: JitReg, r2: JitReg): number => b + reg2hex[r1] + (reg2hex[r2] << 3);

/** REX prefixes: no W, and W (64-bit operand). */
export const REX = 0x40;
export const REX_W = 0x48;
/** ModRM mod fields: register direct, [rm + d8], [rm + d32]. */
export const MOD_REG = 0xc0;
export const MOD_DISP8 = 0x40;
export const MOD_DISP32 = 0x80;

/** X86_PATCH_SIZE: a `call`/`jmp rel32` and a nop5 are 5 bytes. */
export const X86_PATCH_SIZE = 5;

/** Opcode bytes of the conditional jumps' rel8 forms; the rel32 form is `0f (op + 0x10)`. */
export const X86_JB = 0x72;
export const X86_JAE = 0x73;
export const X86_JE = 0x74;
export const X86_JNE = 0x75;
export const X86_JBE = 0x76;
export const X86_JA = 0x77;
export const X86_JL = 0x7c;
export const X86_JGE = 0x7d;
export const X86_JLE = 0x7e;
export const X86_JG = 0x7f;

// --- the byte sink ----------------------------------------------------------------------------

/** A growable byte buffer. Emit helpers append to the one they are given; nothing else moves. */
export class Emitter {
  private buf: Uint8Array;
  private n = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  /** Bytes emitted so far. */
  get length(): number {
    return this.n;
  }

  /** One or more single bytes (each taken modulo 256). */
  u8(...bytes: number[]): this {
    this.reserve(bytes.length);
    for (const b of bytes) this.buf[this.n++] = b & 0xff;
    return this;
  }

  /** A 16-bit little-endian value (low half of `v`). */
  u16(v: number): this {
    return this.u8(v, v >> 8);
  }

  /** A 32-bit little-endian value (`v` as int32 or uint32). */
  u32(v: number): this {
    return this.u8(v, v >> 8, v >> 16, v >>> 24);
  }

  /** The low `size` bytes of `v`, little-endian (the kernel's `EMIT(v, size)`). */
  imm(v: number, size: 1 | 2 | 4): this {
    if (size === 1) return this.u8(v);
    if (size === 2) return this.u16(v);
    return this.u32(v);
  }

  /** A byte sequence. */
  raw(bytes: ArrayLike<number>): this {
    this.reserve(bytes.length);
    for (let i = 0; i < bytes.length; i++) this.buf[this.n++] = bytes[i] & 0xff;
    return this;
  }

  /** A copy of the bytes. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.n);
  }

  /** Forgets everything emitted (the kernel's `prog = temp`). */
  reset(): void {
    this.n = 0;
  }

  private reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
}

// --- prefix and operand helpers the later kernels factored out ------------------------------------

/**
 * `maybe_emit_mod` (5.12+ helper, same bytes as 5.10's pasted branch): REX.W for 64-bit
 * operations, else a REX only when `dst` (rm) or `src` (reg) is an ereg.
 */
export function maybeEmitMod(e: Emitter, dst: JitReg, src: JitReg, is64: boolean): void {
  if (is64) e.u8(add2mod(REX_W, dst, src));
  else if (isEreg(dst) || isEreg(src)) e.u8(add2mod(REX, dst, src));
}

/** `maybe_emit_1mod`: as `maybeEmitMod` for a single register in ModRM.rm. */
export function maybeEmit1mod(e: Emitter, reg: JitReg, is64: boolean): void {
  if (is64) e.u8(add1mod(REX_W, reg));
  else if (isEreg(reg)) e.u8(add1mod(REX, reg));
}

/**
 * `emit_insn_suffix`: ModRM and displacement of `[ptr + off]` with `val` in ModRM.reg; disp8 when
 * `off` fits, else disp32, and never the mod=00 form (x86-jit.md §2.5).
 */
export function emitInsnSuffix(e: Emitter, ptr: JitReg, val: JitReg, off: number): void {
  if (isImm8(off)) e.u8(add2reg(MOD_DISP8, ptr, val), off);
  else e.u8(add2reg(MOD_DISP32, ptr, val)).u32(off);
}

/** The rel32 displacement `target - (ip + len)`, computed as the kernel's s64 pointer difference. */
export const relFrom = (target: bigint, ip: bigint, len: number): bigint => BigInt.asIntN(64, target - (ip + BigInt(len)));
