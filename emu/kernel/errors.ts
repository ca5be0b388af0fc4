// Errors of the modeled kernel: what a real kernel would refuse (a bad map update, an unknown
// slot) and what this model does not cover. Run-time faults of emulated code are not errors of
// this kind: the harness reports them as structured run errors (emu/harness/errors.ts).

import { TailjitError, type SourceLocation } from '../../src/errors.js';

export type KernelErrorCode =
  /** A map type the model has no layout for. */
  | 'kernel.map-not-modeled'
  /** A program type whose test-run context the model cannot build. */
  | 'kernel.prog-type-not-modeled'
  /** bpf_map_update_elem / delete on a prog array refused (E2BIG, ENOENT, EINVAL). */
  | 'kernel.map-update'
  /** A text poke found bytes other than the expected ones (a kernel BUG_ON). */
  | 'kernel.poke'
  /** The poke sequence would have written the forbidden state A (tailcalls.md §6.1). */
  | 'kernel.poke-forbidden-state'
  /** A context or packet the test run cannot take (size limits of bpf_test_init). */
  | 'kernel.bad-ctx'
  /** A name the kernel does not know (symbol, map, program). */
  | 'kernel.unknown';

export class KernelError extends TailjitError {
  override readonly code: KernelErrorCode;
  /** errno the kernel would return, when the refusal has one. */
  readonly errno: number | undefined;

  constructor(code: KernelErrorCode, message: string, opts: { errno?: number; location?: SourceLocation; notes?: string[] } = {}) {
    super(code, message, opts.location ?? {}, opts.notes ?? []);
    this.code = code;
    this.errno = opts.errno;
  }
}
