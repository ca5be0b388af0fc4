// `tailjit conformance --backend jit`: each test's raw program JIT-ed by the 5.10 JIT and run in
// the emulated kernel. There is no ELF and no verifier run: the program becomes a
// VerifiedProgram directly — split into functions at `call local` targets, 512 bytes of stack
// per function, no tail calls — with the two rewrites of fixup_bpf_calls() the JIT's code relies
// on for these programs: the zero checks around division and modulo by a register (5.10.y "bpf:
// Fix 32 bit src register truncation" form, as src/verifier/fixup.ts has them), the 0 and -1
// guards of signed division (6.6+, src/verifier/fixup.ts's signedDivModPatch) and helper
// immediates as offsets from __bpf_call_base. Instructions 5.10 does not have (cpu v4, atomics
// beyond add, callx) are skipped with the feature and the release that added it.

import { TailjitError } from '../src/errors.js';
import {
  AluOp, Class, CallSrc, JmpOp, LD_IMM64, Layout, Source, classOf, describe, formatRelease, insn, opOf, releaseAtLeast,
  type Insn,
} from '../src/isa/index.js';
import type { Backend, BackendOutcome, ConformanceCase } from '../src/conformance/runner.js';
import type { Profile } from '../src/profile/index.js';
import type { VerifiedFunc, VerifiedProgram } from '../src/verifier/types.js';
import { signedDivModPatch } from '../src/verifier/fixup.js';
import { fromSlots } from '../src/verifier/kinsn.js';
import { CONFORMANCE_FUNCTIONS } from './kernel/helpers.js';
import { Machine } from './harness/machine.js';
import type { RunBudget } from './harness/run.js';

export interface JitBackendOptions {
  /** Per test (default: 100 million x86 instructions). */
  readonly budget?: RunBudget;
}

/** BPF_JMP | BPF_CALL | BPF_X: uBPF's callx, which no Linux verifier knows. */
const CALLX = Class.JMP | JmpOp.CALL | Source.X;

/** Why a test cannot run on the profile's JIT, or undefined when it can. */
export function unsupportedReason(insns: readonly Insn[], profile: Profile): string | undefined {
  for (const i of insns) {
    const d = describe(i);
    if (!d.ok) continue; // malformed: the JIT reports it as an error
    const f = d.form;
    if (f.since === null) {
      // Asked of the 6.18.44 host (programs/isa/expected/host-6.18.44-fc-v669/callx.stderr.txt).
      const answer = i.code === CALLX ? ' (the 6.18.44 verifier answers "unknown opcode 8d", EINVAL)' : '';
      return `${f.mnemonic} (${f.feature}) is in no Linux release${answer}; profile ${profile.name}`;
    }
    if (!releaseAtLeast(profile.release, f.since) && !profile.jit.backports.includes(f.mnemonic)) {
      return `${f.mnemonic} (${f.feature}) needs Linux ${formatRelease(f.since)}; profile ${profile.name}`;
    }
    if (!profile.jit.opcodes.includes(i.code)) return `${f.mnemonic} (${f.feature}) has no case in the ${profile.name} JIT (the verifier rewrites it)`;
    if (i.code === LD_IMM64 && i.src !== 0) return `${f.mnemonic} needs a loader to resolve it (no maps here)`;
    const cls = classOf(i.code);
    if ((cls === Class.ALU || cls === Class.ALU64) && (opOf(i.code) === AluOp.DIV || opOf(i.code) === AluOp.MOD) && !(i.code & Source.X) && i.imm === 0) {
      return `${f.mnemonic} by the constant 0: the ${profile.name} verifier refuses it ("div by zero")`;
    }
  }
  return undefined;
}

/** The jit backend of the conformance runner. */
export function jitBackend(profile: Profile, options: JitBackendOptions = {}): Backend {
  const budget: RunBudget = options.budget ?? { x86Insns: 100_000_000 };
  return {
    name: 'jit',
    run(c: ConformanceCase): BackendOutcome {
      const skip = unsupportedReason(c.insns, profile);
      if (skip !== undefined) return { kind: 'skipped', reason: skip };
      let machine: Machine | undefined;
      try {
        machine = new Machine({ profile, functions: CONFORMANCE_FUNCTIONS, stackRules: false });
        const vp = conformanceProgram(c.name, c.insns, machine);
        machine.load(vp);
        const r = machine.run(vp.name, { raw: c.mem, budget });
        if (r.error) return { kind: 'error', message: `${r.error.kind}: ${r.error.message}${r.error.bpf_insn !== null ? ` (insn ${r.error.bpf_insn})` : ''}` };
        return { kind: 'returned', r0: r.r0 };
      } catch (e) {
        if (e instanceof TailjitError) return { kind: 'error', message: e.format({ file: c.file }) };
        throw e;
      } finally {
        machine?.close();
      }
    },
  };
}

