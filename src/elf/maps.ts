// Maps as libbpf 1.1 makes them from an object: BTF-defined maps in `.maps` (in DATASEC
// order), then one single-element array per non-empty global-data section (`.data*`,
// `.rodata*`, `.bss*`, in section order), named by libbpf's internal_map_name().

import type { Btf, BtfMember, BtfType, BtfVarSecinfo } from './btf.js';
import { VarLinkage } from './btf.js';
import { type ElfFile, type Section, SHF_EXECINSTR, SHT, STB, STT, STV, readRelocations } from './elf64.js';
import { ElfError } from './errors.js';
import { MapType, type GlobalVar, type MapSpec } from './types.js';

/** BPF_OBJ_NAME_LEN: kernel object names hold 15 characters and a NUL. */
const OBJ_NAME_LEN = 16;
const BPF_F_RDONLY_PROG = 0x80;
const BPF_F_MMAPABLE = 0x400;
const R_BPF_64_ABS64 = 2;

/** A map with where it came from, for the relocation pass. */
export interface LoadedMap {
  readonly spec: MapSpec;
  /** ELF section the map lives in (`.maps` or the global-data section). */
  readonly sectionIndex: number;
  /** Offset of its definition within `.maps` (0 for global data). */
  readonly sectionOffset: number;
  /** Bytes of its definition (or of the section). */
  readonly size: number;
  /** Prog arrays with `values`: byte offset of that member in the definition. */
  readonly valuesOffset?: number;
}

export type GlobalKind = 'data' | 'rodata' | 'bss';

/** libbpf's classification of a section as global data, or undefined. */
export function globalKind(s: Section): GlobalKind | undefined {
  const is = (base: string) => s.name === base || s.name.startsWith(base + '.');
  if (s.type === SHT.PROGBITS && (s.flags & SHF_EXECINSTR) === 0) {
    if (is('.data')) return 'data';
    if (is('.rodata')) return 'rodata';
  }
  if (s.type === SHT.NOBITS && is('.bss')) return 'bss';
  return undefined;
}

/**
 * libbpf's name for a global-data map: as much of the object name as fits before the
 * section name (which gets at least 7 characters), e.g. `tail_fro.bss`; a section name with a
 * second dot (`.rodata.str1.1`) gets no prefix. Characters the kernel refuses become `_`.
 */
export function internalMapName(objName: string, section: string): string {
  const sfx = Math.min(Math.max(7, section.length), OBJ_NAME_LEN - 1);
  const pfx = section.indexOf('.', 1) >= 0 ? 0 : Math.min(OBJ_NAME_LEN - sfx - 1, objName.length);
  const name = (objName.slice(0, pfx) + section.slice(0, sfx)).slice(0, OBJ_NAME_LEN - 1);
  return name.replace(/[^A-Za-z0-9_.]/g, '_');
}

/** libbpf's object name: the file's base name up to its first dot. */
export function objectName(path: string | undefined): string {
  if (path === undefined) return '';
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return (dot >= 0 ? base.slice(0, dot) : base).slice(0, 63);
}

/**
 * libbpf's btf_fixup_datasec: clang leaves DATASEC sizes and variable offsets zero; the
 * loader takes them from the ELF section and symbols, marks hidden globals static, and
 * sorts the variables by offset.
 */
export function fixupDatasecs(btf: Btf, elf: ElfFile): Btf {
  const types = btf.types.map((t) => (t.kind === 'datasec' ? fixupDatasec(btf, elf, t) : t));
  const fixed = btf.withTypes(types);
  // A hidden or internal global counts as static: libbpf rewrites its VAR linkage.
  const hidden = new Set<number>();
  for (const t of types) if (t.kind === 'datasec') for (const v of t.vars) if (isHiddenVar(btf, elf, v.type)) hidden.add(v.type);
  if (hidden.size === 0) return fixed;
  return fixed.withTypes(types.map((t) => (t.kind === 'var' && hidden.has(t.id) ? Object.freeze({ ...t, linkage: VarLinkage.STATIC }) : t)));
}

