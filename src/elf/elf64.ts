// A strict reader of the ELF64 little-endian relocatable files clang writes for BPF: header,
// section headers, the symbol table and REL relocation sections. Nothing BPF-specific beyond
// the header checks lives here.

import { Bytes } from './bytes.js';
import { ElfError, hex } from './errors.js';

export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9 } as const;
export const SHF_EXECINSTR = 0x4;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const STV = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;
export const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

export const EM_BPF = 247;
const ET_REL = 1;
const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;

export interface Section {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
  /** The section's bytes (empty for SHT_NOBITS). */
  readonly data: Bytes;
}

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly bind: number;
  readonly visibility: number;
  readonly shndx: number;
  readonly value: number;
  readonly size: number;
}

export interface Relocation {
  /** Index within its relocation section. */
  readonly index: number;
  readonly offset: number;
  readonly symbol: number;
  readonly type: number;
}

export interface ElfFile {
  readonly file?: string;
  readonly machine: number;
  readonly sections: readonly Section[];
  readonly symbols: readonly ElfSymbol[];
  /** Index of the symbol table section. */
  readonly symtabIndex: number;
  section(name: string): Section | undefined;
}

export function readElf(bytes: Uint8Array, file?: string): ElfFile {
  const b = new Bytes(bytes, 0, file);
  const loc = file === undefined ? {} : { file };
  b.need(0, EHDR_SIZE, 'ELF header');
  if (b.u32(0, 'ELF magic') !== 0x464c457f) {
    throw new ElfError('elf.not-elf', 'not an ELF file (bad magic at offset 0x0)', loc, 0);
  }
  if (b.u8(4, 'EI_CLASS') !== 2) throw new ElfError('elf.format', `ELF header: class ${b.u8(4, 'EI_CLASS')} is not ELFCLASS64`, loc, 4);
  if (b.u8(5, 'EI_DATA') !== 1) throw new ElfError('elf.format', `ELF header: data encoding ${b.u8(5, 'EI_DATA')} is not little-endian`, loc, 5);
  const type = b.u16(16, 'e_type');
  const machine = b.u16(18, 'e_machine');
  if (type !== ET_REL) throw new ElfError('elf.format', `ELF header: type ${type} is not ET_REL (a relocatable object)`, loc, 16);
  // Old LLVM wrote EM_NONE; libbpf accepts both.
  if (machine !== EM_BPF && machine !== 0) throw new ElfError('elf.format', `ELF header: machine ${machine} is not EM_BPF (247)`, loc, 18);
  const shoff = b.u64(0x28, 'e_shoff');
  const shentsize = b.u16(0x3a, 'e_shentsize');
  let shnum = b.u16(0x3c, 'e_shnum');
  let shstrndx = b.u16(0x3e, 'e_shstrndx');
  if (shoff === 0) throw new ElfError('elf.format', 'ELF header: no section header table', loc, 0x28);
  if (shentsize !== SHDR_SIZE) throw new ElfError('elf.format', `ELF header: section header size ${shentsize}, expected ${SHDR_SIZE}`, loc, 0x3a);
  // Extended numbering: the real counts live in section 0.
  if (shnum === 0) shnum = b.u64(shoff + 32, 'section 0 sh_size (extended section count)');
  if (shstrndx === SHN_XINDEX) shstrndx = b.u32(shoff + 40, 'section 0 sh_link (extended string table index)');
  b.need(shoff, shnum * SHDR_SIZE, `section header table (${shnum} entries)`);
  if (shstrndx >= shnum) throw new ElfError('elf.format', `ELF header: section name table index ${shstrndx} >= ${shnum} sections`, loc, 0x3e);

  const raw = Array.from({ length: shnum }, (_, i) => readShdr(b, shoff + i * SHDR_SIZE, i));
  const names = raw[shstrndx];
  if (names.type !== SHT.STRTAB) throw new ElfError('elf.format', `section ${shstrndx}: the section name table is not SHT_STRTAB`, loc, shoff + shstrndx * SHDR_SIZE);
  const nameData = b.slice(names.offset, names.size, `section ${shstrndx} (section names)`);
  const sections: Section[] = raw.map((s, i) => {
    const name = nameData.cstr(s.nameOff, `section ${i}: name`);
    const data = s.type === SHT.NOBITS || s.type === SHT.NULL
      ? new Bytes(new Uint8Array(0), s.offset, file)
      : b.slice(s.offset, s.size, `section ${name || i}: contents`);
    return Object.freeze({ index: i, name, type: s.type, flags: s.flags, offset: s.offset, size: s.size, link: s.link, info: s.info, entsize: s.entsize, data });
  });

  const symtabs = sections.filter((s) => s.type === SHT.SYMTAB);
  if (symtabs.length === 0) throw new ElfError('elf.no-symtab', 'no symbol table (a stripped object?)', loc);
  if (symtabs.length > 1) throw new ElfError('elf.format', `${symtabs.length} symbol tables, expected one`, loc, symtabs[1].offset);
  const symtab = symtabs[0];
  const symbols = readSymbols(symtab, sections, shnum);
  const byName = new Map<string, Section>();
  for (const s of sections) if (!byName.has(s.name)) byName.set(s.name, s);
  return {
    file, machine, sections, symbols, symtabIndex: symtab.index,
    section: (name) => byName.get(name),
  };
}

