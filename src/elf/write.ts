// Writes a BPF ELF relocatable object the way clang lays one out, so that both loadObject and
// libbpf accept it: programs in one program section (`tc` by default), subprograms in .text,
// BTF-defined maps in .maps, integer globals in .bss/.data, BTF (INT, PTR, ARRAY, STRUCT, VAR,
// DATASEC, FUNC, FUNC_PROTO), .BTF.ext func_info and line_info (a line per function), REL
// sections and a symbol table.
//
// Instructions are written as given; a relocation names the instruction (an index into
// `insns`, not a slot) and what it refers to. Relocated fields are written as clang leaves
// them: ld_imm64 imm 0 (libbpf adds the symbol's offset), `call local` imm -1 (target =
// symbol / 8 + imm + 1).

import { CallSrc, Class, JmpOp, LD_IMM64 } from '../isa/opcode.js';
import { encode, width, type Insn } from '../isa/insn.js';
import { BTF_MAGIC, BtfKind } from './btf.js';
import { ElfError } from './errors.js';
import { MapType } from './types.js';

export type WriteReloc =
  | { readonly insn: number; readonly map: string }
  | { readonly insn: number; readonly global: string }
  | { readonly insn: number; readonly call: string };

export interface WriteFunc {
  readonly name: string;
  readonly insns: readonly Insn[];
  readonly relocs?: readonly WriteReloc[];
  /** Arguments in the BTF prototype (subprograms; all `unsigned long long`). Default 1. */
  readonly params?: number;
}

export interface WriteMap {
  readonly name: string;
  /** enum bpf_map_type (MapType.PROG_ARRAY, ...). */
  readonly type: number;
  readonly maxEntries: number;
  /** Default 4 and 4 (what a prog array needs). */
  readonly keySize?: number;
  readonly valueSize?: number;
}

export interface WriteGlobal {
  readonly name: string;
  readonly section: '.bss' | '.data';
  readonly size: 1 | 2 | 4 | 8;
  /** `.data` only: the initial value (little-endian); default 0. */
  readonly init?: bigint;
}

export interface WriteObjectSpec {
  /** Entry-point programs, all in `section`. */
  readonly programs: readonly WriteFunc[];
  /** The program section's name (default `tc`). */
  readonly section?: string;
  /** Static functions in .text. */
  readonly subprograms?: readonly WriteFunc[];
  readonly maps?: readonly WriteMap[];
  readonly globals?: readonly WriteGlobal[];
  /** Default `GPL`. */
  readonly license?: string;
}

const EM_BPF = 247;
const SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8, SHT_REL = 9;
const SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4, SHF_INFO_LINK = 0x40;
const STB_LOCAL = 0, STB_GLOBAL = 1;
const STT_OBJECT = 1, STT_FUNC = 2;
const R_BPF_64_64 = 1, R_BPF_64_32 = 10;
const CALL = Class.JMP | JmpOp.CALL;

/** A string table: offsets of NUL-terminated strings, the empty string at 0. */
class Strings {
  private readonly parts: string[] = [''];
  private readonly at = new Map<string, number>([['', 0]]);
  private size = 1;
  add(s: string): number {
    const known = this.at.get(s);
    if (known !== undefined) return known;
    const off = this.size;
    this.at.set(s, off);
    this.parts.push(s);
    this.size += Buffer.byteLength(s) + 1;
    return off;
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.from(this.parts.join('\0') + '\0'));
  }
}

/** Little-endian byte writer. */
class Out {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): this { this.room(1); this.view.setUint8(this.length, v); this.length += 1; return this; }
  u16(v: number): this { this.room(2); this.view.setUint16(this.length, v, true); this.length += 2; return this; }
  u32(v: number): this { this.room(4); this.view.setUint32(this.length, v >>> 0, true); this.length += 4; return this; }
  u64(v: number | bigint): this { this.room(8); this.view.setBigUint64(this.length, BigInt.asUintN(64, BigInt(v)), true); this.length += 8; return this; }
  bytes(b: Uint8Array): this { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; return this; }
  align(n: number): this { while (this.length % n) this.u8(0); return this; }
  done(): Uint8Array { return this.buf.slice(0, this.length); }
}

