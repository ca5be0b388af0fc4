// The emulated kernel's address space as a list of labelled regions (qiling's `add_mapinfo`
// idea): every range the harness maps has a name, and so do the ranges it deliberately leaves
// unmapped (guard pages), so `describe(addr)` can say what any address is, e.g.
// "bpf image sub (func 1 of entry) +0x55" or "guard page below the kernel stack".

/** What a region holds; decides its protections and what a fault there means. */
export type RegionKind =
  | 'text'      // kernel text: thunks, helper stubs, the entry stub (r-x)
  | 'image'     // a JIT image allocation in the module area (r-x after load)
  | 'object'    // a kernel object: struct bpf_map, bpf_prog, sk_buff, net_device (rw-)
  | 'map-value' // array map values and global data (rw-)
  | 'packet'    // packet data or the conformance input (rw-)
  | 'stack'     // the kernel stack (rw-)
  | 'guard';    // never mapped: an access here is a fault by design

export interface Region {
  readonly begin: bigint;
  /** Exclusive. */
  readonly end: bigint;
  readonly name: string;
  readonly kind: RegionKind;
  /** Symbols inside the region (kernel text), by address, for `describe`. */
  readonly symbols?: ReadonlyMap<bigint, string>;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** Regions sorted by address; they never overlap. */
export class RegionMap {
  readonly #regions: Region[] = [];
  /** Symbols added after a region was mapped (JIT images are named once they are written). */
  readonly #extra = new Map<Region, Map<bigint, string>>();

  /** Names `addr` in the region that holds it (for `describe`). */
  addSymbol(addr: bigint, name: string): void {
    const r = this.find(addr);
    if (!r) throw new RangeError(`no region holds 0x${addr.toString(16)} (symbol ${name})`);
    let m = this.#extra.get(r);
    if (!m) this.#extra.set(r, (m = new Map()));
    m.set(addr, name);
  }

  add(region: Region): Region {
    if (region.end <= region.begin) throw new RangeError(`empty region ${region.name}`);
    const i = this.#insertionPoint(region.begin);
    const prev = this.#regions[i - 1];
    const next = this.#regions[i];
    if ((prev && prev.end > region.begin) || (next && next.begin < region.end)) {
      const other = prev && prev.end > region.begin ? prev : next;
      throw new RangeError(`region ${region.name} [${hex(region.begin)}, ${hex(region.end)}) overlaps ${other.name}`);
    }
    this.#regions.splice(i, 0, region);
    return region;
  }

  /** The region containing `addr`, if any. */
  find(addr: bigint): Region | undefined {
    const i = this.#insertionPoint(addr + 1n) - 1;
    const r = this.#regions[i];
    return r && addr >= r.begin && addr < r.end ? r : undefined;
  }

  /** "name +0xoff" (with the nearest symbol at or below for text), or "unmapped". */
  describe(addr: bigint): string {
    const a = BigInt.asUintN(64, addr);
    const r = this.find(a);
    if (!r) return `unmapped ${hex(a)}`;
    let best: [bigint, string] | undefined;
    for (const syms of [r.symbols, this.#extra.get(r)]) {
      for (const [at, name] of syms ?? []) if (at <= a && (!best || at > best[0])) best = [at, name];
    }
    if (best) return a === best[0] ? best[1] : `${best[1]}+${hex(a - best[0])}`;
    return `${r.name} +${hex(a - r.begin)}`;
  }

  all(): readonly Region[] {
    return this.#regions;
  }

  /** First index whose region begins at or after `addr`. */
  #insertionPoint(addr: bigint): number {
    let lo = 0;
    let hi = this.#regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#regions[mid].begin < addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
