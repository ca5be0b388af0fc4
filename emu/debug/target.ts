// The one narrow interface both debuggers drive (style guide habit 10): registers, memory,
// single steps, resuming, breakpoints and watchpoints, and why the target stopped. The GDB stub
// uses nothing else; `tailjit debug` adds the kernel's view of the same machine (view.ts).
//
// A target is a sequence of test runs (a scenario's `run` steps, or runs of one program). It is
// *stopped* inside a run, *between* runs (a run ended, or a scenario step poked text), or
// *exited* after the last run. Resuming between runs starts the next run, which stops before its
// first instruction.

import type { RunResult } from '../harness/index.js';
import type { PokeRunReport } from '../kernel/poke.js';
import type { Registers, X86RegName } from './registers.js';

export type TargetState = 'stopped' | 'between' | 'exited';

export type WatchKind = 'write' | 'read' | 'access';

/** The kernel events `tailjit debug` can stop at (`break tailcall`, ...). */
export type EventKind = 'tailcall' | 'tailcall-refused' | 'call' | 'return' | 'helper' | 'poke';
export const EVENT_KINDS: readonly EventKind[] = Object.freeze(['tailcall', 'tailcall-refused', 'call', 'return', 'helper', 'poke']);

/** A run of the sequence: which scenario step, which program. */
export interface RunInfo {
  /** 1-based count of runs started so far. */
  readonly index: number;
  /** The scenario step (0-based), or null for runs of a plain object. */
  readonly step: number | null;
  readonly label?: string;
  readonly prog: string;
}

/** What happened at an event stop (the addresses are rip's when the stop was reported). */
export type KernelEvent =
  | { readonly kind: 'tailcall'; readonly from: string; readonly insn: number; readonly to: string; readonly target: bigint; readonly via: 'direct' | 'indirect' }
  | { readonly kind: 'tailcall-refused'; readonly from: string; readonly insn: number; readonly reason: 'limit' | 'empty_slot' | 'out_of_bounds' }
  | { readonly kind: 'call'; readonly from: string; readonly to: string }
  | { readonly kind: 'return'; readonly from: string; readonly r0: bigint }
  | { readonly kind: 'helper'; readonly name: string; readonly args: readonly bigint[] }
  | { readonly kind: 'poke'; readonly step: number; readonly map: string; readonly slot: number; readonly prog: string | null; readonly report: PokeRunReport };

export type StopEvent =
  /** Before the first instruction of a run (`startAt` decides which one). */
  | { readonly kind: 'start'; readonly pc: bigint; readonly run: RunInfo }
  | { readonly kind: 'breakpoint'; readonly pc: bigint }
  | { readonly kind: 'watchpoint'; readonly pc: bigint; readonly watch: WatchKind; readonly address: bigint; readonly accessed: WatchKind }
  | { readonly kind: 'step'; readonly pc: bigint }
  /** One of the `until` addresses of a resume was reached. */
  | { readonly kind: 'until'; readonly pc: bigint }
  | { readonly kind: 'event'; readonly pc: bigint | null; readonly event: KernelEvent }
  /** The run returned (or faulted, or ran out of budget: `result.error`); the target is between runs. */
  | { readonly kind: 'run-end'; readonly run: RunInfo; readonly result: RunResult }
  /** No runs left; `retval` of the last run that returned one. */
  | { readonly kind: 'exited'; readonly retval: number | null; readonly error?: string };

export interface ResumeRequest {
  /** Extra addresses to stop at this once (`finish`, `next`), reported as `until`. */
  readonly until?: readonly bigint[];
}

export interface DebugTarget {
  readonly state: TargetState;
  readonly lastStop: StopEvent;
  /** The run in progress, or the last one. */
  readonly run: RunInfo | null;

  readRegisters(): Registers;
  writeRegister(name: X86RegName, value: bigint): void;
  /** Throws DebugError `debug.memory` when any byte is unmapped. */
  readMemory(address: bigint, length: number): Uint8Array;
  writeMemory(address: bigint, bytes: Uint8Array): void;

  /** One x86 instruction (between runs: starts the next run instead). */
  stepInstruction(): StopEvent;
  resume(request?: ResumeRequest): StopEvent;

  insertBreakpoint(address: bigint): void;
  removeBreakpoint(address: bigint): void;
  insertWatchpoint(kind: WatchKind, address: bigint, length: number): void;
  removeWatchpoint(kind: WatchKind, address: bigint, length: number): void;
  /** Which kernel events stop the target. */
  catchEvents(kinds: Iterable<EventKind>): void;

  close(): void;
}
