// Errors of the text layer: the assembler and the `.data` reader. Each carries the source line it
// points into, so `format()` can show the line with a caret under the offending token.

import { TailjitError, formatLocation, type SourceLocation } from '../errors.js';

/** Stable codes of every error this layer raises. */
export type AsmErrorCode =
  | 'asm.unknown-mnemonic'
  | 'asm.operand-count'
  | 'asm.bad-operand'
  | 'asm.bad-register'
  | 'asm.bad-immediate'
  | 'asm.imm-range'
  | 'asm.bad-memory'
  | 'asm.offset-range'
  | 'asm.bad-label'
  | 'asm.duplicate-label'
  | 'asm.unknown-label'
  | 'asm.bad-target'
  | 'data.bad-hex'
  | 'data.bad-result'
  | 'data.bad-raw'
  | 'data.duplicate-section';

export class AsmError extends TailjitError {
  declare readonly code: AsmErrorCode;
  /** The text of the line the error points into, when known. */
  readonly sourceLine: string | undefined;
  /** How many characters from `location.column` the caret underlines (at least 1). */
  readonly span: number;

  constructor(
    code: AsmErrorCode,
    message: string,
    location: SourceLocation,
    sourceLine?: string,
    span = 1,
    notes: string[] = [],
  ) {
    super(code, message, location, notes);
    this.sourceLine = sourceLine;
    this.span = Math.max(1, span);
  }

  /** `file:line:col: error: msg`, then the source line and a caret under the column. */
  override format(): string {
    const where = formatLocation(this.location);
    const lines = [where ? `${where}: error: ${this.message}` : `error: ${this.message}`];
    if (this.sourceLine !== undefined && this.location.column !== undefined) {
      lines.push(this.sourceLine, caretLine(this.sourceLine, this.location.column, this.span));
    }
    for (const n of this.notes) lines.push(`  note: ${n}`);
    return lines.join('\n');
  }
}

/** Caret under 1-based `column`; tabs in the prefix are kept so the caret lines up in a terminal. */
function caretLine(source: string, column: number, span: number): string {
  const prefix = source.slice(0, column - 1).replace(/[^\t]/g, ' ');
  const room = Math.max(1, Math.min(span, source.length - (column - 1)));
  return prefix + '^' + '~'.repeat(room - 1);
}
