// Errors of the unicorn binding. Every failure of a uc_* call becomes a UnicornError carrying the
// engine's uc_err number, so callers match on `ucErr`/`code` (e.g. 'UC_ERR_READ_UNMAPPED'), never
// on text. Misuse caught on the JS side (a negative address, a closed engine) uses the uc_err that
// the engine itself would report for it (UC_ERR_ARG, UC_ERR_HANDLE), so one class covers both.

import { TailjitError } from '../../src/errors.js';
import { UcErr, UcMemType } from './consts.js';

const ERR_NAMES = new Map<number, string>(Object.entries(UcErr).map(([k, v]) => [v, `UC_ERR_${k}`]));
const MEM_TYPE_NAMES = new Map<number, string>(Object.entries(UcMemType).map(([k, v]) => [v, `UC_MEM_${k}`]));

/** `UC_ERR_READ_UNMAPPED` for 6; `UC_ERR_UNKNOWN_<n>` for numbers the header does not define. */
export function ucErrName(err: number): string {
  return ERR_NAMES.get(err) ?? `UC_ERR_UNKNOWN_${err}`;
}

/** `UC_MEM_WRITE_PROT` for 22. */
export function memTypeName(type: number): string {
  return MEM_TYPE_NAMES.get(type) ?? `UC_MEM_UNKNOWN_${type}`;
}

/** The last invalid memory access seen during a run (from the engine's own fault hook). */
export interface MemFault {
  /** UC_MEM_READ_UNMAPPED ... UC_MEM_FETCH_PROT. */
  type: UcMemType;
  address: bigint;
  size: number;
}

export class UnicornError extends TailjitError {
  /** The uc_err number (UC_ERR_*). */
  readonly ucErr: number;
  /** Its name, e.g. 'UC_ERR_READ_UNMAPPED' (also the TailjitError `code`). */
  readonly ucErrName: string;
  /** What failed: the uc_* function, or the binding method for misuse caught before the call. */
  readonly call: string;
  /** For memory errors raised by a run: the faulting access, when the engine reported it. */
  readonly fault: MemFault | undefined;

  /**
   * @param call    e.g. 'uc_mem_read(0x1000, 8)'
   * @param text    uc_strerror(ucErr), or a description of the misuse
   */
  constructor(call: string, ucErr: number, text: string, fault?: MemFault, notes: string[] = []) {
    const where = fault ? ` at 0x${fault.address.toString(16)} (${memTypeName(fault.type)}, ${fault.size} bytes)` : '';
    // 2.0.1's uc_strerror names the error in its text, except where it has no text at all.
    const named = text.includes(ucErrName(ucErr)) ? text : `${text} (${ucErrName(ucErr)})`;
    super(ucErrName(ucErr), `${call}: ${named}${where}`, {}, notes);
    this.ucErr = ucErr;
    this.ucErrName = ucErrName(ucErr);
    this.call = call;
    this.fault = fault;
  }
}

/** libunicorn.so.2 could not be loaded; the message says what to install. */
export class UnicornUnavailableError extends TailjitError {
  constructor(detail: string) {
    super(
      'UNICORN_UNAVAILABLE',
      `cannot load libunicorn.so.2 (${detail})`,
      {},
      ['install it with `apt-get install libunicorn2` (Debian), or run `node scripts/check-unicorn.mjs`'],
    );
  }
}
