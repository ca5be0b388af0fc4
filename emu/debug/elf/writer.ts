// A minimal ELF64 little-endian x86-64 file for debuggers (ET_EXEC, no program headers):
// address-only code sections (SHT_NOBITS: the code itself lives in the emulated machine and gdb
// reads it over the remote protocol), data sections (DWARF), and a symbol table. The layout is
// the System V gABI's: the 64-byte header, section contents, then the section header table.

import { ByteWriter } from './bytes.js';

export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, NOBITS: 8 } as const;
export const SHF = { WRITE: 0x1n, ALLOC: 0x2n, EXECINSTR: 0x4n } as const;
const STT = { notype: 0, object: 1, func: 2 } as const;
const STB = { local: 0, global: 1 } as const;
const ET_EXEC = 2;
const EM_X86_64 = 62;

export interface SectionSpec {
  readonly name: string;
  readonly type: number;
  readonly flags?: bigint;
  readonly addr?: bigint;
  /** Contents; for SHT_NOBITS, `size` instead. */
  readonly data?: Uint8Array;
  readonly size?: bigint;
  readonly align?: bigint;
}

export interface SymbolSpec {
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  /** The section holding the address. */
  readonly section: string;
  readonly type: keyof typeof STT;
  readonly bind: keyof typeof STB;
}

interface Header {
  name: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: bigint;
  link: number;
  info: number;
  align: bigint;
  entsize: bigint;
}

class StringTable {
  readonly #w = new ByteWriter().u8(0);
  readonly #seen = new Map<string, number>();

  add(s: string): number {
    if (s === '') return 0;
    const hit = this.#seen.get(s);
    if (hit !== undefined) return hit;
    const at = this.#w.length;
    this.#w.cstr(s);
    this.#seen.set(s, at);
    return at;
  }

  bytes(): Uint8Array {
    return this.#w.finish();
  }
}

export function writeElf(sections: readonly SectionSpec[], symbols: readonly SymbolSpec[]): Uint8Array {
  const shstr = new StringTable();
  const str = new StringTable();
  const index = new Map<string, number>(sections.map((s, i) => [s.name, i + 1]));
  const symtabIndex = sections.length + 1;
  const strtabIndex = sections.length + 2;
  const shstrIndex = sections.length + 3;

  // Locals first, as the gABI requires; `info` is the first global's index.
  const ordered = [...symbols.filter((s) => s.bind === 'local'), ...symbols.filter((s) => s.bind === 'global')];
  const symtab = new ByteWriter();
  symtab.bytes(new Uint8Array(24));
  for (const s of ordered) {
    const shndx = index.get(s.section);
    if (shndx === undefined) throw new RangeError(`symbol ${s.name}: no section ${s.section}`);
    symtab.u32(str.add(s.name)).u8((STB[s.bind] << 4) | STT[s.type]).u8(0).u16(shndx).u64(s.value).u64(s.size);
  }
  const firstGlobal = 1 + ordered.filter((s) => s.bind === 'local').length;

  const out = new ByteWriter();
  out.bytes(new Uint8Array(64)); // the header, written last
  const headers: Header[] = [{ name: 0, type: SHT.NULL, flags: 0n, addr: 0n, offset: 0, size: 0n, link: 0, info: 0, align: 0n, entsize: 0n }];
  const place = (name: string, type: number, data: Uint8Array, extra: Partial<Header> = {}) => {
    const align = extra.align ?? 1n;
    out.align(Number(align));
    headers.push({ name: shstr.add(name), type, flags: 0n, addr: 0n, offset: out.length, size: BigInt(data.length), link: 0, info: 0, align, entsize: 0n, ...extra });
    out.bytes(data);
  };
  for (const s of sections) {
    if (s.type === SHT.NOBITS) {
      headers.push({ name: shstr.add(s.name), type: s.type, flags: s.flags ?? 0n, addr: s.addr ?? 0n, offset: out.length, size: s.size ?? 0n, link: 0, info: 0, align: s.align ?? 16n, entsize: 0n });
    } else {
      place(s.name, s.type, s.data ?? new Uint8Array(0), { flags: s.flags ?? 0n, addr: s.addr ?? 0n, align: s.align ?? 1n });
    }
  }
  place('.symtab', SHT.SYMTAB, symtab.finish(), { link: strtabIndex, info: firstGlobal, align: 8n, entsize: 24n });
  place('.strtab', SHT.STRTAB, str.bytes());
  const shstrName = shstr.add('.shstrtab');
  const shstrBytes = shstr.bytes();
  place('.shstrtab', SHT.STRTAB, shstrBytes);
  headers[shstrIndex].name = shstrName;
  if (headers.length !== shstrIndex + 1 || headers[symtabIndex].type !== SHT.SYMTAB) throw new Error('section order');

  out.align(8);
  const shoff = out.length;
  for (const h of headers) {
    out.u32(h.name).u32(h.type).u64(h.flags).u64(h.addr).u64(BigInt(h.offset)).u64(h.size).u32(h.link).u32(h.info).u64(h.align).u64(h.entsize);
  }
  const file = out.finish();
  const hdr = new ByteWriter();
  hdr.bytes(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  hdr.u16(ET_EXEC).u16(EM_X86_64).u32(1).u64(0n).u64(0n).u64(BigInt(shoff)).u32(0).u16(64).u16(0).u16(0).u16(64).u16(headers.length).u16(shstrIndex);
  file.set(hdr.finish(), 0);
  return file;
}
