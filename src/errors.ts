// Every error tailjit raises on purpose is a TailjitError with a stable `code`, so callers and
// tests match on codes rather than on text. Each layer has its own subclass (IsaError,
// AsmError, InterpError, ...). A `JitBug`-style invariant violation is a separate class in its
// layer so that it never looks like a user's mistake.

export interface SourceLocation {
  /** File the input came from, when there is one. */
  file?: string;
  /** 1-based line. */
  line?: number;
  /** 1-based column. */
  column?: number;
  /** Instruction index (8-byte slot number, as the kernel counts). */
  insn?: number;
}

export class TailjitError extends Error {
  readonly code: string;
  readonly location: SourceLocation;
  readonly notes: string[];

  constructor(code: string, message: string, location: SourceLocation = {}, notes: string[] = []) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.location = location;
    this.notes = notes;
  }

  /** `file:line:col: error: text` (esbuild style), falling back to what is known; `context`
   * fills in what the error itself does not know (the file a program came from). */
  format(context: SourceLocation = {}): string {
    const where = formatLocation({ ...context, ...this.location });
    const head = where ? `${where}: error: ${this.message}` : `error: ${this.message}`;
    return [head, ...this.notes.map((n) => `  note: ${n}`)].join('\n');
  }
}

export function formatLocation(loc: SourceLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.line !== undefined) {
    parts.push(String(loc.line));
    if (loc.column !== undefined) parts.push(String(loc.column));
  }
  let s = parts.join(':');
  if (loc.insn !== undefined) s += `${s ? ':' : ''}insn ${loc.insn}`;
  return s;
}