/** BTF types appended one by one; ids from 1. */
class BtfBuilder {
  readonly strs = new Strings();
  private readonly types = new Out();
  private next = 1;
  private readonly ints = new Map<string, number>();
  private readonly arrays = new Map<number, number>();

  private head(name: string, kind: number, vlen: number, sizeOrType: number): number {
    this.types.u32(this.strs.add(name)).u32(((kind & 0x1f) << 24) | (vlen & 0xffff)).u32(sizeOrType);
    return this.next++;
  }
  int(name: string, size: number, signed: boolean): number {
    const known = this.ints.get(name);
    if (known !== undefined) return known;
    const id = this.head(name, BtfKind.INT, 0, size);
    this.types.u32(((signed ? 1 : 0) << 24) | (size * 8));
    this.ints.set(name, id);
    return id;
  }
  ptr(to: number): number { return this.head('', BtfKind.PTR, 0, to); }
  /** `int [n]`, shared by every `__uint(x, n)` of the same n. */
  intArray(n: number): number {
    const known = this.arrays.get(n);
    if (known !== undefined) return known;
    const int = this.int('int', 4, true);
    const id = this.head('', BtfKind.ARRAY, 0, 0);
    this.types.u32(int).u32(int).u32(n);
    this.arrays.set(n, id);
    return id;
  }
  struct(name: string, size: number, members: readonly { name: string; type: number; bitOffset: number }[]): number {
    const id = this.head(name, BtfKind.STRUCT, members.length, size);
    for (const m of members) this.types.u32(this.strs.add(m.name)).u32(m.type).u32(m.bitOffset);
    return id;
  }
  funcProto(ret: number, params: readonly { name: string; type: number }[]): number {
    const id = this.head('', BtfKind.FUNC_PROTO, params.length, ret);
    for (const p of params) this.types.u32(this.strs.add(p.name)).u32(p.type);
    return id;
  }
  func(name: string, proto: number, linkage: number): number { return this.head(name, BtfKind.FUNC, linkage, proto); }
  variable(name: string, type: number, linkage: number): number {
    const id = this.head(name, BtfKind.VAR, 0, type);
    this.types.u32(linkage);
    return id;
  }
  datasec(name: string, size: number, vars: readonly { type: number; offset: number; size: number }[]): number {
    const id = this.head(name, BtfKind.DATASEC, vars.length, size);
    for (const v of vars) this.types.u32(v.type).u32(v.offset).u32(v.size);
    return id;
  }
  bytes(): Uint8Array {
    const types = this.types.done();
    const strs = this.strs.bytes();
    return new Out()
      .u16(BTF_MAGIC).u8(1).u8(0).u32(24)
      .u32(0).u32(types.length).u32(types.length).u32(strs.length)
      .bytes(types).bytes(strs).done();
  }
}

interface Sym { name: number; info: number; shndx: number; value: number; size: number }
interface Sec { name: string; type: number; flags: number; data: Uint8Array; size?: number; link?: number; info?: number; align: number; entsize?: number }

const UNSIGNED: Record<number, string> = { 1: 'unsigned char', 2: 'unsigned short', 4: 'unsigned int', 8: 'unsigned long long' };

function bad(message: string): never {
  throw new ElfError('elf.write', message);
}

