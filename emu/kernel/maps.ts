// BPF maps in emulated memory, laid out as the JIT-ed code and the verifier's inlined lookups
// expect them:
// - array maps (and global data): one struct bpf_array, values contiguous from `value`
//   (0x110) with a stride of round_up(value_size, 8) — array_map_gen_lookup() computes
//   `array->value + index * elem_size`;
// - prog arrays: struct bpf_array with `ptrs[]` holding struct bpf_prog pointers;
// - hash maps: a struct bpf_map header and a pool of struct htab_elem (key at 48, value after the
//   8-aligned key); the index from key to element is kept in TypeScript. Freed elements are
//   reused only after an RCU grace period (the end of a test run), as a program may still hold
//   a pointer into one.
// The helpers' semantics and error numbers are 5.10's (kernel/bpf/arraymap.c, hashtab.c).

import { MapType, type MapSpec } from '../../src/elf/types.js';
import type { JitProfile } from '../../src/profile/index.js';
import type { KernelMemory } from './memory.js';
import { BPF_MAP, HTAB_ELEM_KEY, MAP_FLAGS_AFTER_MAX_ENTRIES, bpfArray, type BpfArrayLayout } from './structs.js';
import { KernelError } from './errors.js';

export const Errno = Object.freeze({ ENOENT: 2, E2BIG: 7, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EEXIST: 17, EINVAL: 22 });
/** Update flags (include/uapi/linux/bpf.h). */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

const roundUp8 = (n: number): number => (n + 7) & ~7;

abstract class MapBase {
  /** Address of the struct bpf_map (what `ld_imm64 map_fd` becomes). */
  abstract readonly address: bigint;
  constructor(readonly index: number, readonly spec: MapSpec) {}

  get name(): string {
    return this.spec.name;
  }

  protected writeHeader(mem: KernelMemory, jit: JitProfile): void {
    mem.writeU32(this.address + BigInt(BPF_MAP.mapType), this.spec.type);
    mem.writeU32(this.address + BigInt(BPF_MAP.keySize), this.spec.keySize);
    mem.writeU32(this.address + BigInt(BPF_MAP.valueSize), this.spec.valueSize);
    mem.writeU32(this.address + BigInt(jit.offsets.mapMaxEntries), this.spec.maxEntries);
    mem.writeU32(this.address + BigInt(jit.offsets.mapMaxEntries + MAP_FLAGS_AFTER_MAX_ENTRIES), this.spec.flags);
  }
}

/** BPF_MAP_TYPE_ARRAY, global-data sections included. */
export class ArrayMap extends MapBase {
  readonly kind = 'array' as const;
  readonly address: bigint;
  readonly layout: BpfArrayLayout;
  readonly elemSize: number;

  constructor(private readonly mem: KernelMemory, jit: JitProfile, index: number, spec: MapSpec) {
    super(index, spec);
    this.layout = bpfArray(jit);
    this.elemSize = roundUp8(spec.valueSize);
    const size = this.layout.value + this.elemSize * spec.maxEntries;
    const label = spec.section ? `global data ${spec.section} (map ${spec.name})` : `array map ${spec.name}`;
    this.address = mem.alloc('vmalloc', size, label, 'map-value').begin;
    this.writeHeader(mem, jit);
    mem.writeU32(this.address + BigInt(this.layout.elemSize), this.elemSize);
    // index_mask: the power of two covering max_entries, minus one (array_map_alloc).
    const mask = spec.maxEntries <= 1 ? 0 : 2 ** Math.ceil(Math.log2(spec.maxEntries)) - 1;
    mem.writeU32(this.address + BigInt(this.layout.indexMask), mask);
    if (spec.initial) this.writeValue(0, spec.initial);
  }

  /** `array->value`, where element 0 starts. */
  get valueAddress(): bigint {
    return this.address + BigInt(this.layout.value);
  }

  elemAddress(i: number): bigint {
    return this.valueAddress + BigInt(i * this.elemSize);
  }

  readValue(i: number): Uint8Array {
    return this.mem.read(this.elemAddress(i), this.spec.valueSize);
  }

  writeValue(i: number, bytes: Uint8Array): void {
    this.mem.write(this.elemAddress(i), bytes.subarray(0, this.spec.valueSize));
  }

  /** array_map_lookup_elem: the value's address, 0 past max_entries. */
  lookup(key: Uint8Array): bigint {
    const i = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    return i < this.spec.maxEntries ? this.elemAddress(i) : 0n;
  }

  /** array_map_update_elem. */
  update(key: Uint8Array, value: Uint8Array, flags: bigint): number {
    if (flags > BigInt(BPF_EXIST)) return -Errno.EINVAL;
    const i = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    if (i >= this.spec.maxEntries) return -Errno.E2BIG;
    if (flags === BigInt(BPF_NOEXIST)) return -Errno.EEXIST;
    this.writeValue(i, value);
    return 0;
  }

  /** array_map_delete_elem: arrays cannot delete. */
  delete(): number {
    return -Errno.EINVAL;
  }
}

/** BPF_MAP_TYPE_PROG_ARRAY: `ptrs[]` of struct bpf_prog pointers (0 = empty). */
export class ProgArrayMap extends MapBase {
  readonly kind = 'prog-array' as const;
  readonly address: bigint;
  readonly layout: BpfArrayLayout;
  /** The bpf_prog address in each slot, or null. */
  readonly slots: (bigint | null)[];

