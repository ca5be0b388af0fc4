// What the emit helpers need besides their operands: the profile's JIT facts, the CPU choices and
// the kernel symbols (one `JitEnv` per compilation), and the frame of the function being compiled.

import type { JitCpu, JitProfile } from '../profile/index.js';
import type { KernelSymbols } from './types.js';

export interface JitEnv {
  readonly jit: JitProfile;
  readonly cpu: JitCpu;
  readonly symbols: KernelSymbols;
}

/** Callee-saved registers a function mentions: r6 (rbx), r7 (r13), r8 (r14), r9 (r15). */
export type CalleeRegs = readonly [boolean, boolean, boolean, boolean];

/** The per-function facts the prologue, calls and tail calls depend on (tailcalls.md §0). */
export interface Frame {
  /** `aux->stack_depth` (SD). */
  readonly stackDepth: number;
  readonly calleeRegsUsed: CalleeRegs;
  /** R(f): the verifier's mark, or a tail call in this function. */
  readonly tailCallReachable: boolean;
  /** `func_idx != 0`. */
  readonly isSubprog: boolean;
}

/** SDr: `round_up(stack_depth, 8)`, the bytes the prologue reserves. */
export const roundedStack = (f: Frame): number => (f.stackDepth + 7) & ~7;

/** Displacement of the tail-call counter dword, `-(SDr + 4)` (tailcalls.md §1.5). */
export const tailCallCntOff = (f: Frame): number => -4 - roundedStack(f);

/** Displacement of the counter slot qword, `-(SDr + 8)`. */
export const tailCallSlotOff = (f: Frame): number => -8 - roundedStack(f);

/** Displacement of the counter pointer qword, `-(SDr + 16)`, under `jit.tailCallCounter: 'tcc-ptr'` (tailcalls.md §9.2). */
export const tailCallCntPtrOff = (f: Frame): number => -16 - roundedStack(f);
