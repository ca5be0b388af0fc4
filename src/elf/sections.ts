// libbpf 1.1's section-name -> program-type table, for the types tailjit models. libbpf matches
// these names exactly (none of them takes a "/suffix"); its other names (kprobe/, xdp/devmap,
// ...) are real program types that tailjit does not model.

import type { ProgTypeName } from './types.js';

const SECTION_TYPES: ReadonlyMap<string, ProgTypeName> = new Map([
  ['socket', 'socket_filter'],
  ['tc', 'sched_cls'],
  ['classifier', 'sched_cls'],
  ['xdp', 'xdp'],
]);

export function progTypeOfSection(name: string): ProgTypeName | undefined {
  return SECTION_TYPES.get(name);
}

export const KNOWN_SECTIONS: readonly string[] = [...SECTION_TYPES.keys()];