/** The object file's bytes. */
export function writeObject(spec: WriteObjectSpec): Uint8Array {
  const progSection = spec.section ?? 'tc';
  const subs = spec.subprograms ?? [];
  const maps = spec.maps ?? [];
  const globals = spec.globals ?? [];
  const names = new Set<string>();
  for (const n of [...spec.programs, ...subs, ...maps, ...globals].map((x) => x.name)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) bad(`'${n}' is not a C identifier`);
    if (names.has(n)) bad(`'${n}' is defined twice`);
    names.add(n);
  }
  if (spec.programs.length === 0) bad('an object needs at least one program');

  // Sections, in clang's order.
  const secs: Sec[] = [{ name: '', type: 0, flags: 0, data: new Uint8Array(0), align: 0 }];
  const addSec = (s: Sec): number => secs.push(s) - 1;
  const strtabIdx = addSec({ name: '.strtab', type: SHT_STRTAB, flags: 0, data: new Uint8Array(0), align: 1 });

  const layout = (funcs: readonly WriteFunc[]) => {
    let slot = 0;
    return funcs.map((f) => {
      const start = slot;
      for (const i of f.insns) slot += width(i);
      return { f, start, slots: slot - start };
    });
  };
  const textFuncs = layout(subs);
  const progFuncs = layout(spec.programs);
  const code = (fs: readonly WriteFunc[]) => encode(fs.flatMap((f) => f.insns));
  const textIdx = subs.length ? addSec({ name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: code(subs), align: 8 }) : -1;
  const progIdx = addSec({ name: progSection, type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: code(spec.programs), align: 8 });
  addSec({ name: 'license', type: SHT_PROGBITS, flags: SHF_WRITE | SHF_ALLOC, data: new Uint8Array(Buffer.from((spec.license ?? 'GPL') + '\0')), align: 1 });
  // Each map definition is four pointers (type, max_entries, key_size, value_size).
  const MAP_DEF = 32;
  const mapsIdx = maps.length ? addSec({ name: '.maps', type: SHT_PROGBITS, flags: SHF_WRITE | SHF_ALLOC, data: new Uint8Array(maps.length * MAP_DEF), align: 8 }) : -1;

  // Globals: naturally aligned, in the order given.
  const placed = new Map<string, { section: string; offset: number; size: number }>();
  const sectionBytes = (section: '.bss' | '.data'): Uint8Array => {
    let off = 0;
    const vals: [number, WriteGlobal][] = [];
    for (const g of globals.filter((x) => x.section === section)) {
      off = Math.ceil(off / g.size) * g.size;
      placed.set(g.name, { section, offset: off, size: g.size });
      vals.push([off, g]);
      off += g.size;
    }
    const bytes = new Uint8Array(off);
    const v = new DataView(bytes.buffer);
    for (const [o, g] of vals) {
      const x = BigInt.asUintN(g.size * 8, g.init ?? 0n);
      if (g.section === '.bss' && x !== 0n) bad(`global ${g.name}: a .bss variable starts at 0`);
      for (let b = 0; b < g.size; b++) v.setUint8(o + b, Number((x >> BigInt(8 * b)) & 0xffn));
    }
    return bytes;
  };
  const bss = sectionBytes('.bss');
  const data = sectionBytes('.data');
  const bssIdx = bss.length ? addSec({ name: '.bss', type: SHT_NOBITS, flags: SHF_WRITE | SHF_ALLOC, data: new Uint8Array(0), size: bss.length, align: 8 }) : -1;
  const dataIdx = data.length ? addSec({ name: '.data', type: SHT_PROGBITS, flags: SHF_WRITE | SHF_ALLOC, data, align: 8 }) : -1;
  const dataSecIdx = (s: string) => (s === '.bss' ? bssIdx : dataIdx);

  // Symbols: the static subprograms first (locals), then programs, maps and globals.
  const symStr = new Strings();
  const syms: Sym[] = [{ name: 0, info: 0, shndx: 0, value: 0, size: 0 }];
  const symIndex = new Map<string, number>();
  const addSym = (name: string, bind: number, type: number, shndx: number, value: number, size: number): void => {
    symIndex.set(name, syms.length);
    syms.push({ name: symStr.add(name), info: (bind << 4) | type, shndx, value, size });
  };
  for (const t of textFuncs) addSym(t.f.name, STB_LOCAL, STT_FUNC, textIdx, t.start * 8, t.slots * 8);
  const firstGlobal = syms.length;
  for (const p of progFuncs) addSym(p.f.name, STB_GLOBAL, STT_FUNC, progIdx, p.start * 8, p.slots * 8);
  maps.forEach((m, i) => addSym(m.name, STB_GLOBAL, STT_OBJECT, mapsIdx, i * MAP_DEF, MAP_DEF));
  for (const g of globals) {
    const p = placed.get(g.name)!;
    addSym(g.name, STB_GLOBAL, STT_OBJECT, dataSecIdx(p.section), p.offset, p.size);
  }

  // Relocations, checked against what they patch.
  const rels = (funcs: ReturnType<typeof layout>): Uint8Array => {
    const out = new Out();
    for (const { f, start } of funcs) {
      const slotOf: number[] = [];
      let s = start;
      for (const i of f.insns) { slotOf.push(s); s += width(i); }
      for (const r of f.relocs ?? []) {
        const ins = f.insns[r.insn];
        const w = `${f.name}: relocation at instruction ${r.insn}`;
        if (!ins) bad(`${w}: no such instruction`);
        let target: string;
        let type: number;
        if ('call' in r) {
          if (ins.code !== CALL || ins.src !== CallSrc.LOCAL) bad(`${w}: not a call local`);
          if (!subs.some((x) => x.name === r.call)) bad(`${w}: no subprogram ${r.call}`);
          [target, type] = [r.call, R_BPF_64_32];
        } else {
          if (ins.code !== LD_IMM64) bad(`${w}: not an ld_imm64`);
          const name = 'map' in r ? r.map : r.global;
          if ('map' in r ? !maps.some((m) => m.name === name) : !placed.has(name)) bad(`${w}: no ${'map' in r ? 'map' : 'global'} ${name}`);
          [target, type] = [name, R_BPF_64_64];
        }
        out.u64(slotOf[r.insn] * 8).u64((BigInt(symIndex.get(target)!) << 32n) | BigInt(type));
      }
    }
    return out.done();
  };
  const relText = rels(textFuncs);
  const relProg = rels(progFuncs);

  // BTF.
  const btf = new BtfBuilder();
  const int = btf.int('int', 4, true);
  const u64 = btf.int('unsigned long long', 8, false);
  const u32 = btf.int('unsigned int', 4, false);
  const skb = btf.struct('__sk_buff', 4, [{ name: 'len', type: u32, bitOffset: 0 }]);
  const progProto = btf.funcProto(int, [{ name: 'skb', type: btf.ptr(skb) }]);
  const funcIds = new Map<string, number>();
  for (const p of spec.programs) funcIds.set(p.name, btf.func(p.name, progProto, 1));
  for (const s of subs) {
    const params = Array.from({ length: s.params ?? 1 }, (_, i) => ({ name: `a${i}`, type: u64 }));
    funcIds.set(s.name, btf.func(s.name, btf.funcProto(int, params), 0));
  }
  if (maps.length) {
    const mapVars = maps.map((m, i) => {
      const field = (n: number) => btf.ptr(btf.intArray(n));
      const def = btf.struct('', MAP_DEF, [
        { name: 'type', type: field(m.type), bitOffset: 0 },
        { name: 'max_entries', type: field(m.maxEntries), bitOffset: 64 },
        { name: 'key_size', type: field(m.keySize ?? 4), bitOffset: 128 },
        { name: 'value_size', type: field(m.valueSize ?? 4), bitOffset: 192 },
      ]);
      return { type: btf.variable(m.name, def, 1), offset: i * MAP_DEF, size: MAP_DEF };
    });
    btf.datasec('.maps', maps.length * MAP_DEF, mapVars);
  }
  for (const [section, bytes] of [['.bss', bss], ['.data', data]] as const) {
    if (!bytes.length) continue;
    const vars = globals.filter((g) => g.section === section).map((g) => {
      const p = placed.get(g.name)!;
      return { type: btf.variable(g.name, btf.int(UNSIGNED[g.size], g.size, false), 1), offset: p.offset, size: p.size };
    });
    btf.datasec(section, bytes.length, vars);
  }

  // .BTF.ext: func_info per section (insn_off in bytes), line_info, no CO-RE.
  const info = new Out().u32(8);
  for (const [secName, funcs] of [['.text', textFuncs], [progSection, progFuncs]] as const) {
    if (!funcs.length) continue;
    info.u32(btf.strs.add(secName)).u32(funcs.length);
    for (const { f, start } of funcs) info.u32(start * 8).u32(funcIds.get(f.name)!);
  }
  const funcInfo = info.done();
  // line_info: one line per function, at its first instruction (libbpf skips all line info
  // of a program whose main function has none, and says so).
  const lines = new Out().u32(16);
  const file = btf.strs.add(`${progSection}.c`);
  let line = 1;
  for (const [secName, funcs] of [['.text', textFuncs], [progSection, progFuncs]] as const) {
    if (!funcs.length) continue;
    lines.u32(btf.strs.add(secName)).u32(funcs.length);
    for (const { f, start } of funcs) lines.u32(start * 8).u32(file).u32(btf.strs.add(`int ${f.name}()`)).u32((line++ << 10) | 1);
  }
  const lineInfo = lines.done();
  const btfExt = new Out().u16(BTF_MAGIC).u8(1).u8(0).u32(32)
    .u32(0).u32(funcInfo.length).u32(funcInfo.length).u32(lineInfo.length).u32(funcInfo.length + lineInfo.length).u32(0)
    .bytes(funcInfo).bytes(lineInfo).done();
  const btfBytes = btf.bytes();

  const symtabPos = secs.length + (relText.length ? 1 : 0) + (relProg.length ? 1 : 0) + 2;
  if (relText.length) addSec({ name: '.rel.text', type: SHT_REL, flags: SHF_INFO_LINK, data: relText, link: symtabPos, info: textIdx, align: 8, entsize: 16 });
  if (relProg.length) addSec({ name: `.rel${progSection}`, type: SHT_REL, flags: SHF_INFO_LINK, data: relProg, link: symtabPos, info: progIdx, align: 8, entsize: 16 });
  addSec({ name: '.BTF', type: SHT_PROGBITS, flags: 0, data: btfBytes, align: 4 });
  addSec({ name: '.BTF.ext', type: SHT_PROGBITS, flags: 0, data: btfExt, align: 4 });
  const symOut = new Out();
  for (const s of syms) symOut.u32(s.name).u8(s.info).u8(0).u16(s.shndx).u64(s.value).u64(s.size);
  const symtabIdx = addSec({ name: '.symtab', type: SHT_SYMTAB, flags: 0, data: symOut.done(), link: strtabIdx, info: firstGlobal, align: 8, entsize: 24 });
  if (symtabIdx !== symtabPos) bad('internal: symbol table index');

  // One string table for section and symbol names, as clang writes it.
  const shstr = symStr;
  const secNameOff = secs.map((s) => shstr.add(s.name));
  secs[strtabIdx].data = shstr.bytes();

  const out = new Out();
  out.bytes(new Uint8Array(64));
  const offsets = secs.map((s, i) => {
    if (i === 0) return 0;
    out.align(Math.max(1, s.align));
    const at = out.length;
    if (s.type !== SHT_NOBITS) out.bytes(s.data);
    return at;
  });
  out.align(8);
  const shoff = out.length;
  secs.forEach((s, i) => {
    const size = s.type === SHT_NOBITS ? s.size ?? 0 : s.data.length;
    out.u32(secNameOff[i]).u32(s.type).u64(s.flags).u64(0).u64(offsets[i]).u64(size)
      .u32(s.link ?? 0).u32(s.info ?? 0).u64(s.align).u64(s.entsize ?? 0);
  });
  const bytes = out.done();
  const h = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELFCLASS64, little-endian, version 1, SYSV
  h.setUint16(16, 1, true); // ET_REL
  h.setUint16(18, EM_BPF, true);
  h.setUint32(20, 1, true);
  h.setBigUint64(40, BigInt(shoff), true);
  h.setUint16(52, 64, true); // e_ehsize
  h.setUint16(58, 64, true); // e_shentsize
  h.setUint16(60, secs.length, true);
  h.setUint16(62, strtabIdx, true);
  return bytes;
}


