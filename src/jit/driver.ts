// The pass driver (`bpf_int_jit_compile`, x86-jit.md §7.2) and the multi-function round
// (`jit_subprogs`, tailcalls.md §3.4): 64-byte estimates, size passes until two consecutive
// lengths agree (at most the profile's limit), allocation, one writing pass; for programs with
// subprograms a first round with placeholder call targets, then an extra pass per function.

import { Layout, type Insn } from '../isa/insn.js';
import { CallSrc, Class, JmpOp } from '../isa/opcode.js';
import type { Profile } from '../profile/index.js';
import type { VerifiedProgram } from '../verifier/types.js';
import type { Frame, JitEnv } from './context.js';
import { EXTABLE_ALIGN, EXTABLE_ENTRY_SIZE, doJit, type JitContext, type JitFuncInput, type JitImage, type PassEnv } from './do-jit.js';
import { JitBug, JitError } from './errors.js';
import { imageMemory, tailCallDirectFixup } from './poke.js';
import { detectRegUsage } from './prologue.js';
import { checkSupported, isProbeMem } from './supported.js';
import type { DirectPokeSites } from './tailcall.js';
import type { ImageAllocator, JitFunc, JitOptions, JitPoke, JitResult } from './types.js';

/** Estimate of every instruction's (and the prologue's) size before the first pass. */
const INITIAL_INSN_ESTIMATE = 64;
const PAGE_SIZE = 4096;

const isPseudoCall = (i: Insn): boolean => i.code === (Class.JMP | JmpOp.CALL) && i.src === CallSrc.LOCAL;
const roundUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/**
 * A module-area layout: each image gets its own page-rounded allocation (the kernel's
 * `bpf_jit_binary_alloc`: size + 8-byte header + 128, rounded to pages), one after the other
 * from `base`, with the image at `header + 8 + offset` (4-byte aligned, clamped to the hole).
 */
export function moduleAreaAllocator(base = 0xffffffffc0000000n, offset = 0x1d0): ImageAllocator {
  let next = base;
  return ({ size }) => {
    const total = roundUp(size + 8 + 128, PAGE_SIZE);
    const hole = Math.min(total - (size + 8), PAGE_SIZE - 8);
    const header = next;
    next += BigInt(total);
    return header + 8n + BigInt(Math.min(offset, hole - 1) & ~3);
  };
}

/** State kept between the first round and the extra pass (`struct x64_jit_data`). */
interface KeptState {
  readonly addrs: Int32Array;
  readonly ctx: JitContext;
  readonly proglen: number;
  readonly image: JitImage;
}

interface Compiled {
  readonly kept: KeptState;
  readonly passLengths: number[];
}

/** Pokes as the passes fill them in, by poke index. */
type PokeSites = (DirectPokeSites & { func: number; slot: number })[];

/**
 * Compiles a verified program the way the profile's kernel loads it: a single function through
 * `bpf_int_jit_compile`, several through `jit_subprogs`. The direct tail-call sites are fixed up
 * for the slot contents `options.slotTarget` reports.
 */