function varSymbol(elf: ElfFile, name: string) {
  return elf.symbols.find((s) => s.type === STT.OBJECT && (s.bind === STB.GLOBAL || s.bind === STB.WEAK) && s.name === name);
}

function isHiddenVar(btf: Btf, elf: ElfFile, id: number): boolean {
  const v = btf.type(id);
  if (v.kind !== 'var' || v.linkage === VarLinkage.STATIC || v.linkage === VarLinkage.EXTERN) return false;
  const sym = varSymbol(elf, v.name);
  return sym !== undefined && (sym.visibility === STV.HIDDEN || sym.visibility === STV.INTERNAL);
}

function fixupDatasec(btf: Btf, elf: ElfFile, t: Extract<BtfType, { kind: 'datasec' }>): BtfType {
  if (t.name === '.kconfig' || t.name === '.ksyms') {
    throw new ElfError('elf.extern', `BTF: DATASEC ${t.name}: extern variables are not supported`);
  }
  const w = `BTF: DATASEC ${t.name}`;
  let size = t.size;
  const fixOffsets = size === 0;
  if (fixOffsets) {
    const sec = elf.section(t.name);
    if (!sec || sec.size === 0) throw new ElfError('elf.btf', `${w}: no ELF section of that name gives its size`);
    size = sec.size;
  }
  const vars: BtfVarSecinfo[] = t.vars.map((vsi, i) => {
    const v = btf.type(vsi.type, `${w}: variable ${i}`);
    if (v.kind !== 'var') throw new ElfError('elf.btf', `${w}: variable ${i} is a ${v.kind}, not a VAR`);
    if (v.linkage === VarLinkage.STATIC || v.linkage === VarLinkage.EXTERN || !fixOffsets) return vsi;
    const sym = varSymbol(elf, v.name);
    if (!sym) throw new ElfError('elf.btf', `${w}: variable ${v.name} has no ELF symbol`);
    return Object.freeze({ ...vsi, offset: sym.value });
  });
  vars.sort((a, b) => a.offset - b.offset);
  return Object.freeze({ ...t, size, vars });
}

// ---------------------------------------------------------------------- BTF-defined maps

interface MapDef {
  type?: number; maxEntries?: number; flags?: number; keySize?: number; valueSize?: number;
  keyTypeId?: number; valueTypeId?: number; hasValues?: boolean; valuesByteOffset?: number;
}

/** The maps of `.maps`, in DATASEC order. */
export function readBtfMaps(elf: ElfFile, btf: Btf): LoadedMap[] {
  const sec = elf.section('.maps');
  if (!sec) return [];
  const ds = btf.find('.maps', 'datasec');
  if (!ds || ds.kind !== 'datasec') throw new ElfError('elf.map', 'section .maps: no BTF DATASEC .maps describes it');
  const maps = ds.vars.map((vsi, i): LoadedMap => {
    const v = btf.type(vsi.type, `DATASEC .maps variable ${i}`);
    if (v.kind !== 'var') throw new ElfError('elf.map', `section .maps: variable ${i} is a ${v.kind}, not a VAR`);
    if (vsi.offset + vsi.size > sec.size) {
      throw new ElfError('elf.map', `section .maps: map ${v.name}: definition at ${vsi.offset}+${vsi.size} runs past the section (${sec.size} bytes)`);
    }
    const def = parseMapDef(btf, v.name, v.type);
    return {
      spec: mapSpec(v.name, def), sectionIndex: sec.index, sectionOffset: vsi.offset, size: vsi.size,
      ...(def.valuesByteOffset !== undefined ? { valuesOffset: def.valuesByteOffset } : {}),
    };
  });
  return maps;
}

function mapSpec(name: string, d: MapDef): MapSpec {
  return Object.freeze({
    name,
    type: d.type ?? 0,
    keySize: d.keySize ?? 0,
    valueSize: d.valueSize ?? 0,
    maxEntries: d.maxEntries ?? 0,
    flags: d.flags ?? 0,
    ...(d.keyTypeId !== undefined ? { btfKeyTypeId: d.keyTypeId } : {}),
    ...(d.valueTypeId !== undefined ? { btfValueTypeId: d.valueTypeId } : {}),
  });
}

