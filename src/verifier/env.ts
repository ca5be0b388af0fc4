// The verifier's working state (`struct bpf_verifier_env`, the parts this model needs): the
// slots being rewritten, per-slot aux data, subprogram info, the poke table and line_info.
// Patching and removal keep jumps, call offsets, subprogram starts, poke indices and line_info
// in step exactly as bpf_patch_insn_data() / verifier_remove_insns() do, so later passes see
// the kernel's indices. Errors name slots of the program as loaded (the aux data's orig_idx).

import type { LineInfo, MapSpec, ObjectFile, ProgramSpec } from '../elf/types.js';
import type { Profile } from '../profile/index.js';
import type { KernelLayout } from './types.js';
import { Class, JmpOp, CallSrc, classOf, opOf } from '../isa/index.js';
import { GOTOL_CODE, cloneK, type KInsn } from './kinsn.js';
import { notModeled, VerifierError } from './errors.js';
import { adjLinfo, adjLinfoAfterRemove, findLinfo } from './linfo.js';

/** What the verifier learnt about one slot (`struct bpf_insn_aux_data`). */
export interface InsnAux {
  seen: boolean;
  /**
   * `orig_idx`: the slot's index in the program as loaded. The kernel zeroes it for the slots a
   * patch adds; here they keep the index of the instruction they replace, so that an error at
   * one still points at an instruction the user wrote.
   */
  readonly origIdx: number;
  /** ld_imm64 first slot: the map it names. */
  ldMap?: { readonly index: number; readonly kind: 'fd' | 'value'; readonly off: number };
  /** A load or store whose base was the context: access size and (for narrow loads) field size. */
  ctx?: { readonly off: number; readonly size: number; readonly write: boolean };
  /** Helper calls taking a map: the map on every path, or poisoned when paths differ. */
  mapPtr?: number | 'poison';
  /** bpf_tail_call: the constant key on every path, or poisoned. */
  mapKey?: number | 'poison';
  /** Loads and stores: the kind of base pointer seen (`ptr_type`), which must not change. */
  ptrKind?: string;
}

export interface SubprogInfo {
  start: number;
  stackDepth: number;
  hasTailCall: boolean;
  hasLdAbs: boolean;
  tailCallReachable: boolean;
  name: string;
  /** Global (BTF linkage) functions are verified on their own with unknown arguments. */
  global: boolean;
}

export interface Poke {
  insnIdx: number;
  mapIndex: number;
  key: number;
}

export interface VerifyOptions {
  readonly profile: Profile;
  readonly layout: KernelLayout;
  readonly backend: 'jit' | 'interp';
  /** Loader has CAP_BPF/CAP_SYS_ADMIN (koracle runs as root). Unprivileged loads are not modeled. */
  readonly privileged?: boolean;
}

export class Env {
  slots: KInsn[];
  aux: InsnAux[];
  subprogs: SubprogInfo[] = [];
  pokes: Poke[] = [];
  usedMaps: number[] = [];
  /** `prog->aux->linfo`: the program's line_info, `insnOff` a slot of `slots` (sorted). */
  readonly lineInfo: LineInfo[];
  /** Things this model approximates or skips, for `--json` ("not checked"). */
  readonly notChecked: string[] = [];

  constructor(
    readonly program: ProgramSpec,
    readonly object: ObjectFile,
    readonly options: VerifyOptions,
    slots: KInsn[],
  ) {
    this.slots = slots;
    this.aux = slots.map((_, origIdx) => ({ seen: false, origIdx }));
    this.lineInfo = [...program.lineInfo];
  }

  get len(): number {
    return this.slots.length;
  }

  get jitRequested(): boolean {
    return this.options.backend === 'jit';
  }

  map(index: number): MapSpec {
    return this.object.maps[index];
  }

  /** Slot after the last one of subprogram `i` (the kernel's fake 'exit' subprog start). */
  subprogEnd(i: number): number {
    return i + 1 < this.subprogs.length ? this.subprogs[i + 1].start : this.len;
  }

  findSubprog(start: number): number {
    return this.subprogs.findIndex((s) => s.start === start);
  }

  /** Index of the subprogram containing `slot`. */
  subprogOf(slot: number): number {
    let idx = 0;
    for (let i = 0; i < this.subprogs.length; i++) if (this.subprogs[i].start <= slot) idx = i;
    return idx;
  }

  /** Rejects the program for the rule `code` at slot `slot` of the program as it stands. */
  fail(code: ConstructorParameters<typeof VerifierError>[0], message: string, slot?: number, notes: string[] = []): never {
    const orig = this.origSlot(slot);
    throw new VerifierError(code, message, orig, notes, this.sourceOf(orig));
  }

