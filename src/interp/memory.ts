// The interpreter's address space: labelled regions at realistic 64-bit kernel addresses, so that
// pointer arithmetic is done in full 64 bits, and every access is checked against them.
//
//   0xffff888100000000   input memory / context (r1), like a direct-map address
//   0xffff888200000000   regions the environment registers (map values...), 4 GiB apart
//   0xffffc90000000000   frame stacks, one 16 KiB slot per call depth (like vmalloc'ed kernel
//                        stacks); the 512-byte BPF stack sits at the top of its slot, so r10 is the
//                        slot's end and the space below the stack is a guard gap

import { InterpError, hex, type AccessKind } from './errors.js';

export const INPUT_BASE = 0xffff888100000000n;
export const ENV_REGION_BASE = 0xffff888200000000n;
export const ENV_REGION_STRIDE = 0x100000000n;
export const STACK_AREA_BASE = 0xffffc90000000000n;
/** MAX_BPF_STACK: bytes of BPF stack per frame. */
export const STACK_SIZE = 512;
const STACK_STRIDE = 0x4000;
/** Stack slots the area can hold; deeper than any legal run (8 frames per program × 34 programs). */
const STACK_AREA_SLOTS = 1 << 16;
const STACK_AREA_END = STACK_AREA_BASE + BigInt(STACK_STRIDE * STACK_AREA_SLOTS);

export interface RegionSpec {
  readonly name: string;
  readonly base: bigint;
  readonly bytes: Uint8Array;
  /** Default true. */
  readonly writable?: boolean;
}

export class Region {
  readonly end: bigint;
  readonly view: DataView;
  /** last[size]: the highest address an access of `size` bytes may start at (for the fast path). */
  readonly last: readonly bigint[];

  constructor(
    readonly name: string,
    readonly base: bigint,
    readonly bytes: Uint8Array,
    readonly writable: boolean,
  ) {
    this.end = base + BigInt(bytes.length);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const last: bigint[] = [];
    for (const size of [1, 2, 4, 8]) last[size] = this.end - BigInt(size);
    this.last = last;
  }

  describe(): string {
    return `'${this.name}' [${hex(this.base)}, ${hex(this.end)})`;
  }
}

export type AccessSize = 1 | 2 | 4 | 8;

export class Memory {
  private readonly regions: Region[] = [];
  /** stacks[d]: the stack of the frame at call depth d (allocated on first use). */
  private readonly stacks: Region[] = [];
  /** Frames currently live: stacks[0..live-1] may be touched. */
  private live = 0;
  /** Set by `locate`: the region and the offset of the last access. */
  private hit: Region | null = null;
  private hitOff = 0;

  constructor(regions: readonly RegionSpec[] = []) {
    for (const r of regions) this.addRegion(r);
  }

  addRegion(spec: RegionSpec): Region {
    const region = new Region(spec.name, BigInt.asUintN(64, spec.base), spec.bytes, spec.writable ?? true);
    if (region.end > 1n << 64n) {
      throw new InterpError('interp.memory', `region ${region.describe()} wraps past the end of the address space`);
    }
    if (region.base < STACK_AREA_END && region.end > STACK_AREA_BASE) {
      throw new InterpError('interp.memory', `region ${region.describe()} overlaps the stack area`);
    }
    for (const other of this.regions) {
      if (region.base < other.end && other.base < region.end) {
        throw new InterpError('interp.memory', `region ${region.describe()} overlaps region ${other.describe()}`);
      }
    }
    this.regions.push(region);
    return region;
  }

  /** r10 of the frame at call depth `depth` (0 = main). */
  stackTop(depth: number): bigint {
    return STACK_AREA_BASE + BigInt((depth + 1) * STACK_STRIDE);
  }

  /** Makes frame `depth` live with a zeroed stack and everything deeper dead. */
  enterFrame(depth: number): void {
    if (depth >= STACK_AREA_SLOTS) {
      throw new InterpError('interp.call-depth', `${depth + 1} live frames exceed the stack area`);
    }
    let s = this.stacks[depth];
    if (!s) {
      s = new Region(`stack of frame ${depth}`, this.stackTop(depth) - BigInt(STACK_SIZE), new Uint8Array(STACK_SIZE), true);
      this.stacks[depth] = s;
    } else {
      s.bytes.fill(0);
    }
    this.live = depth + 1;
    // A new run: forget a cached stack that an aborted run left behind.
    if (depth === 0) this.hit = null;
  }

  /** Frame `depth` returned: its stack may no longer be touched. */
  leaveFrame(depth: number): void {
    this.live = depth;
    if (this.hit === this.stacks[depth]) this.hit = null;
  }

  /** The stack bytes of frame `depth`, for tests and debuggers. */
  stack(depth: number): Uint8Array | undefined {
    return depth < this.live ? this.stacks[depth]?.bytes : undefined;
  }

  /** The region an access of `size` bytes at `addr` falls in, or undefined. */
  regionAt(addr: bigint, size: number): Region | undefined {
    return this.find(addr, size) ? this.hit! : undefined;
  }

