// What the profile's JIT refuses before any byte is emitted (gotol being a 6.1.y backport that
// the profile lists in `jit.backports`): opcodes do_jit has no case for
// (x86-jit.md Appendix B, §7.7) and forms that share an opcode with an accepted one but arrived
// later (BPF_ATOMIC ops in an XADD, movsx in a MOV, sdiv in a DIV, kfunc calls). The error names
// the instruction, its slot and the release that added it (from the ISA's form table).

import type { Insn } from '../isa/insn.js';
import { Class, Mode, classOf, modeOf } from '../isa/opcode.js';
import { describe, formatRelease, releaseAtLeast, type Form } from '../isa/table.js';
import type { Profile } from '../profile/index.js';
import { JitError } from './errors.js';
import { BPF_REG_AX } from './x86.js';
import { BPF_TAIL_CALL } from './prologue.js';

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** `BPF_LDX | BPF_PROBE_MEM | size`: the verifier's rewrite of loads through BTF pointers. */
export const isProbeMem = (i: Insn): boolean => classOf(i.code) === Class.LDX && modeOf(i.code) === Mode.ABS;

/** `BPF_ST | BPF_NOSPEC`: the speculation barrier the verifier inserts. */
export const BPF_ST_NOSPEC = 0xc2;

/**
 * Opcodes the JIT accepts that the ISA table does not list, because only the verifier produces
 * them: the tail call (f5), the speculation barrier (c2) and the PROBE_MEM loads.
 */
const isInternal = (i: Insn): boolean => i.code === BPF_TAIL_CALL || i.code === BPF_ST_NOSPEC || isProbeMem(i);

/** Throws a JitError unless the profile's JIT compiles `i` (at program slot `slot`). */
export function checkSupported(i: Insn, slot: number, profile: Profile, func: number): void {
  const where = { insn: slot };
  const accepted = profile.jit.opcodes.includes(i.code);
  checkRegisters(i, slot, func);
  if (accepted && isInternal(i)) return;
  // AX is a JIT register but not an ISA one: classify the instruction as if it were r0.
  const d = describe({ ...i, dst: i.dst === BPF_REG_AX ? 0 : i.dst, src: i.src === BPF_REG_AX ? 0 : i.src });
  if (!d.ok) {
    if (d.field === 'code' || !accepted) {
      throw new JitError('jit.unknown-opcode', `unknown opcode ${hex2(i.code)} at insn ${slot}: ${d.reason}`, where, { func, field: d.field });
    }
    throw new JitError('jit.unsupported-insn', `insn ${slot}: ${d.reason}`, where, { func, field: d.field });
  }
  const form = d.form;
  const inRelease = form.since !== null && releaseAtLeast(profile.release, form.since);
  if (accepted && (inRelease || profile.jit.backports.includes(form.mnemonic))) return;
  throw refusal(form, i, slot, profile, func);
}

function refusal(form: Form, i: Insn, slot: number, profile: Profile, func: number): JitError {
  const where = { insn: slot };
  const what = `'${form.mnemonic}' (${form.feature}, opcode ${hex2(i.code)}) at insn ${slot}`;
  const field = form.select?.field ?? 'code';
  if (form.since === null) {
    return new JitError('jit.unsupported-insn', `${what} is in no Linux release; ${profile.name} cannot JIT it`, where, { func, field });
  }
  if (!releaseAtLeast(profile.release, form.since)) {
    return new JitError(
      'jit.unsupported-insn',
      `${what} needs Linux ${formatRelease(form.since)}; ${profile.name} models ${formatRelease(profile.release)}`,
      where, { func, field },
    );
  }
  // In the release but without a do_jit case (LD_ABS/LD_IND: the verifier rewrites them).
  return new JitError('jit.unknown-opcode', `unknown opcode ${hex2(i.code)} ('${form.mnemonic}') at insn ${slot}: the x86-64 JIT has no case for it`, where, { func, field: 'code' });
}

/** Register fields must name a JIT register (r0..r10 or AX) where they are registers. */
function checkRegisters(i: Insn, slot: number, func: number): void {
  const cls = classOf(i.code);
  const isCallOrLd = (cls === Class.JMP && (i.code & 0xf0) === 0x80) || i.code === (Class.LD | Mode.IMM | 0x18);
  const bad = (field: 'dst' | 'src', r: number) =>
    new JitError('jit.bad-register', `insn ${slot}: ${field} register ${r} is not a BPF register`, { insn: slot }, { func, field });
  if (i.dst > BPF_REG_AX) throw bad('dst', i.dst);
  if (!isCallOrLd && i.src > BPF_REG_AX) throw bad('src', i.src);
}