interface RawShdr {
  nameOff: number; type: number; flags: number; offset: number; size: number;
  link: number; info: number; entsize: number;
}

function readShdr(b: Bytes, at: number, i: number): RawShdr {
  const w = `section header ${i}`;
  return {
    nameOff: b.u32(at, `${w}: sh_name`),
    type: b.u32(at + 4, `${w}: sh_type`),
    flags: b.u64(at + 8, `${w}: sh_flags`),
    offset: b.u64(at + 24, `${w}: sh_offset`),
    size: b.u64(at + 32, `${w}: sh_size`),
    link: b.u32(at + 40, `${w}: sh_link`),
    info: b.u32(at + 44, `${w}: sh_info`),
    entsize: b.u64(at + 56, `${w}: sh_entsize`),
  };
}

function readSymbols(symtab: Section, sections: readonly Section[], shnum: number): ElfSymbol[] {
  const where = `section ${symtab.name}`;
  const loc = symtab.data.file === undefined ? {} : { file: symtab.data.file };
  if (symtab.entsize !== SYM_SIZE) throw new ElfError('elf.format', `${where}: entry size ${symtab.entsize}, expected ${SYM_SIZE}`, loc, symtab.offset);
  if (symtab.size % SYM_SIZE !== 0) throw new ElfError('elf.format', `${where}: size ${symtab.size} is not a multiple of ${SYM_SIZE}`, loc, symtab.offset);
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT.STRTAB) {
    throw new ElfError('elf.format', `${where}: sh_link ${symtab.link} is not a string table`, loc, symtab.offset);
  }
  const d = symtab.data;
  const out: ElfSymbol[] = [];
  for (let i = 0; i < symtab.size / SYM_SIZE; i++) {
    const at = i * SYM_SIZE;
    const w = `${where}: symbol ${i}`;
    const info = d.u8(at + 4, `${w}: st_info`);
    const shndx = d.u16(at + 6, `${w}: st_shndx`);
    if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= shnum) {
      throw new ElfError('elf.format', `${w}: section index ${shndx} >= ${shnum} sections`, loc, d.base + at + 6);
    }
    out.push(Object.freeze({
      index: i,
      name: strtab.data.cstr(d.u32(at, `${w}: st_name`), `${w}: name`),
      type: info & 0xf,
      bind: info >> 4,
      visibility: d.u8(at + 5, `${w}: st_other`) & 0x3,
      shndx,
      value: d.u64(at + 8, `${w}: st_value`),
      size: d.u64(at + 16, `${w}: st_size`),
    }));
  }
  return out;
}

/** The entries of an SHT_REL section. */
export function readRelocations(elf: ElfFile, rel: Section): Relocation[] {
  const where = `section ${rel.name}`;
  const loc = elf.file === undefined ? {} : { file: elf.file };
  if (rel.type === SHT.RELA) throw new ElfError('elf.reloc', `${where}: RELA relocations are not used for BPF`, loc, rel.offset);
  if (rel.entsize !== REL_SIZE) throw new ElfError('elf.format', `${where}: entry size ${rel.entsize}, expected ${REL_SIZE}`, loc, rel.offset);
  if (rel.size % REL_SIZE !== 0) throw new ElfError('elf.format', `${where}: size ${rel.size} is not a multiple of ${REL_SIZE}`, loc, rel.offset);
  if (rel.link !== elf.symtabIndex) throw new ElfError('elf.format', `${where}: sh_link ${rel.link} is not the symbol table`, loc, rel.offset);
  const out: Relocation[] = [];
  for (let i = 0; i < rel.size / REL_SIZE; i++) {
    const at = i * REL_SIZE;
    const info = rel.data.u64big(at + 8, `${where}: relocation ${i}: r_info`);
    const symbol = Number(info >> 32n);
    if (symbol >= elf.symbols.length) {
      throw new ElfError('elf.reloc', `${where}: relocation ${i}: symbol index ${symbol} >= ${elf.symbols.length} symbols`, loc, rel.data.base + at + 8);
    }
    out.push({ index: i, offset: rel.data.u64(at, `${where}: relocation ${i}: r_offset`), symbol, type: Number(info & 0xffffffffn) });
  }
  return out;
}

export { hex };
