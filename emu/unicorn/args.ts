// Argument checks shared by the binding. A bad argument is misuse, reported as the uc_err the
// engine uses for it (UC_ERR_ARG), naming the method and the field; nothing reaches C unchecked
// where C would misbehave (uc_hook_del on an unknown handle would dereference it, for instance).

import { UcErr } from './consts.js';
import { UnicornError } from './errors.js';

const U64_END = 1n << 64n;

export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

export function argError(call: string, text: string): UnicornError {
  return new UnicornError(call, UcErr.ARG, text);
}

/** A 64-bit address or other unsigned 64-bit quantity: a bigint in [0, 2^64). */
export function checkU64(call: string, field: string, v: unknown): bigint {
  if (typeof v !== 'bigint' || v < 0n || v >= U64_END) {
    throw argError(call, `${field} must be a bigint in [0, 2^64), got ${describe(v)}`);
  }
  return v;
}

/** A byte count, instruction count or microsecond count: a non-negative safe integer. */
export function checkCount(call: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw argError(call, `${field} must be a non-negative integer, got ${describe(v)}`);
  }
  return v;
}

/** A value for a register or memory cell of `bytes` bytes: signed or unsigned, two's complement. */
export function checkValue(call: string, field: string, v: unknown, bytes: number): bigint {
  const bits = BigInt(bytes * 8);
  if (typeof v !== 'bigint' || v < -(1n << (bits - 1n)) || v >= 1n << bits) {
    throw argError(call, `${field} must be a bigint that fits in ${bytes} bytes, got ${describe(v)}`);
  }
  return BigInt.asUintN(bytes * 8, v);
}

/** A set of flag bits that must be non-empty and within `allowed`. */
export function checkFlags(call: string, field: string, v: unknown, allowed: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || (v & ~allowed) !== 0) {
    throw argError(call, `${field} must be a non-empty subset of ${hex(allowed)}, got ${describe(v)}`);
  }
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v < 0n ? '-' : ''}${hex(v < 0n ? -v : v)}n`;
  if (typeof v === 'number') return String(v);
  return typeof v;
}
