// Errors of the debuggers: a command or packet the target cannot carry out, named by a stable
// code (style guide habit 8). The front ends print them and carry on; nothing here ends a session.

import { TailjitError, type SourceLocation } from '../../src/errors.js';

export type DebugErrorCode =
  /** A command line that does not parse (unknown command, bad argument). */
  | 'debug.usage'
  /** An expression (`if r1 == 2`, `x/4x rbp-8`) that does not parse, with its column. */
  | 'debug.expr'
  /** A name the target does not know: program, function, map, register, source line. */
  | 'debug.unknown'
  /** An address that is not mapped in the emulated kernel. */
  | 'debug.memory'
  /** Not possible in the target's state (no run in progress, the scenario is over). */
  | 'debug.state'
  /** A malformed GDB remote packet. */
  | 'debug.packet'
  /** The input (scenario or object) did not load. */
  | 'debug.load';

export class DebugError extends TailjitError {
  override readonly code: DebugErrorCode;

  constructor(code: DebugErrorCode, message: string, location: SourceLocation = {}, notes: string[] = []) {
    super(code, message, location, notes);
    this.code = code;
  }
}
