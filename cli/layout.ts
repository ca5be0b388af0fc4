// The kernel addresses `tailjit load` verifies against: the emulated kernel's own (emu/kernel),
// so that `load` shows the xlated program `run` will use. A fresh Kernel gets the object's maps
// first, as a run's kernel does; its KernelLayout is extended with what the dump and the
// listings need (map ids, names of call targets).

import { Kernel } from '../emu/kernel/kernel.js';
import type { ObjectFile } from '../src/elf/index.js';
import type { Profile } from '../src/profile/index.js';
import type { KernelLayout } from '../src/verifier/index.js';

export interface LoadLayout extends KernelLayout {
  /**
   * The id the kernel gives map `index`: ids count from 1 in creation order on a fresh kernel,
   * and libbpf creates an object's maps in object order.
   */
  mapId(index: number): number;
  /** The kernel text symbol at exactly `address`, for naming call targets. */
  symbolAt(address: bigint): string | undefined;
  /** Releases the emulated kernel; the addresses stay readable. */
  close(): void;
}

export function kernelLayout(object: ObjectFile, profile: Profile): LoadLayout {
  const kernel = new Kernel({ profile });
  try {
    const inner = kernel.layout(kernel.addMaps(object.maps));
    return {
      ...inner,
      mapId: (index) => index + 1,
      symbolAt: symbolNames(kernel.symbolTable),
      close: () => kernel.close(),
    };
  } catch (e) {
    kernel.close();
    throw e;
  }
}

/** Names the kernel text symbol at exactly an address (for call targets in listings). */
export function symbolNames(symbolTable: ReadonlyMap<string, bigint>): (address: bigint) => string | undefined {
  const names = new Map<bigint, string>();
  for (const [name, at] of symbolTable) names.set(at, name);
  return (address) => names.get(address);
}
