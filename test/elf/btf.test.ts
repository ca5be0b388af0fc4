// BTF kinds the committed objects do not contain (union, fwd, restrict, decl/type tags, enum64),
// read from a blob assembled here by hand after include/uapi/linux/btf.h.

import { describe, expect, it } from 'vitest';
import { Bytes } from '../../src/elf/bytes.js';
import { parseBtf, parseBtfExt } from '../../src/elf/btf.js';
import { decodeValue, ElfError } from '../../src/elf/index.js';

/** Builds a .BTF section: 24-byte header, types, strings. */
function blob(types: number[][], names: string[]): Uint8Array {
  const strs: number[] = [0];
  const off: Record<string, number> = {};
  for (const n of names) { off[n] = strs.length; strs.push(...new TextEncoder().encode(n), 0); }
  const words = types.flat().map((w) => (typeof w === 'number' ? w : 0));
  const typeBytes = new Uint8Array(words.length * 4);
  const tv = new DataView(typeBytes.buffer);
  words.forEach((w, i) => tv.setUint32(i * 4, w >>> 0, true));
  const out = new Uint8Array(24 + typeBytes.length + strs.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true); v.setUint8(2, 1); v.setUint32(4, 24, true);
  v.setUint32(8, 0, true); v.setUint32(12, typeBytes.length, true);
  v.setUint32(16, typeBytes.length, true); v.setUint32(20, strs.length, true);
  out.set(typeBytes, 24); out.set(strs, 24 + typeBytes.length);
  return out;
}
const info = (kind: number, vlen = 0, kflag = 0) => ((kflag << 31) | (kind << 24) | vlen) >>> 0;
// String offsets of NAMES below (each string + NUL after the leading NUL).
const NAMES = ['int', 'u', 'a', 'b', 'big', 'fwd_s', 'tag', 'x', 'e64'];
const S: Record<string, number> = {};
{ let o = 1; for (const n of NAMES) { S[n] = o; o += n.length + 1; } }

const TYPES: number[][] = [
  /* 1 */ [S.int, info(1), 4, (1 << 24) | 32],                       // int: signed, 32 bits
  /* 2 */ [S.u, info(5, 2), 4, S.a, 1, 0, S.b, 1, 0],                 // union u { int a; int b; }
  /* 3 */ [S.fwd_s, info(7, 0, 1), 0],                                // fwd union fwd_s
  /* 4 */ [0, info(11), 1],                                           // restrict int
  /* 5 */ [S.tag, info(18), 4],                                       // type_tag "tag" -> restrict
  /* 6 */ [S.tag, info(17), 2, -1],                                   // decl_tag on the union
  /* 7 */ [S.e64, info(19, 2, 1), 8, S.x, 0xffffffff, 0xffffffff, S.big, 0, 0x40000000], // signed enum64 { x = -1, big = 2^62 }
  /* 8 */ [0, info(2), 3],                                            // ptr to fwd
];

describe('every BTF kind parses', () => {
  const btf = parseBtf(new Bytes(blob(TYPES, NAMES)));
  it('kinds in order', () => {
    expect(btf.types.map((t) => t.kind)).toEqual(['void', 'int', 'union', 'fwd', 'restrict', 'type_tag', 'decl_tag', 'enum64', 'ptr']);
  });
  it('union members, fwd flavour, decl_tag component, enum64 values', () => {
    const u = btf.type(2);
    expect(u.kind === 'union' && u.members.map((m) => m.name)).toEqual(['a', 'b']);
    expect(btf.type(3)).toMatchObject({ kind: 'fwd', union: true });
    expect(btf.type(6)).toMatchObject({ kind: 'decl_tag', componentIdx: -1 });
    const e = btf.type(7);
    expect(e.kind === 'enum64' && e.values.map((v) => v.value)).toEqual([-1n, 1n << 62n]);
  });
  it('sizes through modifier chains; a fwd has none', () => {
    expect(btf.resolveSize(5)).toBe(4); // type_tag -> restrict -> int
    expect(btf.resolveSize(8)).toBe(8); // any pointer
    expect(() => btf.resolveSize(3)).toThrow(ElfError);
  });
  it('decodes unions as objects and a signed enum64 as a (big) number', () => {
    expect(decodeValue(btf, 2, Uint8Array.of(0xfe, 0xff, 0xff, 0xff))).toEqual({ a: -2, b: -2 });
    expect(decodeValue(btf, 7, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x40))).toBe(1n << 62n);
    expect(decodeValue(btf, 7, new Uint8Array(8).fill(0xff))).toBe(-1);
  });
});

describe('bad BTF', () => {
  it('a reference to a type that does not exist', () => {
    expect(() => parseBtf(new Bytes(blob([[0, info(2), 9]], [])))).toThrow('section .BTF: type 1 (ptr (anon)): its type refers to type 9, which does not exist (1 types)');
  });
  it('a type cut short', () => {
    const b = blob(TYPES, NAMES);
    const v = new DataView(b.buffer);
    v.setUint32(12, v.getUint32(12, true) - 2, true); // type_len
    expect(() => parseBtf(new Bytes(b))).toThrow(ElfError);
  });
  it('a wrong magic', () => {
    const b = blob(TYPES, NAMES);
    b[0] = 0;
    expect(() => parseBtf(new Bytes(b))).toThrow('section .BTF: magic 0xeb00, expected 0xeb9f');
  });
  it('a BTF.ext record size too small', () => {
    const ext = new Uint8Array(24 + 4 + 8);
    const v = new DataView(ext.buffer);
    v.setUint16(0, 0xeb9f, true); v.setUint8(2, 1); v.setUint32(4, 24, true);
    v.setUint32(8, 0, true); v.setUint32(12, 12, true); // func_info: 12 bytes
    v.setUint32(24, 4, true); // record size 4 < 8
    expect(() => parseBtfExt(new Bytes(ext), () => 'tc')).toThrow('section .BTF.ext: func_info: record size 4, expected at least 8 (a multiple of 4)');
  });
});
