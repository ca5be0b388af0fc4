// The program as the kernel's BPF_OBJ_GET_INFO_BY_FD dump shows it (bpf_insn_prepare_dump()
// for a privileged reader, and what jit_subprogs() leaves in the kept instructions): map
// addresses back as `src = BPF_PSEUDO_MAP_FD/VALUE` with the map id (and the value offset in
// the second slot), BPF_TAIL_CALL as `call 12`, and pseudo calls with `off` = the relative
// offset and `imm` = the callee's function index. This is what koracle's `xlated_hex` holds.

import { CallSrc, Class, JmpOp, LD_IMM64, PseudoSrc, BPF_FUNC_tail_call, insn as makeInsn, type Insn } from '../isa/index.js';
import type { VerifiedProgram } from './types.js';
import { TAIL_CALL_CODE } from './kinsn.js';

export interface MapRef {
  readonly index: number;
  readonly kind: 'fd' | 'value';
  readonly off: number;
}

/** Per program: the map each ld_imm64 (by instruction index) refers to. */
const MAP_REFS = new WeakMap<VerifiedProgram, ReadonlyMap<number, MapRef>>();

export function rememberMapRefs(vp: VerifiedProgram, refs: ReadonlyMap<number, MapRef>): void {
  MAP_REFS.set(vp, refs);
}

/** The map an ld_imm64 of `vp` (by instruction index) refers to. */
export function mapRefOf(vp: VerifiedProgram, index: number): MapRef | undefined {
  return MAP_REFS.get(vp)?.get(index);
}

/**
 * `mapId` turns an object map index into the id the dump shows (default: the index itself;
 * a golden's ids are `map_ids[usedMaps.indexOf(index)]`).
 */
export function xlatedForDump(vp: VerifiedProgram, mapId: (index: number) => number = (i) => i): Insn[] {
  const refs = MAP_REFS.get(vp) ?? new Map<number, MapRef>();
  const starts = vp.funcs.map((f) => f.start);
  let slot = 0;
  return vp.insns.map((i, n) => {
    const at = slot;
    slot += i.code === LD_IMM64 ? 2 : 1;
    if (i.code === LD_IMM64) {
      const ref = refs.get(n);
      if (!ref) return i;
      return makeInsn(i.code, i.dst, ref.kind === 'fd' ? PseudoSrc.MAP_FD : PseudoSrc.MAP_VALUE, i.off, mapId(ref.index), ref.off);
    }
    if (i.code === TAIL_CALL_CODE) return makeInsn(Class.JMP | JmpOp.CALL, i.dst, i.src, i.off, BPF_FUNC_tail_call);
    if (i.code === (Class.JMP | JmpOp.CALL) && i.src === CallSrc.LOCAL) {
      return makeInsn(i.code, i.dst, i.src, i.imm, starts.indexOf(at + 1 + i.imm));
    }
    return i;
  });
}