export function jitProgram(prog: VerifiedProgram, profile: Profile, options: JitOptions): JitResult {
  const cpu = { ...profile.jit.cpu, ...options.cpu };
  // 6.1 takes x86_nops[5] whatever the CPU (x86-jit.md §8).
  const env: JitEnv = { jit: profile.jit, cpu: profile.jit.fixedNop5 ? { ...cpu, nop5: profile.jit.fixedNop5 } : cpu, symbols: options.symbols };
  const funcs = splitFuncs(prog, profile);
  const alloc = options.images ?? moduleAreaAllocator();
  const slotTarget = options.slotTarget ?? (() => null);
  const sites: PokeSites = [];
  let passes = 0;

  const passEnv = (f: JitFuncInput, callImm: PassEnv['callImm']): PassEnv => ({
    env, callImm, pokeCount: prog.pokes.length,
    onPoke: (index, s, slot) => { sites[index] = { ...s, func: f.index, slot: f.firstSlot + slot }; },
  });
  const stable = new Set<number>();
  const fixup = (f: JitFuncInput, image: JitImage): void => {
    sites.forEach((s, index) => {
      if (!s || s.func !== f.index) return;
      const p = prog.pokes[index];
      tailCallDirectFixup(imageMemory(image.bytes, image.address), { ...s, mapIndex: p.mapIndex, key: p.key, stable: false }, slotTarget(p.mapIndex, p.key), env.cpu.nop5);
      stable.add(index);
    });
  };

  const results: Compiled[] = [];
  const extra = funcs.length > 1;
  // First round: bpf2bpf calls target the placeholder __bpf_call_base + 1 (imm 1).
  for (const f of funcs) {
    const placeholder = (_slot: number, i: Insn): number => (isPseudoCall(i) ? 1 : i.imm);
    const c = bpfIntJitCompile(f, env, passEnv(f, placeholder), alloc, prog.name);
    passes += c.passLengths.length;
    results.push(c);
    if (!extra) fixup(f, c.kept.image);
  }
  if (extra) {
    // Fix-up: imm = callee->bpf_func - __bpf_call_base, stored in the s32 imm as the kernel does
    // (a callee more than 2 GiB from __bpf_call_base would wrap there too).
    const calleeImm = (f: JitFuncInput) => (slot: number, i: Insn): number => {
      if (!isPseudoCall(i)) return i.imm;
      const callee = funcs.findIndex((g) => g.firstSlot === f.firstSlot + slot + 1 + i.imm);
      return Number(BigInt.asIntN(32, results[callee].kept.image.address - env.symbols.bpfCallBase));
    };
    funcs.forEach((f, idx) => {
      try {
        extraPass(f, results[idx].kept, passEnv(f, calleeImm(f)));
      } catch (err) {
        if (err instanceof JitError) {
          throw new JitError('jit.bpf2bpf-unsupported', `JIT doesn't support bpf-to-bpf calls: the extra pass of function ${idx} failed: ${err.message}`, err.location, { func: idx, notes: err.notes });
        }
        throw err;
      }
      passes += 1;
      fixup(f, results[idx].kept.image);
    });
  }

  const out: JitFunc[] = funcs.map((f, idx) => toJitFunc(f, results[idx], extra));
  const pokes: JitPoke[] = [];
  prog.pokes.forEach((p, index) => {
    const s = sites[index];
    if (!s) return; // a descriptor no instruction of the program uses: nothing to patch
    pokes.push({
      tailcallTarget: s.tailcallTarget, tailcallBypass: s.tailcallBypass, bypassAddr: s.bypassAddr, adjOff: s.adjOff,
      stable: stable.has(index), mapIndex: p.mapIndex, key: p.key, func: s.func, insnIdx: p.insnIdx,
    });
  });
  return { funcs: out, pokes, passes };
}

/**
 * `bpf_int_jit_compile` for one function: size passes from the 64-byte estimates until the
 * length repeats, then allocation and the image pass.
 */
function bpfIntJitCompile(f: JitFuncInput, env: JitEnv, pass: PassEnv, alloc: ImageAllocator, progName: string): Compiled {
  const addrs = new Int32Array(f.len + 1);
  for (let j = 0; j <= f.len; j++) addrs[j] = INITIAL_INSN_ESTIMATE * (j + 1);
  const ctx: JitContext = { cleanupAddr: INITIAL_INSN_ESTIMATE * (f.len + 1) };
  const passLengths: number[] = [];
  let image: JitImage | null = null;
  let oldproglen = 0;
  const padFrom = env.jit.jmpPaddingPass;
  for (let p = 0; p < env.jit.maxPasses || image; p++) {
    const proglen = doJit(f, addrs, image, oldproglen, ctx, pass, padFrom !== null && p >= padFrom);
    passLengths.push(proglen);
    if (image) {
      if (proglen !== oldproglen) {
        throw new JitBug('jit.bug.proglen', `bpf_jit: proglen=${proglen} != oldproglen=${oldproglen}`, {}, f.index);
      }
      return { kept: { addrs, ctx, proglen, image }, passLengths };
    }
    if (proglen === oldproglen) image = allocImage(f, proglen, alloc, progName);
    oldproglen = proglen;
  }
  throw new JitError(
    'jit.not-converged', `function ${f.index} (${f.name}) did not converge in ${env.jit.maxPasses} passes (lengths ${passLengths.join(', ')})`,
    { insn: f.firstSlot }, { func: f.index },
  );
}