  load(addr: bigint, size: AccessSize): bigint {
    this.locate(addr, size, 'load');
    const v = this.hit!.view;
    const o = this.hitOff;
    switch (size) {
      case 1: return BigInt(v.getUint8(o));
      case 2: return BigInt(v.getUint16(o, true));
      case 4: return BigInt(v.getUint32(o, true));
      default: return v.getBigUint64(o, true);
    }
  }

  /** Stores the low `size` bytes of `value`. */
  store(addr: bigint, size: AccessSize, value: bigint, access: AccessKind = 'store'): void {
    this.locate(addr, size, access);
    this.put(size, value);
  }

  /**
   * A read-modify-write access (atomics): checks that the memory may be written, loads the old
   * value; `commit` then writes the new one to the same place.
   */
  loadForUpdate(addr: bigint, size: AccessSize): bigint {
    this.locate(addr, size, 'atomic');
    const v = this.hit!.view;
    const o = this.hitOff;
    return size === 4 ? BigInt(v.getUint32(o, true)) : v.getBigUint64(o, true);
  }

  commit(size: AccessSize, value: bigint): void {
    this.put(size, value);
  }

  readBytes(addr: bigint, length: number): Uint8Array {
    if (length === 0) return new Uint8Array(0);
    this.locate(addr, length, 'load');
    return this.hit!.bytes.slice(this.hitOff, this.hitOff + length);
  }

  writeBytes(addr: bigint, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.locate(addr, bytes.length, 'store');
    this.hit!.bytes.set(bytes, this.hitOff);
  }

  private put(size: AccessSize, value: bigint): void {
    const v = this.hit!.view;
    const o = this.hitOff;
    switch (size) {
      case 1: v.setUint8(o, Number(value & 0xffn)); break;
      case 2: v.setUint16(o, Number(value & 0xffffn), true); break;
      case 4: v.setUint32(o, Number(value & 0xffffffffn), true); break;
      default: v.setBigUint64(o, BigInt.asUintN(64, value), true);
    }
  }

  /** Finds the region of an access and checks it, or throws the fault. */
  private locate(addr: bigint, size: number, access: AccessKind): void {
    if (!this.find(addr, size)) throw this.fault(addr, size, access);
    if (access !== 'load' && !this.hit!.writable) {
      throw new InterpError(
        'interp.fault',
        `${access} of ${size} bytes at ${hex(addr)}: region ${this.hit!.describe()} is read-only`,
        {},
        { address: addr, size, access, region: this.hit!.name },
      );
    }
  }

  private find(addr: bigint, size: number): boolean {
    // Fast path: the region of the previous access (never a dead frame's stack, see leaveFrame).
    const last = this.hit;
    if (last !== null && size <= 8 && addr >= last.base && addr <= last.last[size]) {
      this.hitOff = Number(addr - last.base);
      return true;
    }
    if (addr >= STACK_AREA_BASE && addr < STACK_AREA_END) {
      // Stack accesses are the common case: index the slot instead of searching.
      const rel = Number(addr - STACK_AREA_BASE);
      const depth = Math.floor(rel / STACK_STRIDE);
      const off = rel - depth * STACK_STRIDE - (STACK_STRIDE - STACK_SIZE);
      if (depth >= this.live || off < 0 || off + size > STACK_SIZE) return false;
      this.hit = this.stacks[depth];
      this.hitOff = off;
      return true;
    }
    const end = addr + BigInt(size);
    for (const r of this.regions) {
      if (addr >= r.base && end <= r.end) {
        this.hit = r;
        this.hitOff = Number(addr - r.base);
        return true;
      }
    }
    return false;
  }

  private fault(addr: bigint, size: number, access: AccessKind): InterpError {
    const what = `${access} of ${size} bytes at ${hex(addr)}`;
    const details = { address: addr, size, access };
    const end = addr + BigInt(size);
    if (addr >= STACK_AREA_BASE && addr < STACK_AREA_END) {
      const rel = Number(addr - STACK_AREA_BASE);
      const depth = Math.floor(rel / STACK_STRIDE);
      const off = rel - depth * STACK_STRIDE - (STACK_STRIDE - STACK_SIZE);
      const name = `stack of frame ${depth}`;
      if (off + size <= 0) {
        return new InterpError('interp.fault', `${what}: no region (guard gap between frame stacks)`, {}, { ...details, region: null });
      }
      if (depth >= this.live) {
        return new InterpError('interp.fault', `${what}: ${name} is not live (${this.live} live frames)`, {}, { ...details, region: name });
      }
      const s = this.stacks[depth];
      return new InterpError('interp.fault', `${what} crosses the bounds of ${name} [${hex(s.base)}, ${hex(s.end)})`, {}, { ...details, region: name });
    }
    for (const r of this.regions) {
      if (end > r.base && addr < r.end) {
        return new InterpError('interp.fault', `${what} crosses the bounds of region ${r.describe()}`, {}, { ...details, region: r.name });
      }
    }
    return new InterpError('interp.fault', `${what}: no region`, {}, { ...details, region: null });
  }
}
