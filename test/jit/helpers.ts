// Compile-one-instruction helpers for the rule tables.
import { width, type Insn } from '../../src/isa/insn.js';
import { jitProgram } from '../../src/jit/index.js';
import type { JitOptions, JitResult } from '../../src/jit/types.js';
import { PROFILES, type Profile } from '../../src/profile/index.js';
import { REF_SYMBOLS, mk, single, type FuncSpec } from './fixtures.js';

export const P510 = PROFILES['linux-5.10'];
export const EXIT = mk(0x95);
export const IMAGE = 0xffffffffc0001000n;

/** JIT one function with the reference symbols at IMAGE. */
export function jit1(insns: readonly Insn[], opts: Omit<FuncSpec, 'insns'> = {}, options: Partial<JitOptions> = {}, profile: Profile = P510): JitResult {
  return jitProgram(single(insns, opts), profile, { symbols: REF_SYMBOLS, images: () => IMAGE, ...options });
}

/** The code of the first `n` instructions of `[...insns, exit]` (the prologue excluded). */
export function codeOf(insns: readonly Insn[], n = insns.length, opts: Omit<FuncSpec, 'insns'> = {}, options: Partial<JitOptions> = {}): Uint8Array {
  const f = jit1([...insns, EXIT], opts, options).funcs[0];
  let slots = 0;
  for (let k = 0; k < n; k++) slots += width(insns[k]);
  return f.image.slice(f.addrs[0], f.addrs[slots]);
}

/** The code of one instruction. */
export const code1 = (i: Insn, options: Partial<JitOptions> = {}): Uint8Array => codeOf([i], 1, {}, options);

/** x86 names of BPF r0..r10 as 64- and 32-bit registers, and their low bytes and words. */
export const R64 = ['rax', 'rdi', 'rsi', 'rdx', 'rcx', 'r8', 'rbx', 'r13', 'r14', 'r15', 'rbp'];
export const R32 = ['eax', 'edi', 'esi', 'edx', 'ecx', 'r8d', 'ebx', 'r13d', 'r14d', 'r15d', 'ebp'];
export const R16 = ['ax', 'di', 'si', 'dx', 'cx', 'r8w', 'bx', 'r13w', 'r14w', 'r15w', 'bp'];
export const R8 = ['al', 'dil', 'sil', 'dl', 'cl', 'r8b', 'bl', 'r13b', 'r14b', 'r15b', 'bpl'];
