// BTF and BTF.ext as clang writes them into a BPF object (include/uapi/linux/btf.h layout).
// Every kind up to ENUM64 is read; a kind this reader does not know is an error that names
// it, because skipping it would misplace every type after it.

import { Bytes } from './bytes.js';
import { ElfError, hex } from './errors.js';

export const BTF_MAGIC = 0xeb9f;

export const BtfKind = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9,
  CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16,
  DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

/** BTF_VAR_* linkage and BTF_FUNC_* linkage values. */
export const VarLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;
export const FuncLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;

export interface BtfMember { readonly name: string; readonly type: number; readonly bitOffset: number; readonly bitfieldSize: number }
export interface BtfParam { readonly name: string; readonly type: number }
export interface BtfEnumValue { readonly name: string; readonly value: bigint }
export interface BtfVarSecinfo { readonly type: number; readonly offset: number; readonly size: number }

export type BtfType =
  | { readonly kind: 'void'; readonly id: 0; readonly name: '' }
  | { readonly kind: 'int'; readonly id: number; readonly name: string; readonly size: number; readonly signed: boolean; readonly char: boolean; readonly bool: boolean; readonly bitOffset: number; readonly bits: number }
  | { readonly kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'; readonly id: number; readonly name: string; readonly type: number }
  | { readonly kind: 'array'; readonly id: number; readonly name: string; readonly type: number; readonly indexType: number; readonly nelems: number }
  | { readonly kind: 'struct' | 'union'; readonly id: number; readonly name: string; readonly size: number; readonly members: readonly BtfMember[] }
  | { readonly kind: 'enum' | 'enum64'; readonly id: number; readonly name: string; readonly size: number; readonly signed: boolean; readonly values: readonly BtfEnumValue[] }
  | { readonly kind: 'fwd'; readonly id: number; readonly name: string; readonly union: boolean }
  | { readonly kind: 'func'; readonly id: number; readonly name: string; readonly type: number; readonly linkage: number }
  | { readonly kind: 'func_proto'; readonly id: number; readonly name: string; readonly returnType: number; readonly params: readonly BtfParam[] }
  | { readonly kind: 'var'; readonly id: number; readonly name: string; readonly type: number; readonly linkage: number }
  | { readonly kind: 'datasec'; readonly id: number; readonly name: string; readonly size: number; readonly vars: readonly BtfVarSecinfo[] }
  | { readonly kind: 'float'; readonly id: number; readonly name: string; readonly size: number }
  | { readonly kind: 'decl_tag'; readonly id: number; readonly name: string; readonly type: number; readonly componentIdx: number };

export type BtfKindName = BtfType['kind'];

/** Kinds that only qualify or rename another type. */
const MODS: ReadonlySet<BtfKindName> = new Set(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);

export class Btf {
  /** `types[id]`; id 0 is void. */
  readonly types: readonly BtfType[];
  private readonly byName = new Map<string, number[]>();

  /** The string section; `str()` reads it. */
  readonly strings: Bytes;

  constructor(types: readonly BtfType[], strings: Bytes) {
    this.types = types;
    this.strings = strings;
    for (const t of types) {
      if (!t.name) continue;
      const ids = this.byName.get(t.name) ?? [];
      ids.push(t.id);
      this.byName.set(t.name, ids);
    }
  }

  /** The string at `off` of the string section. */
  str(off: number, what: string): string {
    return this.strings.cstr(off, `BTF strings: ${what}`);
  }

  /** The same strings with some types replaced (libbpf's in-place DATASEC fix-ups). */
  withTypes(types: readonly BtfType[]): Btf {
    return new Btf(types, this.strings);
  }

  type(id: number, what = 'type'): BtfType {
    const t = this.types[id];
    if (t === undefined || !Number.isInteger(id)) throw new ElfError('elf.btf', `BTF: ${what}: type id ${id} does not exist (${this.types.length - 1} types)`);
    return t;
  }

  /** The first type of that name (and kind, if given). */
  find(name: string, kind?: BtfKindName): BtfType | undefined {
    for (const id of this.byName.get(name) ?? []) {
      const t = this.types[id];
      if (kind === undefined || t.kind === kind) return t;
    }
    return undefined;
  }

  /** Follows typedefs, const/volatile/restrict and type tags. */
  skipMods(id: number): BtfType {
    let t = this.type(id);
    for (let guard = 0; MODS.has(t.kind); guard++) {
      if (guard > 32) throw new ElfError('elf.btf', `BTF: type ${id}: modifier chain too long (a loop?)`);
      t = this.type((t as { type: number }).type);
    }
    return t;
  }

  /** Size in bytes of a value of type `id`, as libbpf's btf__resolve_size computes it. */
  resolveSize(id: number): number {
    let t = this.type(id);
    let nelems = 1;
    for (let depth = 0; depth <= 32; depth++) {
      switch (t.kind) {
        case 'int': case 'enum': case 'enum64': case 'struct': case 'union': case 'datasec': case 'float':
          return checkedSize(nelems * t.size, id);
        case 'ptr':
          return checkedSize(nelems * 8, id);
        case 'array':
          nelems *= t.nelems;
          t = this.type(t.type);
          break;
        case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'var': case 'decl_tag':
          t = this.type(t.type);
          break;
        default:
          throw new ElfError('elf.btf', `BTF: type ${id}: a ${t.kind} has no size`);
      }
    }
    throw new ElfError('elf.btf', `BTF: type ${id}: type chain too long (a loop?)`);
  }
}

function checkedSize(n: number, id: number): number {
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new ElfError('elf.btf', `BTF: type ${id}: size ${n} is too large`);
  return n;
}

const KIND_NAMES: Record<number, BtfKindName> = {
  1: 'int', 2: 'ptr', 3: 'array', 4: 'struct', 5: 'union', 6: 'enum', 7: 'fwd', 8: 'typedef',
  9: 'volatile', 10: 'const', 11: 'restrict', 12: 'func', 13: 'func_proto', 14: 'var',
  15: 'datasec', 16: 'float', 17: 'decl_tag', 18: 'type_tag', 19: 'enum64',
};

interface Header { readonly hdrLen: number; readonly typeOff: number; readonly typeLen: number; readonly strOff: number; readonly strLen: number }

function readHeader(d: Bytes, what: string): { hdrLen: number; at: (i: number, w: string) => number } {
  const magic = d.u16(0, `${what}: magic`);
  if (magic !== BTF_MAGIC) throw new ElfError('elf.btf', `${what}: magic ${hex(magic)}, expected ${hex(BTF_MAGIC)}`, {}, d.base);
  const version = d.u8(2, `${what}: version`);
  if (version !== 1) throw new ElfError('elf.btf', `${what}: version ${version}, expected 1`, {}, d.base + 2);
  const hdrLen = d.u32(4, `${what}: hdr_len`);
  return { hdrLen, at: (i, w) => d.u32(8 + 4 * i, `${what}: ${w}`) };
}

/** Parses the `.BTF` section. */
export function parseBtf(d: Bytes): Btf {
  const w = 'section .BTF';
  const { hdrLen, at } = readHeader(d, w);
  if (hdrLen < 24) throw new ElfError('elf.btf', `${w}: hdr_len ${hdrLen} < 24`, {}, d.base + 4);
  const h: Header = { hdrLen, typeOff: at(0, 'type_off'), typeLen: at(1, 'type_len'), strOff: at(2, 'str_off'), strLen: at(3, 'str_len') };
  const typesData = d.slice(hdrLen + h.typeOff, h.typeLen, `${w}: type section`);
  const strings = d.slice(hdrLen + h.strOff, h.strLen, `${w}: string section`);
  if (h.strLen === 0 || strings.u8(0, `${w}: string section`) !== 0) {
    throw new ElfError('elf.btf', `${w}: the string section must start with an empty string`, {}, strings.base);
  }
  const str = (off: number, what: string) => strings.cstr(off, `${w}: ${what}`);
  const types: BtfType[] = [{ kind: 'void', id: 0, name: '' }];
  let off = 0;
  while (off < typesData.length) {
    const id = types.length;
    const [t, len] = readType(typesData, off, id, str);
    types.push(Object.freeze(t));
    off += len;
  }
  const btf = new Btf(types, strings);
  checkRefs(btf);
  return btf;
}

function readType(d: Bytes, off: number, id: number, str: (off: number, what: string) => string): [BtfType, number] {
  const w = `section .BTF: type ${id}`;
  const name = str(d.u32(off, `${w}: name_off`), `type ${id} name`);
  const info = d.u32(off + 4, `${w}: info`);
  const sizeOrType = d.u32(off + 8, `${w}: size/type`);
  const vlen = info & 0xffff;
  const kindNum = (info >>> 24) & 0x1f;
  const kflag = info >>> 31 === 1;
  const kind = KIND_NAMES[kindNum];
  const body = off + 12;
  if (kind === undefined) {
    throw new ElfError('elf.btf', `${w}: unknown BTF kind ${kindNum}`, {}, d.base + off + 4);
  }
  switch (kind) {
    case 'int': {
      const enc = d.u32(body, `${w}: int encoding`);
      const encoding = (enc >>> 24) & 0xf;
      return [{ kind, id, name, size: sizeOrType, signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0, bitOffset: (enc >>> 16) & 0xff, bits: enc & 0xff }, 16];
    }
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      return [{ kind, id, name, type: sizeOrType }, 12];
    case 'fwd':
      return [{ kind, id, name, union: kflag }, 12];
    case 'func':
      return [{ kind, id, name, type: sizeOrType, linkage: vlen }, 12];
    case 'float':
      return [{ kind, id, name, size: sizeOrType }, 12];
    case 'array':
      return [{ kind, id, name, type: d.u32(body, `${w}: array type`), indexType: d.u32(body + 4, `${w}: array index_type`), nelems: d.u32(body + 8, `${w}: array nelems`) }, 24];
    case 'var':
      return [{ kind, id, name, type: sizeOrType, linkage: d.u32(body, `${w}: var linkage`) }, 16];
    case 'decl_tag':
      return [{ kind, id, name, type: sizeOrType, componentIdx: d.i32(body, `${w}: decl_tag component_idx`) }, 16];
    case 'struct': case 'union': {
      const members: BtfMember[] = [];
      for (let i = 0; i < vlen; i++) {
        const m = body + 12 * i;
        const mw = `${w}: member ${i}`;
        const moff = d.u32(m + 8, `${mw}: offset`);
        members.push(Object.freeze({
          name: str(d.u32(m, `${mw}: name_off`), `type ${id} member ${i} name`),
          type: d.u32(m + 4, `${mw}: type`),
          // With kind_flag the offset holds bitfield size (high 8 bits) and bit offset.
          bitOffset: kflag ? moff & 0xffffff : moff,
          bitfieldSize: kflag ? moff >>> 24 : 0,
        }));
      }
      return [{ kind, id, name, size: sizeOrType, members }, 12 + 12 * vlen];
    }
    case 'enum': {
      const values: BtfEnumValue[] = [];
      for (let i = 0; i < vlen; i++) {
        const e = body + 8 * i;
        const raw = d.i32(e + 4, `${w}: enum value ${i}`);
        values.push({ name: str(d.u32(e, `${w}: enum value ${i} name_off`), `type ${id} enum value ${i} name`), value: kflag ? BigInt(raw) : BigInt(raw >>> 0) });
      }
      return [{ kind, id, name, size: sizeOrType, signed: kflag, values }, 12 + 8 * vlen];
    }
    case 'enum64': {
      const values: BtfEnumValue[] = [];
      for (let i = 0; i < vlen; i++) {
        const e = body + 12 * i;
        const lo = BigInt(d.u32(e + 4, `${w}: enum64 value ${i} lo`));
        const hi = BigInt(d.u32(e + 8, `${w}: enum64 value ${i} hi`));
        const u = (hi << 32n) | lo;
        values.push({ name: str(d.u32(e, `${w}: enum64 value ${i} name_off`), `type ${id} enum64 value ${i} name`), value: kflag ? BigInt.asIntN(64, u) : u });
      }
      return [{ kind, id, name, size: sizeOrType, signed: kflag, values }, 12 + 12 * vlen];
    }
    case 'func_proto': {
      const params: BtfParam[] = [];
      for (let i = 0; i < vlen; i++) {
        const p = body + 8 * i;
        params.push({ name: str(d.u32(p, `${w}: param ${i} name_off`), `type ${id} param ${i} name`), type: d.u32(p + 4, `${w}: param ${i} type`) });
      }
      return [{ kind, id, name, returnType: sizeOrType, params }, 12 + 8 * vlen];
    }
    case 'datasec': {
      const vars: BtfVarSecinfo[] = [];
      for (let i = 0; i < vlen; i++) {
        const v = body + 12 * i;
        vars.push({ type: d.u32(v, `${w}: var ${i} type`), offset: d.u32(v + 4, `${w}: var ${i} offset`), size: d.u32(v + 8, `${w}: var ${i} size`) });
      }
      return [{ kind, id, name, size: sizeOrType, vars }, 12 + 12 * vlen];
    }
    case 'void':
      break;
  }
  throw new ElfError('elf.btf', `${w}: kind ${kind} cannot appear in the type section`);
}

/** Every type id a type refers to must exist (void, 0, only where C allows it). */
function checkRefs(btf: Btf): void {
  const n = btf.types.length;
  const ref = (t: BtfType, id: number, what: string) => {
    if (!Number.isInteger(id) || id < 0 || id >= n) {
      throw new ElfError('elf.btf', `section .BTF: type ${t.id} (${t.kind} ${t.name || '(anon)'}): ${what} refers to type ${id}, which does not exist (${n - 1} types)`);
    }
  };
  for (const t of btf.types) {
    switch (t.kind) {
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'func': case 'var': case 'decl_tag':
        ref(t, t.type, 'its type'); break;
      case 'array': ref(t, t.type, 'the element type'); ref(t, t.indexType, 'the index type'); break;
      case 'struct': case 'union': t.members.forEach((m, i) => ref(t, m.type, `member ${i}`)); break;
      case 'func_proto': ref(t, t.returnType, 'the return type'); t.params.forEach((p, i) => ref(t, p.type, `parameter ${i}`)); break;
      case 'datasec': t.vars.forEach((v, i) => ref(t, v.type, `variable ${i}`)); break;
      default: break;
    }
  }
}

// ---------------------------------------------------------------------------------- BTF.ext

export interface ExtFuncInfo { readonly insnOff: number; readonly typeId: number }
export interface ExtLineInfo { readonly insnOff: number; readonly fileNameOff: number; readonly lineOff: number; readonly lineCol: number }

/** func_info and line_info records per ELF section name; `insnOff` in bytes, as clang writes them. */
export interface BtfExt {
  readonly funcInfo: ReadonlyMap<string, readonly ExtFuncInfo[]>;
  readonly lineInfo: ReadonlyMap<string, readonly ExtLineInfo[]>;
}

export function parseBtfExt(d: Bytes, strings: (off: number, what: string) => string): BtfExt {
  const w = 'section .BTF.ext';
  const { hdrLen, at } = readHeader(d, w);
  if (hdrLen < 24) throw new ElfError('elf.btf', `${w}: hdr_len ${hdrLen} < 24`, {}, d.base + 4);
  const funcInfo = readInfo(d, hdrLen + at(0, 'func_info_off'), at(1, 'func_info_len'), 8, `${w}: func_info`, strings,
    (r, o, rw) => ({ insnOff: r.u32(o, `${rw}: insn_off`), typeId: r.u32(o + 4, `${rw}: type_id`) }));
  const lineInfo = readInfo(d, hdrLen + at(2, 'line_info_off'), at(3, 'line_info_len'), 16, `${w}: line_info`, strings,
    (r, o, rw) => ({ insnOff: r.u32(o, `${rw}: insn_off`), fileNameOff: r.u32(o + 4, `${rw}: file_name_off`), lineOff: r.u32(o + 8, `${rw}: line_off`), lineCol: r.u32(o + 12, `${rw}: line_col`) }));
  // core_relo (hdr_len >= 32) is read by nothing here: these objects use no CO-RE.
  return { funcInfo, lineInfo };
}

function readInfo<T>(
  d: Bytes, off: number, len: number, minRec: number, w: string,
  strings: (off: number, what: string) => string,
  rec: (r: Bytes, o: number, what: string) => T,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  if (len === 0) return out;
  const r = d.slice(off, len, w);
  const recSize = r.u32(0, `${w}: record size`);
  if (recSize < minRec || recSize % 4 !== 0) throw new ElfError('elf.btf', `${w}: record size ${recSize}, expected at least ${minRec} (a multiple of 4)`, {}, r.base);
  let at = 4;
  while (at < r.length) {
    const sec = strings(r.u32(at, `${w}: sec_name_off`), `${w}: section name`);
    const num = r.u32(at + 4, `${w}: section ${sec}: num_info`);
    at += 8;
    r.need(at, num * recSize, `${w}: section ${sec}: ${num} records`);
    const list = out.get(sec) ?? [];
    for (let i = 0; i < num; i++, at += recSize) list.push(rec(r, at, `${w}: section ${sec}: record ${i}`));
    out.set(sec, list);
  }
  return out;
}