/** The test program as the JIT's input (see the file comment). */
export function conformanceProgram(name: string, insns: readonly Insn[], machine: Machine): VerifiedProgram {
  const layout = machine.kernel.layout();
  const base = layout.bpfCallBase;
  const patched = patchProgram(insns, (i) => {
    const signed = signedDivModPatch(i);
    if (signed) return fromSlots(signed);
    if (isDivModByReg(i)) return divModZeroCheck(i);
    if (i.code === (Class.JMP | JmpOp.CALL) && i.src === CallSrc.HELPER) {
      const addr = layout.helperAddress(i.imm);
      if (addr === undefined) throw new TailjitError('conformance.unknown-helper', `unknown func #${i.imm}`);
      return [{ ...i, imm: Number(addr - base) }];
    }
    return null;
  });
  const l = new Layout(patched);
  const starts = new Set<number>([0]);
  patched.forEach((i, k) => {
    if (i.code === (Class.JMP | JmpOp.CALL) && i.src === CallSrc.LOCAL) starts.add(l.slotOf[k] + 1 + i.imm);
  });
  const sorted = [...starts].filter((s) => s >= 0 && s < l.slots).sort((a, b) => a - b);
  const funcs: VerifiedFunc[] = sorted.map((start, k) => ({
    start, end: sorted[k + 1] ?? l.slots, name: k === 0 ? name : `func#${k}`,
    stackDepth: machine.profile.verifier.maxStack, hasTailCall: false, tailCallReachable: false,
  }));
  return { name, type: 'socket_filter', insns: patched, funcs, pokes: [], usedMaps: [], backend: 'jit' };
}

/** Unsigned division and modulo by a register (sdiv/smod have off = 1 and their own guards). */
const isDivModByReg = (i: Insn): boolean => {
  const cls = classOf(i.code);
  return (cls === Class.ALU || cls === Class.ALU64) && (opOf(i.code) === AluOp.DIV || opOf(i.code) === AluOp.MOD) && (i.code & Source.X) !== 0 && i.off === 0;
};

/** fixup_bpf_calls(): x / 0 = 0; x % 0 = x (the 32-bit form also zero-extends x). */
function divModZeroCheck(i: Insn): Insn[] {
  const is64 = classOf(i.code) === Class.ALU64;
  const jcls = is64 ? Class.JMP : Class.JMP32;
  if (opOf(i.code) === AluOp.DIV) {
    return [insn(jcls | JmpOp.JNE | Source.K, i.src, 0, 2, 0), insn(Class.ALU | AluOp.XOR | Source.X, i.dst, i.dst), insn(Class.JMP | JmpOp.JA, 0, 0, 1), i];
  }
  const seq = [insn(jcls | JmpOp.JEQ | Source.K, i.src, 0, is64 ? 1 : 2, 0), i];
  return is64 ? seq : [...seq, insn(Class.JMP | JmpOp.JA, 0, 0, 1), insn(Class.ALU | AluOp.MOV | Source.X, i.dst, i.dst)];
}

/**
 * Replaces instructions by sequences (`rewrite` returns null to keep one) and moves every jump
 * and `call local` of the original program so it reaches the same instruction, now the start
 * of its sequence (bpf_patch_insn_data's rule). Offsets inside a sequence are its own.
 */
export function patchProgram(insns: readonly Insn[], rewrite: (i: Insn) => Insn[] | null): Insn[] {
  const oldLayout = new Layout(insns);
  const pieces = insns.map((i) => rewrite(i) ?? [i]);
  const newStart: number[] = [];
  let slot = 0;
  for (const p of pieces) {
    newStart.push(slot);
    for (const i of p) slot += i.code === LD_IMM64 ? 2 : 1;
  }
  newStart.push(slot);
  const newSlotOfOld = (oldSlot: number): number => {
    const idx = oldLayout.indexAt[oldSlot];
    return idx === undefined || idx < 0 ? -1 : newStart[idx];
  };
  const out: Insn[] = [];
  pieces.forEach((p, k) => {
    const original = insns[k];
    p.forEach((i, n) => {
      const isOriginal = i === original;
      if (!isOriginal || !isJumpLike(i)) {
        out.push(i);
        return;
      }
      // The original instruction is the last of its sequence; its new slot:
      const at = newStart[k] + p.slice(0, n).reduce((s, x) => s + (x.code === LD_IMM64 ? 2 : 1), 0);
      const oldSlot = oldLayout.slotOf[k];
      const isCall = i.code === (Class.JMP | JmpOp.CALL);
      const rel = isCall ? i.imm : i.off;
      const oldTarget = oldSlot + 1 + rel;
      const target = oldTarget === oldLayout.slots ? newStart[insns.length] : newSlotOfOld(oldTarget);
      if (target < 0) {
        out.push(i); // a jump into the middle of a wide load: the JIT reports it
        return;
      }
      const moved = target - (at + 1);
      out.push(isCall ? { ...i, imm: moved } : { ...i, off: moved });
    });
  });
  return out;
}

/** Jumps with an `off`, and bpf2bpf calls with an `imm`, both relative to the next slot. */
function isJumpLike(i: Insn): boolean {
  const cls = classOf(i.code);
  if (cls !== Class.JMP && cls !== Class.JMP32) return false;
  const op = opOf(i.code);
  if (op === JmpOp.EXIT) return false;
  if (op === JmpOp.CALL) return i.src === CallSrc.LOCAL && cls === Class.JMP;
  return true;
}
