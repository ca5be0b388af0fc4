// What the ELF loader hands to the verifier: a clang BPF object as libbpf would prepare it
// for BPF_PROG_LOAD, before the kernel has seen it.
//
// Conventions (libbpf's, with map indices standing in for file descriptors):
// - `ProgramSpec.insns` is the program's own function followed by every subprogram it
//   calls (transitively), appended in libbpf's order; `call local` immediates are relative
//   slot offsets into that array (target slot = call slot + 1 + imm).
// - A map reference is `ld_imm64` with `src = PSEUDO_MAP_FD` and `imm = map index` into
//   `ObjectFile.maps`; a global variable reference is `src = PSEUDO_MAP_VALUE`,
//   `imm = map index` of its section's map and `immHi = offset` in the section.

import type { Insn } from '../isa/insn.js';
import type { Btf } from './btf.js';

/** enum bpf_map_type values from include/uapi/linux/bpf.h. */
export const MapType = {
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
} as const;

/** enum bpf_prog_type values. */
export const ProgType = {
  SOCKET_FILTER: 1,
  SCHED_CLS: 3,
  XDP: 6,
} as const;

export type ProgTypeName = 'socket_filter' | 'sched_cls' | 'xdp';

export interface MapSpec {
  /**
   * The C name (`jmp_table`), or for global data libbpf's internal map name: up to 8
   * characters of the object name before the section name (`tail_fro.bss`, `calls.rodata`),
   * no prefix for a section name with a second dot (`.rodata.str1.1`). See `section`.
   */
  readonly name: string;
  /** Global-data maps: the ELF section (`.bss`, `.data`, `.rodata`, `.rodata.str1.1`). */
  readonly section?: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Global-data maps: the section's initial bytes (zeros for `.bss`). */
  readonly initial?: Uint8Array;
  /** Global-data maps: the variables in the section, from BTF DATASEC, by offset. */
  readonly vars?: readonly GlobalVar[];
  /**
   * `.rodata*` maps: libbpf freezes them after filling them (bpf_map_freeze), so together with
   * BPF_F_RDONLY_PROG in `flags` the verifier may read their bytes as known constants.
   */
  readonly frozen?: boolean;
  /**
   * Prog arrays defined with `__array(values, ...)`: the program (by name) libbpf stores into
   * each slot after loading, `null` for slots left empty.
   */
  readonly values?: readonly (string | null)[];
  /** BTF type ids of key and value, when known (for decoding globals and for the verifier). */
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
}

export interface GlobalVar {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** BTF type id of the variable's type. */
  readonly typeId: number;
}

export interface FuncInfo {
  /** Slot of the function's first instruction within `ProgramSpec.insns`. */
  readonly insnOff: number;
  readonly name: string;
  readonly typeId: number;
}

export interface LineInfo {
  /** Slot within `ProgramSpec.insns`. */
  readonly insnOff: number;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The source line's text as BTF.ext records it. */
  readonly text: string;
}

export interface ProgramSpec {
  /** The C function name. */
  readonly name: string;
  /** The ELF section (`tc`, `xdp`, `socket`, ...). */
  readonly section: string;
  readonly type: ProgTypeName;
  readonly insns: readonly Insn[];
  /** Functions in `insns`, the program's own first, in order of their first slot. */
  readonly funcs: readonly FuncInfo[];
  readonly lineInfo: readonly LineInfo[];
  readonly license: string;
}

export interface ObjectFile {
  readonly path?: string;
  readonly programs: readonly ProgramSpec[];
  readonly maps: readonly MapSpec[];
  /** The parsed BTF after libbpf's DATASEC fix-ups, for decoding globals (src/elf/btf.ts). */
  readonly btf?: Btf;
}
