// What a run sees of the world beyond its program and input: extra memory regions (map values),
// the values of pseudo ld_imm64 loads (a loader's job, resolved here through a callback) and the
// prog arrays that bpf_tail_call reaches.
//
// `Environment` is a small ready-made one: it places prog arrays at fake map addresses (no
// readable memory there, as a `struct bpf_map *` is nothing a program may dereference) and
// resolves `ld_imm64 rD, map_fd` to them; regions registered with a map fd also resolve
// BPF_PSEUDO_MAP_VALUE (imm = fd, second imm = offset into the value).

import { PseudoSrc, type Insn } from '../isa/index.js';
import { ENV_REGION_BASE, ENV_REGION_STRIDE, type RegionSpec } from './memory.js';
import type { InterpProgram } from './program.js';

export interface ProgArray {
  readonly maxEntries: number;
  /** Slot i holds the program a tail call with index i enters, or null (empty slot). */
  readonly slots: (InterpProgram | null)[];
}

export interface PseudoSite {
  readonly program: InterpProgram;
  readonly slot: number;
}

export interface InterpEnvironment {
  /** Memory besides the stacks and the input; read when an Interpreter is constructed. */
  readonly regions?: readonly RegionSpec[];
  /** The 64-bit value of an ld_imm64 whose src is a pseudo source (1..6), or undefined if unknown. */
  resolveLdImm64?(insn: Insn, site: PseudoSite): bigint | undefined;
  /** The prog array that a bpf_tail_call's r2 designates, or undefined. */
  progArrayAt?(addr: bigint): ProgArray | undefined;
}

/** Where `Environment` places fake map objects (prog arrays): a page each. */
export const MAP_OBJECT_BASE = 0xffff888300000000n;
const MAP_OBJECT_STRIDE = 0x1000n;

export class Environment implements InterpEnvironment {
  readonly regions: RegionSpec[] = [];
  private readonly progArrays = new Map<bigint, ProgArray>();
  private readonly mapByFd = new Map<number, bigint>();
  private readonly valueByFd = new Map<number, bigint>();
  private nextFd = 3;

  /** Registers a prog array; returns its address (what r2 must hold) and its fd. */
  addProgArray(array: ProgArray, fd = this.nextFd): { address: bigint; fd: number } {
    this.claimFd(fd);
    const address = MAP_OBJECT_BASE + BigInt(this.progArrays.size) * MAP_OBJECT_STRIDE;
    this.progArrays.set(address, array);
    this.mapByFd.set(fd, address);
    return { address, fd };
  }

  /**
   * Registers memory the program may touch (e.g. an array map's value); returns its base address.
   * With `mapFd`, `ld_imm64 rD, map_value(fd, off)` resolves to base + off.
   */
  addRegion(name: string, bytes: Uint8Array, options: { writable?: boolean; mapFd?: number } = {}): bigint {
    const base = ENV_REGION_BASE + BigInt(this.regions.length) * ENV_REGION_STRIDE;
    if (options.mapFd !== undefined) {
      this.claimFd(options.mapFd);
      this.valueByFd.set(options.mapFd, base);
    }
    this.regions.push({ name, base, bytes, writable: options.writable ?? true });
    return base;
  }

  resolveLdImm64(insn: Insn): bigint | undefined {
    switch (insn.src) {
      case PseudoSrc.MAP_FD:
        return this.mapByFd.get(insn.imm);
      case PseudoSrc.MAP_VALUE: {
        const base = this.valueByFd.get(insn.imm);
        return base === undefined ? undefined : base + BigInt(insn.immHi >>> 0);
      }
      default:
        return undefined;
    }
  }

  progArrayAt(addr: bigint): ProgArray | undefined {
    return this.progArrays.get(addr);
  }

  private claimFd(fd: number): void {
    this.nextFd = Math.max(this.nextFd, fd + 1);
  }
}

/** A prog array of `maxEntries` empty slots, with `entries` filled in. */
export function progArray(maxEntries: number, entries: Readonly<Record<number, InterpProgram>> = {}): ProgArray {
  const slots: (InterpProgram | null)[] = new Array(maxEntries).fill(null);
  for (const [k, p] of Object.entries(entries)) slots[Number(k)] = p;
  return { maxEntries, slots };
}
