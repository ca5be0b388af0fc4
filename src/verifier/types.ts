// What the verifier hands to the JIT: the kernel's view of one program after
// `bpf_check()` (xlated instructions, subprog_info, poke_tab), for one profile.
//
// Everything address-like comes from a `KernelLayout` that the caller (the harness) owns, so
// that the xlated program and the JIT image hold the same addresses the emulated kernel uses.

import type { Insn } from '../isa/insn.js';
import type { LineInfo, ProgTypeName } from '../elf/types.js';

/** Addresses the verifier's rewrites need; supplied by the harness (emu/kernel). */
export interface KernelLayout {
  /** `__bpf_call_base`: helper calls become `imm = helper - __bpf_call_base`. */
  readonly bpfCallBase: bigint;
  /** Address of helper `id`'s implementation, or undefined when the kernel has none. */
  helperAddress(id: number): bigint | undefined;
  /** Address of `struct bpf_map` for the object's map `index`. */
  mapAddress(index: number): bigint;
  /** Address of the first value byte of array map `index` (global data, `PSEUDO_MAP_VALUE`). */
  mapValueAddress(index: number): bigint;
  /**
   * Address of a kernel function the verifier's rewrites call directly instead of a helper
   * (added by the verifier): `__htab_map_lookup_elem` (inlined hash lookups),
   * `array_map_update_elem`, `htab_map_update_elem`, `htab_map_delete_elem`, ... (map
   * helpers turned into the map's own operation), `bpf_skb_load_helper_{8,16,32}_no_cache`
   * (legacy packet loads). Undefined: the verifier falls back to the generic helper where that
   * is equivalent, and reports the difference in `VerifiedProgram.notChecked`.
   */
  kernelSymbol?(name: string): bigint | undefined;
}

/** One function of the program (`struct bpf_subprog_info`). */
export interface VerifiedFunc {
  /** Slot of its first instruction in `VerifiedProgram.insns`. */
  readonly start: number;
  /** Slot after its last instruction. */
  readonly end: number;
  /** The function's name from BTF func_info (or `func#i`). */
  readonly name: string;
  /** `stack_depth` as the JIT sees it (the kernel rounds it: see tailcalls.md §1.5). */
  readonly stackDepth: number;
  readonly hasTailCall: boolean;
  readonly tailCallReachable: boolean;
}

/** A direct tail call site (`struct bpf_jit_poke_descriptor`, the verifier's part of it). */
export interface PokeDescriptor {
  /** Slot of the `BPF_TAIL_CALL` instruction in `VerifiedProgram.insns`. */
  readonly insnIdx: number;
  /** Object map index of the prog array. */
  readonly mapIndex: number;
  readonly key: number;
  /** Index of the function the site lies in. */
  readonly func: number;
}

export interface VerifiedProgram {
  readonly name: string;
  readonly type: ProgTypeName;
  /**
   * The xlated program: main function first, then subprograms. `call local` keeps `src = 1`
   * and the relative slot offset in `imm`, so the callee is the function starting at
   * `slot + 1 + imm`; the JIT's placeholder/fix-up passes (tailcalls.md §3.4) are the JIT's
   * business. The kernel's *dump* form (imm = callee index) is `xlatedForDump()`'s.
   */
  readonly insns: readonly Insn[];
  readonly funcs: readonly VerifiedFunc[];
  /** `poke_tab`, in the order the verifier added them (a site's `imm` is its index + 1). */
  readonly pokes: readonly PokeDescriptor[];
  /** Object map indices the program uses (`used_maps`). */
  readonly usedMaps: readonly number[];
  /**
   * Added by the verifier: the program's BTF line_info as the kernel holds it after the
   * rewrites (`prog->aux->linfo`, what `bpftool prog dump xlated` prints): `insnOff` is a slot
   * of `insns`. Records move with every patch and removal (env.ts, linfo.ts).
   */
  readonly lineInfo?: readonly LineInfo[];
  /**
   * Added by the verifier: what this model approximates or does not check for this program
   * (for `--json`: "not checked").
   */
  readonly notChecked?: readonly string[];
  /** Added by the verifier: the profile and backend it was verified for. */
  readonly backend?: 'jit' | 'interp';
}
