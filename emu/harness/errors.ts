// How a run that did not end normally is reported (scenario.md §Output `error`): a plain
// object with the kind, a message, where the CPU was (x86 address, the BPF instruction through
// the JIT's addrs[], the program) and the chain of programs and functions that led there.

import { TailjitError } from '../../src/errors.js';

export type RunErrorKind = 'budget' | 'fault' | 'check' | 'load';

export interface RunError {
  readonly kind: RunErrorKind;
  readonly message: string;
  /** `0x...`, where the CPU was; null when unknown. */
  readonly x86_address: string | null;
  /** Program slot of the BPF instruction whose code holds `x86_address`, when it is in an image. */
  readonly bpf_insn: number | null;
  /** The program (or function) whose image holds `x86_address`, else the innermost frame's. */
  readonly prog: string | null;
  /** Outermost first: each frame's functions, tail-call targets appended in order. */
  readonly call_chain: readonly string[];
  /** What the address is in the modeled kernel ("bpf image sub (func 1 of entry) +0x55"). */
  readonly where?: string;
}

export type HarnessErrorCode =
  /** A program or map the request names does not exist. */
  | 'harness.unknown'
  /** A program that failed to load was asked to run. */
  | 'harness.not-loaded'
  /** A request the harness cannot carry out (bad repeat, bad budget). */
  | 'harness.bad-request'
  /** The JIT's output and the harness's expectations of it disagree (never the program's fault). */
  | 'harness.bug';

export class HarnessError extends TailjitError {
  override readonly code: HarnessErrorCode;

  constructor(code: HarnessErrorCode, message: string, notes: string[] = []) {
    super(code, message, {}, notes);
    this.code = code;
  }
}

/** Thrown from hooks to end a run; start() re-throws it and the run turns it into a RunError. */
export class RunStop extends Error {
  constructor(readonly kind: RunErrorKind, message: string, readonly address: bigint | null) {
    super(message);
  }
}

export const hexAddr = (a: bigint | null | undefined): string | null => (a === null || a === undefined ? null : `0x${BigInt.asUintN(64, a).toString(16)}`);