  constructor(private readonly mem: KernelMemory, jit: JitProfile, index: number, spec: MapSpec) {
    super(index, spec);
    this.layout = bpfArray(jit);
    const size = this.layout.ptrs + 8 * spec.maxEntries;
    this.address = mem.alloc('directMap', size, `prog array ${spec.name}`, 'object').begin;
    this.writeHeader(mem, jit);
    mem.writeU32(this.address + BigInt(this.layout.elemSize), 8);
    this.slots = new Array<bigint | null>(spec.maxEntries).fill(null);
  }

  slotAddress(slot: number): bigint {
    return this.address + BigInt(this.layout.ptrs + 8 * slot);
  }

  /** The xchg of `ptrs[slot]`; returns the previous program. Bounds are the caller's. */
  exchange(slot: number, prog: bigint | null): bigint | null {
    const old = this.slots[slot];
    this.slots[slot] = prog;
    this.mem.writeU64(this.slotAddress(slot), prog ?? 0n);
    return old;
  }
}

/** BPF_MAP_TYPE_HASH. */
export class HashMap extends MapBase {
  readonly kind = 'hash' as const;
  readonly address: bigint;
  readonly poolAddress: bigint;
  readonly elemSize: number;
  readonly #index = new Map<string, number>();
  readonly #free: number[] = [];
  /** Deleted elements, reusable after the next grace period. */
  #retired: number[] = [];

  constructor(private readonly mem: KernelMemory, jit: JitProfile, index: number, spec: MapSpec) {
    super(index, spec);
    this.address = mem.alloc('directMap', jit.offsets.mapMaxEntries + 0x40, `hash map ${spec.name}`, 'object').begin;
    this.writeHeader(mem, jit);
    this.elemSize = roundUp8(HTAB_ELEM_KEY + roundUp8(spec.keySize) + spec.valueSize);
    this.poolAddress = mem.alloc('vmalloc', this.elemSize * spec.maxEntries, `hash map ${spec.name} elements`, 'map-value').begin;
    for (let i = spec.maxEntries - 1; i >= 0; i--) this.#free.push(i);
  }

  get size(): number {
    return this.#index.size;
  }

  #elem(i: number): bigint {
    return this.poolAddress + BigInt(i * this.elemSize);
  }

  /** Offset of the value inside an element. */
  get valueOffset(): number {
    return HTAB_ELEM_KEY + roundUp8(this.spec.keySize);
  }

  /** __htab_map_lookup_elem: the element's address, or 0. */
  lookupElem(key: Uint8Array): bigint {
    const i = this.#index.get(keyOf(key));
    return i === undefined ? 0n : this.#elem(i);
  }

  /** htab_map_lookup_elem: the value's address, or 0. */
  lookup(key: Uint8Array): bigint {
    const e = this.lookupElem(key);
    return e === 0n ? 0n : e + BigInt(this.valueOffset);
  }

  /**
   * htab_map_update_elem. An existing element is overwritten in place (the kernel swaps in a
   * new element and frees the old one after a grace period; a program holding the old pointer
   * sees the new value here).
   */
  update(key: Uint8Array, value: Uint8Array, flags: bigint): number {
    if (flags > BigInt(BPF_EXIST)) return -Errno.EINVAL;
    const k = keyOf(key);
    let i = this.#index.get(k);
    if (i !== undefined && flags === BigInt(BPF_NOEXIST)) return -Errno.EEXIST;
    if (i === undefined && flags === BigInt(BPF_EXIST)) return -Errno.ENOENT;
    if (i === undefined) {
      if (this.#index.size >= this.spec.maxEntries) return -Errno.E2BIG;
      const slot = this.#free.pop();
      if (slot === undefined) return -Errno.ENOMEM; // all free elements wait for a grace period
      i = slot;
      this.mem.write(this.#elem(i), new Uint8Array(this.elemSize));
      this.mem.write(this.#elem(i) + BigInt(HTAB_ELEM_KEY), key.subarray(0, this.spec.keySize));
      this.#index.set(k, i);
    }
    this.mem.write(this.#elem(i) + BigInt(this.valueOffset), value.subarray(0, this.spec.valueSize));
    return 0;
  }

  delete(key: Uint8Array): number {
    const k = keyOf(key);
    const i = this.#index.get(k);
    if (i === undefined) return -Errno.ENOENT;
    this.#index.delete(k);
    this.#retired.push(i);
    return 0;
  }

  /** synchronize_rcu(): deleted elements become reusable. */
  gracePeriod(): void {
    this.#free.push(...this.#retired);
    this.#retired = [];
  }

  /** Every (key, value) pair, for inspection. */
  entries(): [Uint8Array, Uint8Array][] {
    return [...this.#index.values()].map((i) => [
      this.mem.read(this.#elem(i) + BigInt(HTAB_ELEM_KEY), this.spec.keySize),
      this.mem.read(this.#elem(i) + BigInt(this.valueOffset), this.spec.valueSize),
    ]);
  }
}

const keyOf = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');

export type EmuMap = ArrayMap | ProgArrayMap | HashMap;

/** Creates the emulated map for `spec` (object map `index`). */
export function createMap(mem: KernelMemory, jit: JitProfile, index: number, spec: MapSpec): EmuMap {
  switch (spec.type) {
    case MapType.ARRAY:
      return new ArrayMap(mem, jit, index, spec);
    case MapType.PROG_ARRAY:
      return new ProgArrayMap(mem, jit, index, spec);
    case MapType.HASH:
      return new HashMap(mem, jit, index, spec);
    default:
      throw new KernelError('kernel.map-not-modeled', `map ${spec.name}: map type ${spec.type} is not modeled (array, prog array and hash maps are)`);
  }
}