/** libbpf's parse_btf_map_def for the members this project's maps use. */
function parseMapDef(btf: Btf, name: string, typeId: number): MapDef {
  const w = `section .maps: map ${name}`;
  const st = btf.skipMods(typeId);
  if (st.kind !== 'struct') throw new ElfError('elf.map', `${w}: definition is a ${st.kind}, not a struct`);
  const def: MapDef = {};
  st.members.forEach((m, i) => {
    const mw = `${w}: member ${m.name || i}`;
    switch (m.name) {
      case 'type': def.type = fieldInt(btf, m, mw); break;
      case 'max_entries': def.maxEntries = fieldInt(btf, m, mw); break;
      case 'map_flags': def.flags = fieldInt(btf, m, mw); break;
      case 'numa_node': fieldInt(btf, m, mw); break;
      case 'key_size': def.keySize = agree(def.keySize, fieldInt(btf, m, mw), `${w}: key size`); break;
      case 'value_size': def.valueSize = agree(def.valueSize, fieldInt(btf, m, mw), `${w}: value size`); break;
      case 'key': { const [id, sz] = pointee(btf, m, mw); def.keySize = agree(def.keySize, sz, `${w}: key size`); def.keyTypeId = id; break; }
      case 'value': { const [id, sz] = pointee(btf, m, mw); def.valueSize = agree(def.valueSize, sz, `${w}: value size`); def.valueTypeId = id; break; }
      case 'values': parseValues(btf, def, m, i === st.members.length - 1, mw); break;
      case 'pinning': {
        const v = fieldInt(btf, m, mw);
        if (v !== 0 && v !== 1) throw new ElfError('elf.map', `${mw}: unknown pinning ${v}`);
        break;
      }
      case 'map_extra': fieldInt(btf, m, mw); break;
      default: throw new ElfError('elf.map', `${mw}: unknown map attribute`);
    }
  });
  if (def.type === undefined) throw new ElfError('elf.map', `${w}: no map type`);
  return def;
}

function agree(old: number | undefined, v: number, what: string): number {
  if (old !== undefined && old !== 0 && old !== v) throw new ElfError('elf.map', `${what}: ${old} and ${v} disagree`);
  return v;
}

/** `__uint(name, val)` is `int (*name)[val]`: the value is the array's element count. */
function fieldInt(btf: Btf, m: BtfMember, w: string): number {
  const p = btf.skipMods(m.type);
  if (p.kind !== 'ptr') throw new ElfError('elf.map', `${w}: a ${p.kind}, expected a pointer to an array (__uint)`);
  const a = btf.type(p.type);
  if (a.kind !== 'array') throw new ElfError('elf.map', `${w}: points to a ${a.kind}, expected an array (__uint)`);
  return a.nelems;
}

/** `__type(name, T)` is `T *name`: the type and its size. */
function pointee(btf: Btf, m: BtfMember, w: string): [number, number] {
  const p = btf.type(m.type);
  if (p.kind !== 'ptr') throw new ElfError('elf.map', `${w}: a ${p.kind}, expected a pointer (__type)`);
  return [p.type, btf.resolveSize(p.type)];
}

function parseValues(btf: Btf, def: MapDef, m: BtfMember, last: boolean, w: string): void {
  if (!last) throw new ElfError('elf.map', `${w}: must be the last member`);
  if (def.type !== MapType.PROG_ARRAY) throw new ElfError('elf.map', `${w}: initial values are supported for prog arrays only (map type ${def.type})`);
  def.valueSize = agree(def.valueSize, 4, `${w}: value size`);
  const a = btf.type(m.type);
  if (a.kind !== 'array' || a.nelems !== 0) throw new ElfError('elf.map', `${w}: expected a flexible array of program pointers`);
  const p = btf.skipMods(a.type);
  if (p.kind !== 'ptr' || btf.skipMods(p.type).kind !== 'func_proto') throw new ElfError('elf.map', `${w}: expected pointers to functions`);
  def.hasValues = true;
  def.valuesByteOffset = m.bitOffset / 8;
}

/**
 * Initial prog-array slots from `.rel.maps` (libbpf's bpf_object__collect_map_relos): each
 * R_BPF_64_ABS64 relocation inside a map's `values` names the program for one slot.
 */
