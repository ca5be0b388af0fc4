// A program loaded into the modeled kernel: verified, JIT-ed into module memory, with its
// struct bpf_prog, and the x86 layout of each of its tail-call sites found through the JIT's
// addrs[] and poke descriptors (tailcalls.md §4.1, §5.1), for the observer's hooks.

import { Layout, encode } from '../../src/isa/index.js';
import type { ProgTypeName } from '../../src/elf/types.js';
import { jitProgram } from '../../src/jit/index.js';
import type { JitFunc, JitPoke, JitResult, SlotTarget } from '../../src/jit/types.js';
import type { JitCpu, Profile } from '../../src/profile/index.js';
import type { VerifiedProgram } from '../../src/verifier/types.js';
import type { Kernel, ProgObject } from '../kernel/kernel.js';
import { HarnessError } from './errors.js';

/** BPF_JMP | BPF_TAIL_CALL, the verifier's form of `call bpf_tail_call`. */
const TAIL_CALL = 0xf5;

export interface TailCallSite {
  readonly kind: 'direct' | 'indirect';
  /** Program slot of the BPF_TAIL_CALL instruction. */
  readonly slot: number;
  readonly func: JitFunc;
  /** First byte of the sequence. */
  readonly start: bigint;
  /**
   * The counter compare: `cmp eax, MAX_TAIL_CALL_CNT` (eax holds the counter there), or under
   * `jit.tailCallCounter: 'tcc-ptr'` `cmp qword [rax], MAX_TAIL_CALL_CNT` (rax points at it).
   */
  readonly compare: bigint;
  /** Direct: site 2 (`tailcall_target`); indirect: the final jump to rcx. */
  readonly jump: bigint;
  /** `out:`, the next instruction (where a refused tail call continues). */
  readonly out: bigint;
  readonly poke?: JitPoke;
}

export interface LoadedProgram {
  readonly name: string;
  readonly type: ProgTypeName;
  readonly section?: string;
  readonly verified: VerifiedProgram;
  readonly jit: JitResult;
  readonly object: ProgObject;
  readonly sites: readonly TailCallSite[];
}

/** Bytes of the final indirect jump (J, tailcalls.md §4.2). */
export function indirectJumpBytes(cpu: JitCpu): number {
  switch (cpu.indirectJump) {
    case 'thunk':
    case 'lfence':
      return 5;
    case 'plain':
      return 2;
    case 'inline-retpoline':
      return 17;
  }
}

/**
 * Offset of the counter compare from the start of an indirect sequence: after mov edx, cmp, jbe
 * and the 6-byte counter load (`slot`) or the 7-byte pointer load (`tcc-ptr`).
 */
const INDIRECT_COMPARE = { slot: 13, 'tcc-ptr': 14 } as const;
/** From the compare of a direct sequence to its site 1: cmp 3, ja 2, add 3, mov 6 (`slot`); cmp 4, jae 2 (`tcc-ptr`). */
const DIRECT_COMPARE_TO_BYPASS = { slot: 14, 'tcc-ptr': 6 } as const;
/** The compare's first bytes: `cmp eax, imm8` (83 f8) or `cmp qword [rax], imm8` (48 83 38). */
const COMPARE_OPCODE = { slot: [0x83, 0xf8], 'tcc-ptr': [0x48, 0x83, 0x38] } as const;

/**
 * JITs `vp` into `kernel`'s module area, writes the images and its struct bpf_prog.
 * `slotTarget` gives the prog-array contents for the direct-tail-call fix-up.
 */
export function loadVerified(kernel: Kernel, vp: VerifiedProgram, slotTarget: SlotTarget, section?: string): LoadedProgram {
  const jit = jitProgram(vp, kernel.profile, { symbols: kernel.jitSymbols, images: kernel.imageAllocator, slotTarget });
  for (const f of jit.funcs) {
    kernel.writeImage(f.address, f.image);
    kernel.mem.regions.addSymbol(f.address, f.index === 0 ? vp.name : `${vp.name}/${f.name}`);
  }
  const jitedLen = jit.funcs.reduce((n, f) => n + f.image.length, 0);
  const object = kernel.addProgObject(vp.name, vp.type, jit.funcs[0].address, encode(vp.insns), jitedLen);
  const sites = findTailCallSites(kernel, vp, jit);
  return { name: vp.name, type: vp.type, ...(section !== undefined ? { section } : {}), verified: vp, jit, object, sites };
}

function findTailCallSites(kernel: Kernel, vp: VerifiedProgram, jit: JitResult): TailCallSite[] {
  const layout = new Layout(vp.insns);
  const out: TailCallSite[] = [];
  const form = kernel.profile.jit.tailCallCounter;
  vp.insns.forEach((insn, i) => {
    if (insn.code !== TAIL_CALL) return;
    const slot = layout.slotOf[i];
    const func = [...jit.funcs].reverse().find((f) => f.firstSlot <= slot)!;
    const s = slot - func.firstSlot;
    const start = func.address + BigInt(func.addrs[s]);
    const end = func.address + BigInt(func.addrs[s + 1]);
    if (insn.imm !== 0) {
      const poke = jit.pokes.find((p) => p.insnIdx === slot);
      if (!poke) throw bug(vp.name, slot, 'a direct tail call without a poke descriptor');
      out.push({ kind: 'direct', slot, func, start, compare: poke.tailcallBypass - BigInt(DIRECT_COMPARE_TO_BYPASS[form]), jump: poke.tailcallTarget, out: poke.bypassAddr, poke });
    } else {
      const j = BigInt(indirectJumpBytes(kernel.profile.jit.cpu));
      out.push({ kind: 'indirect', slot, func, start, compare: start + BigInt(INDIRECT_COMPARE[form]), jump: end - j, out: end });
    }
  });
  for (const site of out) checkCompare(kernel, kernel.profile, vp.name, site);
  return out;
}

/** The hooks read the counter at its compare (83 f8 ib, or 48 83 38 ib): make sure that is what is there. */
function checkCompare(kernel: Kernel, profile: Profile, prog: string, site: TailCallSite): void {
  const want = [...COMPARE_OPCODE[profile.jit.tailCallCounter], profile.jit.maxTailCallCnt];
  const b = kernel.mem.read(site.compare, want.length);
  if (want.some((v, k) => b[k] !== v)) {
    throw bug(prog, site.slot, `expected ${Buffer.from(want).toString('hex')} (the counter compare) at 0x${site.compare.toString(16)}, found ${Buffer.from(b).toString('hex')}`);
  }
}

function bug(prog: string, slot: number, what: string): HarnessError {
  return new HarnessError('harness.bug', `${prog} insn ${slot}: ${what} (the JIT's layout and the harness disagree)`);
}
