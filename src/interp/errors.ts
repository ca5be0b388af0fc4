// Errors of the reference interpreter. Every failure of a run is an `InterpError` with a stable
// code; `location.insn` is the 8-byte slot of the instruction that failed (as the kernel counts),
// and the details say what was touched.
//
// Codes:
//   interp.fault        memory access outside every region, past a region's end, or a write to a
//                       read-only region
//   interp.budget       the instruction or wall-time budget ran out
//   interp.call-depth   a bpf2bpf call would make the 9th frame of one program (MAX_CALL_FRAMES)
//   interp.bad-insn     an instruction that is not one (unknown opcode, bad field, bad target,
//                       write to r10), refused when it is reached
//   interp.fall-off     execution ran past the last instruction
//   interp.unsupported  legacy LD_ABS/LD_IND, kfunc calls
//   interp.pseudo       ld_imm64 with a pseudo source that the environment does not resolve
//   interp.helper       unknown helper id, or a helper that returned something other than a bigint
//   interp.tail-call    bpf_tail_call whose r2 is not a prog array of the environment
//   interp.memory       a region that overlaps another one (environment set-up)
//   interp.options      a budget that is not a number >= 0

import { TailjitError, type SourceLocation } from '../errors.js';

export type AccessKind = 'load' | 'store' | 'atomic';

/** Counters reached by a run; carried by errors raised during the run. */
export interface RunStats {
  /** BPF instructions executed (an ld_imm64 counts once). */
  insns: number;
  helperCalls: number;
  localCalls: number;
  tailCalls: {
    taken: number;
    refused: { emptySlot: number; outOfBounds: number; limit: number };
  };
  /** Deepest stack of live frames seen (the main program alone is 1). */
  maxCallDepth: number;
  /** Most tail calls taken along one call path (the callers' chain plus the frame's own). */
  maxChainLength: number;
}

export interface InterpErrorDetails {
  /** Name of the program that was running. */
  program?: string;
  address?: bigint;
  size?: number;
  access?: AccessKind;
  /** The region the access fell in or near; null when it touched no region. */
  region?: string | null;
  /** Counts reached when the error happened. */
  stats?: RunStats;
}

export class InterpError extends TailjitError {
  readonly details: InterpErrorDetails;

  constructor(code: string, message: string, location: SourceLocation = {}, details: InterpErrorDetails = {}, notes: string[] = []) {
    super(code, message, location, notes);
    this.details = details;
  }

  get slot(): number | undefined {
    return this.location.insn;
  }

  /** The same error placed at an instruction (memory and helpers raise it without one). */
  placed(slot: number, details: InterpErrorDetails, note?: string): InterpError {
    const notes = note ? [...this.notes, note] : this.notes;
    return new InterpError(this.code, this.message, { ...this.location, insn: slot }, { ...this.details, ...details }, notes);
  }
}

export const hex = (v: bigint): string => '0x' + v.toString(16);
