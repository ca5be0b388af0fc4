// Decodes global-data bytes with BTF into the `globals` object of scenario.md §Output, the way
// koracle does it: integers, enums and pointers as numbers (signed when the type is), arrays as
// arrays, structs and unions as objects, anything else as a hex string.

import type { Btf } from './btf.js';
import type { MapSpec, ObjectFile } from './types.js';

/** A decoded value; integers beyond 2^53 come back as bigint so that no digit is lost. */
export type GlobalValue = number | bigint | string | GlobalValue[] | { [name: string]: GlobalValue };

const MAX_DEPTH = 16;

export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function loadLe(b: Uint8Array, n: number): bigint {
  let x = 0n;
  for (let i = Math.min(n, 8) - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
  return x;
}

function num(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

function intValue(raw: bigint, size: number, signed: boolean): number | bigint {
  return num(signed ? BigInt.asIntN(size * 8, raw) : raw);
}

/** The value of type `typeId` held in `data` (which may be longer than the type). */
export function decodeValue(btf: Btf, typeId: number, data: Uint8Array, depth = 0): GlobalValue {
  let t;
  let size: number;
  try {
    t = btf.skipMods(typeId);
    size = btf.resolveSize(typeId);
  } catch {
    return '?';
  }
  if (size > data.length || depth > MAX_DEPTH) return '?';
  const bytes = data.subarray(0, size);
  switch (t.kind) {
    case 'int':
      if ([1, 2, 4, 8].includes(size) && t.bitOffset === 0) return intValue(loadLe(bytes, size), size, t.signed);
      return toHex(bytes);
    case 'enum': case 'enum64':
      return size <= 8 ? intValue(loadLe(bytes, size), size, t.signed) : toHex(bytes);
    case 'ptr':
      return size === 8 ? num(loadLe(bytes, 8)) : toHex(bytes);
    case 'array': {
      let esz: number;
      try { esz = btf.resolveSize(t.type); } catch { esz = 0; }
      if (esz <= 0) return toHex(bytes);
      return Array.from({ length: t.nelems }, (_, i) => decodeValue(btf, t.type, data.subarray(i * esz), depth + 1));
    }
    case 'struct': case 'union': {
      const o: { [name: string]: GlobalValue } = {};
      let anon = 0;
      for (const m of t.members) {
        const name = m.name || `(anon${anon++})`;
        o[name] = memberValue(btf, m, bytes, size, depth);
      }
      return o;
    }
    default:
      return toHex(bytes);
  }
}

function memberValue(btf: Btf, m: { type: number; bitOffset: number; bitfieldSize: number }, bytes: Uint8Array, size: number, depth: number): GlobalValue {
  if (m.bitfieldSize) {
    // Little-endian bitfield: bits [bitOffset, bitOffset + bitfieldSize), unsigned.
    const first = Math.floor(m.bitOffset / 8);
    const n = Math.ceil(((m.bitOffset % 8) + m.bitfieldSize) / 8);
    if (first + n > size || n > 8) return '?';
    let raw = loadLe(bytes.subarray(first), n) >> BigInt(m.bitOffset % 8);
    if (m.bitfieldSize < 64) raw &= (1n << BigInt(m.bitfieldSize)) - 1n;
    return num(raw);
  }
  const at = Math.floor(m.bitOffset / 8);
  return at < size ? decodeValue(btf, m.type, bytes.subarray(at, size), depth + 1) : '?';
}

export interface GlobalsSnapshot {
  /** Every variable of every global-data section; a repeated name becomes `section:name`. */
  readonly globals: Record<string, GlobalValue>;
  /** Each section's bytes in hex, keyed by section name (`.bss`). */
  readonly sections: Record<string, string>;
}

/**
 * Decodes the global-data maps of `obj`: from `contents` (section name -> bytes, e.g. the
 * emulated kernel's map values) where given, else from their initial bytes.
 */
export function decodeGlobals(obj: ObjectFile, contents: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array> = {}): GlobalsSnapshot {
  const get = (k: string) => (contents instanceof Map ? contents.get(k) : (contents as Record<string, Uint8Array>)[k]);
  const globals: Record<string, GlobalValue> = {};
  const sections: Record<string, string> = {};
  for (const m of globalMaps(obj)) {
    const key = m.section ?? m.name;
    const bytes = get(key) ?? m.initial ?? new Uint8Array(m.valueSize);
    sections[key] = toHex(bytes);
    if (!obj.btf) continue;
    for (const v of m.vars ?? []) {
      if (v.offset + v.size > bytes.length) continue;
      const name = Object.prototype.hasOwnProperty.call(globals, v.name) ? `${key}:${v.name}` : v.name;
      globals[name] = decodeValue(obj.btf, v.typeId, bytes.subarray(v.offset, v.offset + v.size));
    }
  }
  return { globals, sections };
}

/** The global-data maps (those with a `section`), in map order. */
export function globalMaps(obj: ObjectFile): MapSpec[] {
  return obj.maps.filter((m) => m.section !== undefined);
}

const BPF_F_RDONLY_PROG = 0x80;

/** koracle's rule for the sections `setvar` and `reset` may write: not `.rodata*`, not `.kconfig`. */
export function isWritableGlobalMap(spec: MapSpec): boolean {
  const s = spec.section ?? '';
  return (spec.flags & BPF_F_RDONLY_PROG) === 0 && !s.startsWith('.rodata') && s !== '.kconfig';
}

/** Where `setvar NAME` writes, or why it cannot: each runner turns the reason into its own error. */
export type WritableGlobal =
  | { readonly ok: true; readonly spec: MapSpec; readonly offset: number; readonly size: 1 | 2 | 4 | 8 }
  | { readonly ok: false; readonly reason: 'unknown' | 'bad-request'; readonly message: string };

/** Finds the integer global `name` (or `section:name`) in a writable global-data section. */
export function findWritableGlobal(obj: ObjectFile, name: string): WritableGlobal {
  const [section, varName] = name.includes(':') ? name.split(':', 2) : [undefined, name];
  const hits = globalMaps(obj).flatMap((spec) => (spec.vars ?? []).filter((v) => v.name === varName && (section === undefined || spec.section === section)).map((v) => ({ spec, v })));
  const writable = hits.filter(({ spec }) => isWritableGlobalMap(spec));
  if (writable.length === 0) {
    const where = hits.length ? ` (it is in ${hits[0].spec.section}, which is read-only)` : '';
    return { ok: false, reason: 'unknown', message: `no writable global variable ${name}${where}` };
  }
  if (writable.length > 1) return { ok: false, reason: 'bad-request', message: `${name} is in ${writable.map((h) => h.spec.section).join(' and ')}: name it as section:name` };
  const { spec, v } = writable[0];
  if (v.size !== 1 && v.size !== 2 && v.size !== 4 && v.size !== 8) return { ok: false, reason: 'bad-request', message: `${name} is ${v.size} bytes, not an integer` };
  return { ok: true, spec, offset: v.offset, size: v.size };
}

/** `value` as the `size` little-endian bytes a global of that size holds. */
export function integerBytes(value: bigint | number, size: 1 | 2 | 4 | 8): Uint8Array {
  const le = new Uint8Array(8);
  new DataView(le.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
  return le.subarray(0, size);
}
