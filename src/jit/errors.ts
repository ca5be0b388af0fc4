// Errors of the JIT layer. `JitError` is what the kernel's JIT would also refuse or fail on
// (the program then runs in the interpreter or the load fails, x86-jit.md §7.7); `JitBug` is an
// invariant of this implementation that broke, and never a property of the input program.

import { TailjitError, type SourceLocation } from '../errors.js';

export type JitErrorCode =
  /** An instruction the profile's release does not have (atomics, cpu v4, callx, ...). */
  | 'jit.unsupported-insn'
  /** An opcode do_jit has no case for ("unknown opcode"). */
  | 'jit.unknown-opcode'
  /** A register field the JIT has no x86 register for. */
  | 'jit.bad-register'
  /** One instruction's code exceeds BPF_MAX_INSN_SIZE ("fatal insn size error"). */
  | 'jit.insn-too-long'
  /** A jump displacement outside s32 ("cond_jmp gen bug", "jmp gen bug"). */
  | 'jit.jump-range'
  /** A jump whose target is outside its function (the verifier forbids it). */
  | 'jit.jump-outside-function'
  /** CALL with imm 0, or a call/jump target out of rel32 reach ("Target call %p is out of range"). */
  | 'jit.call-target'
  /** A `call local` whose target is not the start of a function. */
  | 'jit.bad-subprog'
  /** A direct tail call whose imm names no poke descriptor. */
  | 'jit.bad-poke'
  /** A PROBE_MEM extable entry that cannot be written (x86-jit.md §4.2). */
  | 'jit.extable'
  /** A padded jump whose old size it cannot reach (6.1's "unexpected jmp_cond padding: %d bytes"). */
  | 'jit.jmp-padding'
  /** No two equal consecutive lengths within the size passes. */
  | 'jit.not-converged'
  /** The extra pass of a multi-function program failed ("JIT doesn't support bpf-to-bpf calls"). */
  | 'jit.bpf2bpf-unsupported'
  /** A program shape the input boundary forbids (empty function, funcs not covering the program). */
  | 'jit.bad-program'
  /** An image address that is not 4-byte aligned, or a size the allocator refused. */
  | 'jit.alloc'
  /** A kernel symbol the chosen code needs was not supplied. */
  | 'jit.missing-symbol';

export class JitError extends TailjitError {
  override readonly code: JitErrorCode;
  /** Index of the function (0 = main) the error is in, when it is in one. */
  readonly func: number | undefined;
  /** The instruction field at fault, when one is. */
  readonly field: string | undefined;

  constructor(code: JitErrorCode, message: string, location: SourceLocation = {}, opts: { func?: number; field?: string; notes?: string[] } = {}) {
    super(code, message, location, opts.notes ?? []);
    this.code = code;
    this.func = opts.func;
    this.field = opts.field;
  }
}

export type JitBugCode =
  /** The image pass put an instruction somewhere else than the previous pass ("bpf_jit: fatal error"). */
  | 'jit.bug.image-moved'
  /** The image pass's total differs from the last size pass ("proglen=%d != oldproglen=%d"). */
  | 'jit.bug.proglen'
  /** A measured tail-call bail-out distance differs from the kernel's constant. */
  | 'jit.bug.bailout'
  /** A text poke found bytes other than the expected old instruction (a kernel BUG_ON). */
  | 'jit.bug.poke';

export class JitBug extends TailjitError {
  override readonly code: JitBugCode;
  readonly func: number | undefined;

  constructor(code: JitBugCode, message: string, location: SourceLocation = {}, func?: number) {
    super(code, message, location);
    this.code = code;
    this.func = func;
  }
}