  /** notModeled() for slot `slot` of the program as it stands. */
  notModeled(what: string, slot: number): VerifierError {
    const orig = this.origSlot(slot);
    return notModeled(what, orig, this.sourceOf(orig));
  }

  /** The index in the program as loaded of slot `slot` of the program as it stands. */
  private origSlot(slot: number | undefined): number | undefined {
    return slot === undefined ? undefined : this.aux[slot]?.origIdx ?? slot;
  }

  /** The C source line of a slot of the program as loaded (BTF line_info), for messages. */
  private sourceOf(slot: number | undefined): { file?: string; line?: number; column?: number } {
    const l = slot === undefined ? undefined : findLinfo(this.program.lineInfo, slot);
    return l ? { file: l.file, line: l.line, column: l.column } : { file: this.object.path };
  }

  /**
   * bpf_patch_insn_data(): replaces slot `off` by `patch`. The original aux data moves to the
   * last patch slot, the others inherit its `seen`; branches crossing the patch, later
   * subprogram starts, later poke sites and line_info records (bpf_adj_linfo()) move by
   * `patch.length - 1`. A jump whose offset leaves 16 bits fails as in bpf_patch_insn_data().
   */
  patch(off: number, patch: readonly KInsn[]): void {
    const cnt = patch.length;
    if (cnt === 1) {
      this.slots[off] = cloneK(patch[0]);
      return;
    }
    const delta = cnt - 1;
    const old = this.aux[off];
    this.slots.splice(off, 1, ...patch.map(cloneK));
    const fresh: InsnAux[] = [];
    for (let i = 0; i < delta; i++) fresh.push({ seen: old.seen, origIdx: old.origIdx });
    this.aux.splice(off, 0, ...fresh);
    if (!adjBranches(this.slots, off, off + 1, off + cnt)) {
      this.fail('verifier.patch-range', `insn ${old.origIdx} cannot be patched due to 16-bit range`, off);
    }
    for (const s of this.subprogs) if (s.start > off) s.start += delta;
    for (const p of this.pokes) if (p.insnIdx > off) p.insnIdx += delta;
    adjLinfo(this.lineInfo, off, delta);
  }

  /** verifier_remove_insns(): drops `cnt` slots at `off` with their line_info, and subprograms left empty. */
  remove(off: number, cnt: number): void {
    this.slots.splice(off, cnt);
    this.aux.splice(off, cnt);
    adjBranches(this.slots, off, off + cnt, off);
    this.adjustSubprogStartsAfterRemove(off, cnt);
    for (const p of this.pokes) if (p.insnIdx >= off + cnt) p.insnIdx -= cnt;
    adjLinfoAfterRemove(this.lineInfo, off, cnt, this.len);
  }

  private adjustSubprogStartsAfterRemove(off: number, cnt: number): void {
    const starts = [...this.subprogs.map((s) => s.start), this.len + cnt];
    const n = this.subprogs.length;
    let i = 0;
    while (i < n && starts[i] < off) i++;
    let j = i;
    while (j < n && starts[j] < off + cnt) j++;
    if (starts[j] !== off + cnt) j--;
    if (j > i) {
      this.subprogs.splice(i, j - i);
    } else if (i < n && this.subprogs[i].start === off) {
      i++;
    }
    for (; i < this.subprogs.length; i++) this.subprogs[i].start -= cnt;
  }
}

/**
 * bpf_adj_branches() with bpf_adj_delta_to_off()/_imm(): positions are the new indices. False
 * when a jump's offset leaves the s16 range (-ERANGE); a removal never does that.
 */
function adjBranches(slots: KInsn[], pos: number, endOld: number, endNew: number): boolean {
  const delta = endNew - endOld;
  for (let i = 0; i < slots.length; i++) {
    const k = slots[i];
    const cls = classOf(k.code);
    if ((cls !== Class.JMP && cls !== Class.JMP32) || opOf(k.code) === JmpOp.EXIT) continue;
    if (opOf(k.code) === JmpOp.CALL) {
      if (k.src !== CallSrc.LOCAL || cls !== Class.JMP) continue;
      k.imm = adjusted(i, k.imm, pos, endOld, endNew, delta);
    } else if (k.code === GOTOL_CODE) {
      k.imm = adjusted(i, k.imm, pos, endOld, endNew, delta); // gotol: a 32-bit offset in imm
    } else {
      const off = adjusted(i, k.off, pos, endOld, endNew, delta);
      if (off < -32768 || off > 32767) return false;
      k.off = off;
    }
  }
  return true;
}

function adjusted(curr: number, off: number, pos: number, endOld: number, endNew: number, delta: number): number {
  if (curr < pos && curr + off + 1 >= endOld) return off + delta;
  if (curr >= endNew && curr + off + 1 < endNew) return off - delta;
  return off;
}
