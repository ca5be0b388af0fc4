// A saved CPU context (uc_context): registers and internal CPU state, not memory (unicorn 2.0.1
// has no memory snapshots). Created only by Unicorn.contextSave and freed with free() or when its
// engine closes.

import { UcErr } from './consts.js';
import { UnicornError } from './errors.js';
import { native } from './native.js';
import { RegScratch, regWidth } from './registers.js';
import { argError, checkValue } from './args.js';

/** Keeps the constructor out of reach of other modules. */
const TOKEN = Symbol('Context');

export class Context {
  #ptr: bigint | null;
  readonly #arch: number;
  readonly #scratch = new RegScratch();
  readonly #onFree: (ctx: Context) => void;

  /** @internal Use Unicorn.contextSave(). */
  constructor(token: typeof TOKEN, ptr: bigint, arch: number, onFree: (ctx: Context) => void) {
    if (token !== TOKEN) throw argError('new Context', 'contexts come from Unicorn.contextSave()');
    this.#ptr = ptr;
    this.#arch = arch;
    this.#onFree = onFree;
  }

  get freed(): boolean {
    return this.#ptr === null;
  }

  /** Release the native context. Idempotent. */
  free(): void {
    if (this.#ptr === null) return;
    const ptr = this.#ptr;
    this.#ptr = null;
    this.#onFree(this);
    native().uc_context_free(ptr);
  }

  /** A register as saved in this context (uc_context_reg_read); same widths as Unicorn.regRead. */
  regRead(reg: number): bigint {
    const width = this.#width('Context.regRead', reg);
    this.#scratch.clear(width);
    check(`uc_context_reg_read(${reg})`, native().uc_context_reg_read(this.handle('Context.regRead'), reg, this.#scratch.u64));
    return this.#scratch.decode(width);
  }

  /** Change a register in this context only (uc_context_reg_write). */
  regWrite(reg: number, value: bigint): void {
    const width = this.#width('Context.regWrite', reg);
    this.#scratch.encode(checkValue('Context.regWrite', 'value', value, width), width);
    check(`uc_context_reg_write(${reg})`, native().uc_context_reg_write(this.handle('Context.regWrite'), reg, this.#scratch.u64));
  }

  /** @internal The native pointer; throws UC_ERR_HANDLE once freed. */
  handle(call: string): bigint {
    if (this.#ptr === null) throw new UnicornError(call, UcErr.HANDLE, 'the context was freed');
    return this.#ptr;
  }

  #width(call: string, reg: number): number {
    const width = regWidth(this.#arch, reg);
    if (width === 0) throw argError(call, `register ${reg} is not a plain register value`);
    return width;
  }
}

function check(call: string, err: number): void {
  if (err !== UcErr.OK) throw new UnicornError(call, err, native().uc_strerror(err));
}

/** @internal For Unicorn only. */
export function newContext(ptr: bigint, arch: number, onFree: (ctx: Context) => void): Context {
  return new Context(TOKEN, ptr, arch, onFree);
}
