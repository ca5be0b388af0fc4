// Errors of the verifier layer: one code per kernel rule, each carrying the instruction
// index (8-byte slot, as the kernel counts) and the message 5.10's verifier writes to its
// log for that rule, byte for byte (without the trailing newline).

import { TailjitError, type SourceLocation } from '../errors.js';

export type VerifierErrorCode =
  | 'verifier.unknown-opcode'
  | 'verifier.reserved-fields'
  | 'verifier.ld-imm64'
  | 'verifier.bad-map'
  | 'verifier.map-value-offset'
  | 'verifier.call-destination'
  | 'verifier.too-many-subprogs'
  | 'verifier.jump-out-of-range'
  | 'verifier.patch-range'
  | 'verifier.last-insn'
  | 'verifier.unreachable'
  | 'verifier.back-edge'
  | 'verifier.func-info'
  | 'verifier.abnormal-return'
  | 'verifier.call-stack-depth'
  | 'verifier.combined-stack'
  | 'verifier.tail-call-stack'
  | 'verifier.tail-call-mixing'
  | 'verifier.map-func-compat'
  | 'verifier.invalid-shift'
  | 'verifier.div-by-zero'
  | 'verifier.frame-pointer'
  | 'verifier.uninit-register'
  | 'verifier.unknown-helper'
  | 'verifier.ld-abs'
  | 'verifier.invalid-access'
  | 'verifier.too-complex'
  | 'verifier.spin-lock'
  | 'verifier.reference-leak'
  | 'verifier.not-modeled';

export class VerifierError extends TailjitError {
  /** The kernel's log line for this rule (empty for `verifier.not-modeled`). */
  readonly kernelMessage: string;
  /** Slot index of the offending instruction in the program as loaded, when there is one. */
  readonly slot: number | undefined;

  constructor(code: VerifierErrorCode, kernelMessage: string, slot?: number, notes: string[] = [], location: SourceLocation = {}) {
    super(code, kernelMessage, slot === undefined ? location : { ...location, insn: slot }, notes);
    this.kernelMessage = kernelMessage;
    this.slot = slot;
  }
}

/** Something 5.10 does that this model does not reproduce: never silently wrong output. */
export function notModeled(what: string, slot?: number, location: SourceLocation = {}): VerifierError {
  const e = new VerifierError('verifier.not-modeled', '', slot, [what], location);
  // The message is ours, not the kernel's; kernelMessage stays empty so tests cannot mix them.
  Object.defineProperty(e, 'message', { value: `not modeled: ${what}` });
  return e;
}
