// BTF for BPF_BTF_LOAD, written back from src/elf's parsed (and libbpf-fixed) types: the
// DATASEC sizes and VAR offsets libbpf takes from the symbol table, hidden functions and
// variables made static, are already in the `Btf` that src/elf hands over. Type ids are kept;
// the string section is rebuilt (names are all the kernel looks at, not their offsets), and
// also holds the file names and source lines that line_info points at.
// Layouts: include/uapi/linux/btf.h.

import type { Btf, BtfType } from '../../src/elf/index.js';
import type { FuncInfo, LineInfo } from '../../src/elf/index.js';

const KIND: Record<BtfType['kind'], number> = {
  void: 0, int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9,
  const: 10, restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15, float: 16,
  decl_tag: 17, type_tag: 18, enum64: 19,
};

/** BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL. */
const INT_SIGNED = 1, INT_CHAR = 2, INT_BOOL = 4;

export class StringTable {
  readonly #offsets = new Map<string, number>([['', 0]]);
  readonly #parts: Uint8Array[] = [new Uint8Array(1)];
  #size = 1;

  add(s: string): number {
    const have = this.#offsets.get(s);
    if (have !== undefined) return have;
    const enc = new TextEncoder().encode(s);
    const bytes = new Uint8Array(enc.length + 1);
    bytes.set(enc);
    const off = this.#size;
    this.#parts.push(bytes);
    this.#size += bytes.length;
    this.#offsets.set(s, off);
    return off;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const p of this.#parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

export interface EncodedBtf {
  /** The BTF blob to load. */
  readonly bytes: Uint8Array;
  /** The string table the blob holds (func/line info records point into it). */
  readonly strings: StringTable;
}

/**
 * Encodes the types and a string table; `extraStrings` (line_info's file names and lines) are
 * added to the table so that the records built later find them at known offsets.
 */
export function encodeBtf(btf: Btf, extraStrings: Iterable<string> = []): EncodedBtf {
  const strings = new StringTable();
  const words: number[] = [];
  const w = (...xs: number[]): void => { for (const x of xs) words.push(x >>> 0); };
  const info = (kind: number, vlen: number, kflag = false): number => ((kflag ? 1 : 0) << 31) | (kind << 24) | (vlen & 0xffff);
  for (const t of btf.types) {
    if (t.kind === 'void') continue;
    const name = strings.add(t.name);
    const k = KIND[t.kind];
    switch (t.kind) {
      case 'int': {
        const enc = (t.signed ? INT_SIGNED : 0) | (t.char ? INT_CHAR : 0) | (t.bool ? INT_BOOL : 0);
        w(name, info(k, 0), t.size, (enc << 24) | ((t.bitOffset & 0xff) << 16) | (t.bits & 0xff));
        break;
      }
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        w(name, info(k, 0), t.type);
        break;
      case 'array':
        w(name, info(k, 0), 0, t.type, t.indexType, t.nelems);
        break;
      case 'struct': case 'union': {
        const bitfields = t.members.some((m) => m.bitfieldSize > 0);
        w(name, info(k, t.members.length, bitfields), t.size);
        for (const m of t.members) w(strings.add(m.name), m.type, bitfields ? (m.bitfieldSize << 24) | m.bitOffset : m.bitOffset);
        break;
      }
      case 'enum':
        w(name, info(k, t.values.length, t.signed), t.size);
        for (const v of t.values) w(strings.add(v.name), Number(BigInt.asUintN(32, v.value)));
        break;
      case 'enum64':
        w(name, info(k, t.values.length, t.signed), t.size);
        for (const v of t.values) {
          const u = BigInt.asUintN(64, v.value);
          w(strings.add(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
        }
        break;
      case 'fwd':
        w(name, info(k, 0, t.union), 0);
        break;
      case 'func':
        w(name, info(k, t.linkage), t.type);
        break;
      case 'func_proto':
        w(name, info(k, t.params.length), t.returnType);
        for (const p of t.params) w(strings.add(p.name), p.type);
        break;
      case 'var':
        w(name, info(k, 0), t.type, t.linkage);
        break;
      case 'datasec':
        w(name, info(k, t.vars.length), t.size);
        for (const v of t.vars) w(v.type, v.offset, v.size);
        break;
      case 'float':
        w(name, info(k, 0), t.size);
        break;
      case 'decl_tag':
        w(name, info(k, 0), t.type, t.componentIdx);
        break;
    }
  }
  for (const s of extraStrings) strings.add(s);
  const str = strings.bytes();
  const typeLen = words.length * 4;
  const out = new Uint8Array(24 + typeLen + str.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xeb9f, true);
  dv.setUint8(2, 1); // version
  dv.setUint8(3, 0); // flags
  dv.setUint32(4, 24, true); // hdr_len
  dv.setUint32(8, 0, true); // type_off
  dv.setUint32(12, typeLen, true);
  dv.setUint32(16, typeLen, true); // str_off
  dv.setUint32(20, str.length, true);
  words.forEach((x, i) => dv.setUint32(24 + i * 4, x, true));
  out.set(str, 24 + typeLen);
  return { bytes: out, strings };
}

/** struct bpf_func_info records (insn_off, type_id). */
export function funcInfoRecords(funcs: readonly FuncInfo[]): Uint8Array {
  const out = new Uint8Array(funcs.length * 8);
  const dv = new DataView(out.buffer);
  funcs.forEach((f, i) => { dv.setUint32(i * 8, f.insnOff, true); dv.setUint32(i * 8 + 4, f.typeId, true); });
  return out;
}

/** struct bpf_line_info records (insn_off, file_name_off, line_off, line << 10 | col). */
export function lineInfoRecords(lines: readonly LineInfo[], strings: StringTable): Uint8Array {
  const out = new Uint8Array(lines.length * 16);
  const dv = new DataView(out.buffer);
  lines.forEach((l, i) => {
    dv.setUint32(i * 16, l.insnOff, true);
    dv.setUint32(i * 16 + 4, strings.add(l.file), true);
    dv.setUint32(i * 16 + 8, strings.add(l.text), true);
    dv.setUint32(i * 16 + 12, ((l.line << 10) | (l.column & 0x3ff)) >>> 0, true);
  });
  return out;
}
