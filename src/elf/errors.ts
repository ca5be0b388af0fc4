// Errors of the ELF loader. Messages read like a path from the file to the fault
// ("section .reltc: relocation 3 (symbol foo): unknown type 7") and, where bytes were being
// read, end with the file offset.

import { TailjitError, type SourceLocation } from '../errors.js';

export class ElfError extends TailjitError {
  /** File offset of the bytes that were being read, when the fault is at one. */
  readonly offset: number | undefined;

  constructor(code: string, message: string, location: SourceLocation = {}, offset?: number) {
    super(code, message, location);
    this.offset = offset;
  }
}

/** `0x1a2b`, the way offsets appear in messages. */
export const hex = (n: number): string => `0x${n.toString(16)}`;