export function readMapValues(elf: ElfFile, maps: LoadedMap[], isProgram: (name: string, shndx: number, value: number) => boolean): LoadedMap[] {
  const rel = elf.sections.find((s) => s.type === SHT.REL && s.name === '.rel.maps');
  if (!rel) return maps;
  const mapsSec = elf.section('.maps');
  if (!mapsSec) throw new ElfError('elf.map', 'section .rel.maps: there is no .maps to relocate');
  const slots = new Map<number, (string | null)[]>();
  for (const r of readRelocations(elf, rel)) {
    const sym = elf.symbols[r.symbol];
    const w = `section .rel.maps: relocation ${r.index} (symbol ${sym.name || r.symbol})`;
    if (r.type !== R_BPF_64_ABS64) throw new ElfError('elf.reloc', `${w}: unknown type ${r.type}`);
    const mi = maps.findIndex((m) => m.sectionIndex === mapsSec.index && m.sectionOffset <= r.offset && r.offset + 8 <= m.sectionOffset + m.size);
    if (mi < 0) throw new ElfError('elf.map', `${w}: offset ${r.offset} is inside no map`);
    const map = maps[mi];
    if (map.valuesOffset === undefined) throw new ElfError('elf.map', `${w}: map ${map.spec.name} has no values member`);
    if (!isProgram(sym.name, sym.shndx, sym.value)) throw new ElfError('elf.map', `${w}: ${sym.name} is not an entry-point program`);
    const moff = r.offset - map.sectionOffset - map.valuesOffset;
    if (moff < 0 || moff % 8 !== 0) throw new ElfError('elf.map', `${w}: offset ${r.offset} is not a slot of map ${map.spec.name}'s values`);
    const list = slots.get(mi) ?? [];
    while (list.length <= moff / 8) list.push(null);
    list[moff / 8] = sym.name;
    slots.set(mi, list);
  }
  return maps.map((m, i) => (slots.has(i) ? { ...m, spec: Object.freeze({ ...m.spec, values: Object.freeze(slots.get(i)!) }) } : m));
}

// ---------------------------------------------------------------------- global data

export function readGlobalMaps(elf: ElfFile, btf: Btf, objName: string): LoadedMap[] {
  const out: LoadedMap[] = [];
  for (const s of elf.sections) {
    const kind = globalKind(s);
    if (kind === undefined || s.size === 0) continue;
    const ds = btf.find(s.name, 'datasec');
    const vars: GlobalVar[] = [];
    let mmapable = false;
    if (ds && ds.kind === 'datasec') {
      for (const vsi of ds.vars) {
        const v = btf.type(vsi.type);
        if (v.kind !== 'var') continue;
        if (vsi.offset + vsi.size > s.size) throw new ElfError('elf.btf', `BTF: DATASEC ${s.name}: variable ${v.name} at ${vsi.offset}+${vsi.size} runs past the section (${s.size} bytes)`);
        vars.push(Object.freeze({ name: v.name, offset: vsi.offset, size: vsi.size, typeId: v.type }));
        if (v.linkage !== VarLinkage.STATIC) mmapable = true;
      }
    }
    const flags = (kind === 'rodata' ? BPF_F_RDONLY_PROG : 0) | (mmapable ? BPF_F_MMAPABLE : 0);
    // A copy: the section's bytes may be a Buffer view of the file, whose slice() does not copy.
    const initial = kind === 'bss' ? new Uint8Array(s.size) : Uint8Array.from(s.data.data);
    out.push({
      sectionIndex: s.index,
      sectionOffset: 0,
      size: s.size,
      spec: Object.freeze({
        name: internalMapName(objName, s.name),
        section: s.name,
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: s.size,
        maxEntries: 1,
        flags,
        initial,
        vars: Object.freeze(vars),
        // libbpf freezes .rodata after filling it: the verifier may read it as constants.
        ...(kind === 'rodata' ? { frozen: true } : {}),
        ...(ds ? { btfValueTypeId: ds.id } : {}),
      }),
    });
  }
  return out;
}
