// The modeled kernel's memory on top of unicorn: the x86-64 areas of a 5.10 kernel
// (Documentation/x86/x86_64/mm.rst, 4-level paging), page-granular allocations in them, each
// one a labelled region (regions.ts), with unmapped guard pages between allocations the way
// vmalloc leaves one after each area. Typed little-endian accessors read and write through the
// engine.

import { UcProt, type Unicorn } from '../unicorn/index.js';
import { RegionMap, type Region, type RegionKind } from './regions.js';

export const PAGE_SIZE = 0x1000;

/** Base of each area a 5.10 x86-64 kernel uses, without KASLR. */
export const AREAS = Object.freeze({
  /** `page_offset_base`: the direct map, where kmalloc'ed objects live. */
  directMap: 0xffff888000000000n,
  /** `VMALLOC_START`: vmalloc'ed memory (big maps, mmapable global data, THREAD_SIZE stacks). */
  vmalloc: 0xffffc90000000000n,
  /** `__START_KERNEL_map` + 16 MiB: kernel text. */
  kernelText: 0xffffffff81000000n,
  /** `MODULES_VADDR`: module memory, where bpf_jit_binary_alloc() puts JIT images. */
  modules: 0xffffffffc0000000n,
} as const);
export type AreaName = keyof typeof AREAS;

const PROT: Record<RegionKind, number> = {
  text: UcProt.READ | UcProt.EXEC,
  image: UcProt.READ | UcProt.EXEC,
  object: UcProt.READ | UcProt.WRITE,
  'map-value': UcProt.READ | UcProt.WRITE,
  packet: UcProt.READ | UcProt.WRITE,
  stack: UcProt.READ | UcProt.WRITE,
  guard: UcProt.NONE,
};

export const pageUp = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
const pageDown = (a: bigint): bigint => a & ~BigInt(PAGE_SIZE - 1);

export interface AllocOptions {
  /** Fill byte of the whole allocation (default 0). */
  fill?: number;
  /**
   * Bytes at offsets of the allocation, written together with the fill. One write per
   * allocation matters for r-x memory: each uc_mem_write to a read-only region makes unicorn
   * 2.0.1 flip the region writable and back, rebuilding its memory map twice (~20-50 us).
   */
  contents?: readonly (readonly [offset: number, bytes: Uint8Array])[];
  /** Symbols for `describe` (text). */
  symbols?: ReadonlyMap<bigint, string>;
  /** Labelled, unmapped guard pages before and after (default 0 before, 1 after). */
  guardBefore?: number;
  guardAfter?: number;
}

export class KernelMemory {
  readonly regions = new RegionMap();
  readonly #next = new Map<AreaName, bigint>(Object.entries(AREAS) as [AreaName, bigint][]);
  readonly #u32 = new Uint8Array(4);
  readonly #u32View = new DataView(this.#u32.buffer);

  constructor(readonly uc: Unicorn) {}

  /** Maps `size` bytes (rounded up to pages) at the next free address of `area`. */
  alloc(area: AreaName, size: number, name: string, kind: RegionKind, options: AllocOptions = {}): Region {
    const before = options.guardBefore ?? 0;
    const after = options.guardAfter ?? 1;
    let at = this.#next.get(area)!;
    if (before > 0) {
      this.regions.add({ begin: at, end: at + BigInt(before * PAGE_SIZE), name: `guard page below ${name}`, kind: 'guard' });
      at += BigInt(before * PAGE_SIZE);
    }
    const region = this.mapAt(at, size, name, kind, options);
    let end = region.end;
    if (after > 0) {
      this.regions.add({ begin: end, end: end + BigInt(after * PAGE_SIZE), name: `guard page above ${name}`, kind: 'guard' });
      end += BigInt(after * PAGE_SIZE);
    }
    this.#next.set(area, end);
    return region;
  }