/** The extra pass: one writing pass into the kept image with the kept `addrs[]` (padded in 6.1). */
function extraPass(f: JitFuncInput, kept: KeptState, pass: PassEnv): void {
  const proglen = doJit(f, kept.addrs, kept.image, kept.proglen, kept.ctx, pass, pass.env.jit.jmpPaddingPass !== null);
  if (proglen !== kept.proglen) {
    throw new JitBug('jit.bug.proglen', `bpf_jit: proglen=${proglen} != oldproglen=${kept.proglen}`, {}, f.index);
  }
}

/** `bpf_jit_binary_alloc`: code rounded to 4 bytes, then the extable; filled with int3. */
function allocImage(f: JitFuncInput, proglen: number, alloc: ImageAllocator, progName: string): JitImage {
  const extableOffset = roundUp(proglen, EXTABLE_ALIGN);
  const size = extableOffset + f.numExentries * EXTABLE_ENTRY_SIZE;
  const address = alloc({ prog: progName, func: f.index, name: f.name, size });
  if ((address & 3n) !== 0n) {
    throw new JitError('jit.alloc', `image of function ${f.index} at 0x${address.toString(16)} is not 4-byte aligned`, {}, { func: f.index });
  }
  return { address, bytes: new Uint8Array(size).fill(0xcc), extableOffset, extable: [] };
}

function toJitFunc(f: JitFuncInput, c: Compiled, extraPassDone: boolean): JitFunc {
  const { image, addrs, ctx, proglen } = c.kept;
  return {
    index: f.index,
    name: f.name,
    address: image.address,
    image: image.bytes.slice(0, proglen),
    addrs,
    cleanupAddr: ctx.cleanupAddr,
    firstSlot: f.firstSlot,
    insnSlots: f.slots,
    passes: c.passLengths.length,
    passLengths: c.passLengths,
    extraPass: extraPassDone,
    tailCallReachable: f.frame.tailCallReachable,
    calleeRegsUsed: f.frame.calleeRegsUsed,
    stackDepth: f.frame.stackDepth,
    extable: image.extable,
  };
}

/**
 * The verifier's split into `func[i]` (jit_subprogs): each function's instructions, its frame
 * (stack depth, callee-saved registers, R(f)) and PROBE_MEM count; every instruction is checked
 * against the profile first.
 */
function splitFuncs(prog: VerifiedProgram, profile: Profile): JitFuncInput[] {
  const layout = new Layout(prog.insns);
  const total = layout.slots;
  if (prog.funcs.length === 0) throw new JitError('jit.bad-program', `program ${prog.name} has no functions`);
  const starts = new Set(prog.funcs.map((f) => f.start));
  let expect = 0;
  const out = prog.funcs.map((vf, index): JitFuncInput => {
    if (vf.start !== expect || vf.end <= vf.start || vf.end > total) {
      throw new JitError('jit.bad-program', `function ${index} spans slots ${vf.start}..${vf.end}; functions must tile slots 0..${total}`, { insn: vf.start }, { func: index });
    }
    expect = vf.end;
    const first = layout.indexAt[vf.start];
    const endIndex = vf.end === total ? prog.insns.length : layout.indexAt[vf.end];
    if (first < 0 || endIndex < 0) {
      throw new JitError('jit.bad-program', `function ${index} does not start and end on instruction boundaries`, { insn: vf.start }, { func: index });
    }
    const insns = prog.insns.slice(first, endIndex);
    const slots = new Int32Array(insns.length);
    insns.forEach((insn, k) => {
      const slot = layout.slotOf[first + k];
      slots[k] = slot - vf.start;
      checkSupported(insn, slot, profile, index);
      if (isPseudoCall(insn) && !starts.has(slot + 1 + insn.imm)) {
        throw new JitError('jit.bad-subprog', `insn ${slot}: call local targets slot ${slot + 1 + insn.imm}, which starts no function`, { insn: slot }, { func: index, field: 'imm' });
      }
    });
    const { regs, tailCallSeen } = detectRegUsage(insns);
    const frame: Frame = {
      stackDepth: vf.stackDepth,
      calleeRegsUsed: regs,
      tailCallReachable: vf.tailCallReachable || tailCallSeen,
      isSubprog: index !== 0,
    };
    return {
      index, name: vf.name, insns, slots, len: vf.end - vf.start, firstSlot: vf.start, frame,
      numExentries: insns.filter(isProbeMem).length,
    };
  });
  if (expect !== total) {
    throw new JitError('jit.bad-program', `functions end at slot ${expect}, the program has ${total} slots`, { insn: expect });
  }
  return out;
}