  /** Maps `size` bytes (rounded up to pages) at the page-aligned `begin`. */
  mapAt(begin: bigint, size: number, name: string, kind: RegionKind, options: AllocOptions = {}): Region {
    const bytes = pageUp(Math.max(size, 1));
    const region = this.regions.add({ begin, end: begin + BigInt(bytes), name, kind, ...(options.symbols ? { symbols: options.symbols } : {}) });
    this.uc.memMap(begin, bytes, PROT[kind]);
    if (options.fill || options.contents?.length) {
      const init = new Uint8Array(bytes).fill(options.fill ?? 0);
      for (const [at, code] of options.contents ?? []) {
        if (at < 0 || at + code.length > bytes) throw new RangeError(`${code.length} bytes at +0x${at.toString(16)} do not fit in ${name} (0x${bytes.toString(16)} bytes)`);
        init.set(code, at);
      }
      this.uc.memWrite(begin, init);
    }
    return region;
  }

  /**
   * Maps the pages covering each of `addrs` as kernel text (int3-filled), merging pages that
   * touch into one region named after its first symbol's page; `code` (bytes by address, inside
   * those pages) is written with the fill.
   */
  mapTextPages(symbols: ReadonlyMap<string, bigint>, fill: number, code: ReadonlyMap<bigint, Uint8Array> = new Map()): void {
    const pages = [...new Set([...symbols.values()].map(pageDown))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const byAddr = new Map<bigint, string>();
    for (const [name, a] of symbols) byAddr.set(a, name);
    const outside = [...code.keys()].filter((a) => !pages.includes(pageDown(a)));
    if (outside.length) throw new RangeError(`text at 0x${outside[0].toString(16)} is on no symbol's page`);
    let i = 0;
    while (i < pages.length) {
      let j = i;
      while (j + 1 < pages.length && pages[j + 1] === pages[j] + BigInt(PAGE_SIZE)) j++;
      const begin = pages[i];
      const end = pages[j] + BigInt(PAGE_SIZE);
      const inside = new Map([...byAddr].filter(([a]) => a >= begin && a < end));
      const contents = [...code].filter(([a]) => a >= begin && a < end).map(([a, b]) => [Number(a - begin), b] as const);
      this.mapAt(begin, Number(end - begin), `kernel text 0x${begin.toString(16)}`, 'text', { fill, symbols: inside, contents });
      i = j + 1;
    }
  }

  describe(addr: bigint): string {
    return this.regions.describe(addr);
  }

  read(addr: bigint, n: number): Uint8Array {
    return this.uc.memRead(addr, n);
  }

  write(addr: bigint, bytes: Uint8Array): void {
    this.uc.memWrite(addr, bytes);
  }

  /**
   * Writes code that may already have been translated. unicorn 2.0.1 does not drop translated
   * blocks when uc_mem_write changes a read-only (r-x) page, so the blocks covering the bytes
   * are removed by hand; without that a patched tail-call site would keep running its old bytes.
   */
  writeText(addr: bigint, bytes: Uint8Array): void {
    this.uc.memWrite(addr, bytes);
    this.uc.ctlRemoveCache(addr, addr + BigInt(bytes.length));
  }

  readU64(addr: bigint): bigint {
    return this.uc.memReadU64(addr);
  }

  writeU64(addr: bigint, v: bigint): void {
    this.uc.memWriteU64(addr, BigInt.asUintN(64, v));
  }

  readU32(addr: bigint): number {
    this.uc.memReadInto(addr, this.#u32);
    return this.#u32View.getUint32(0, true);
  }

  writeU32(addr: bigint, v: number): void {
    this.#u32View.setUint32(0, v >>> 0, true);
    this.uc.memWrite(addr, this.#u32);
  }

  writeU16(addr: bigint, v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v & 0xffff, true);
    this.uc.memWrite(addr, b);
  }

  /** A NUL-terminated string of at most `max` bytes (without the NUL). */
  readCString(addr: bigint, max: number): Uint8Array {
    const out: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.uc.memRead(addr + BigInt(i), 1)[0];
      if (b === 0) break;
      out.push(b);
    }
    return Uint8Array.from(out);
  }
}
