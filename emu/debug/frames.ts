// The frame chain as the kernel sees it, unwound from the emulated registers and stack: each
// JIT-ed function keeps rbp as its frame base with the saved rbp at [rbp] and the return
// address at [rbp+8] (tailcalls.md §1.5); a tail-call target reuses the frame of the function it
// replaced (§1.4, §3.2), so a chain entry -> middle -> deep -(tail call)-> target shows target
// where deep was. Each frame's tail call counter is read where the JIT keeps it: the dword at
// [rbp - round_up(stack_depth, 8) - 4] once the prologue's `push rax` has run, and the high
// dword of rax before that (the value a tail call or a bpf2bpf call hands over); under tcc_ptr
// (6.18, §9.2) the run's one counter through the pointer at [rbp - round_up(stack_depth, 8) - 16],
// or through rax (a count up to the limit, else a pointer) before the prologue stored it. The
// observer's model of the same frames adds the names of the functions a frame held before its
// tail calls.

import type { LineInfo } from '../../src/elf/types.js';
import type { ObservedFrame } from '../harness/index.js';
import type { CodeMap, FuncImage } from './code-map.js';
import type { Registers } from './registers.js';

/** Where a frame's counter was read: `pointer` = through a tcc_ptr (`address` is the counter's). */
export type CounterSource = 'slot' | 'rax' | 'fresh' | 'pointer';

export interface Frame {
  readonly level: number;
  /** rip for the innermost frame, the return address for the others. */
  readonly pc: bigint;
  /** Set for a frame in a JIT image. */
  readonly image?: FuncImage;
  /** Program slot of the BPF instruction (the call, in an outer frame); null in the prologue. */
  readonly slot?: number | null;
  readonly line?: LineInfo;
  /** Set for kernel text (helper, thunk, the test run's entry stub). */
  readonly kernel?: string;
  /** The frame's rbp (its base: saved rbp at [base], return address at [base + 8]). */
  readonly base: bigint | null;
  /** Where the frame's return address is (a JIT-ed frame). */
  readonly retSlot?: bigint;
  /** The function's BPF stack_depth. */
  readonly stackDepth: number | null;
  readonly tcc: { readonly value: number; readonly source: CounterSource; readonly address?: bigint } | null;
  /** The observer's model: the function first entered in this frame, then each tail-call target. */
  readonly names: readonly string[];
  /** The observer's counter for the frame (null when none is modeled). */
  readonly modelTcc: number | null;
}

export interface UnwindContext {
  readonly code: CodeMap;
  readonly regs: Registers;
  readU64(address: bigint): bigint | undefined;
  readU32(address: bigint): number | undefined;
  /** Where the entry stub's call returns (the bottom of every chain). */
  readonly entryReturn: bigint;
  readonly observed: readonly ObservedFrame[];
}

const MAX_FRAMES = 64;
/** Prologue offsets (tailcalls.md §1.1): push rbp, mov rbp,rsp (3 bytes), then the landing (5.10: 7, 8, 11). */
const pushRbpAt = (ctx: UnwindContext): number => ctx.code.tailCallOffset - 4;
const movRbpAt = (ctx: UnwindContext): number => ctx.code.tailCallOffset - 3;

export const SDR = (stackDepth: number): number => (stackDepth + 7) & ~7;

export function unwind(ctx: UnwindContext): Frame[] {
  const frames: Frame[] = [];
  let pc = ctx.regs.rip;
  let rsp = ctx.regs.rsp;
  let rbp = ctx.regs.rbp;
  for (let level = 0; level < MAX_FRAMES; level++) {
    const image = ctx.code.imageAt(pc);
    if (image) {
      const off = Number(pc - image.address);
      const step = imageFrame(ctx, image, off, level === 0, rsp, rbp);
      if (!step) break;
      const loc = ctx.code.locate(level === 0 ? pc : pc - 1n);
      const slot = loc ? (loc.index === null ? null : loc.slot) : null;
      const obs = ctx.observed.find((f) => f.retSlot === step.retSlot);
      const tcc = counter(ctx, image, off, level === 0, step.base, (obs?.names.length ?? 0) > 1);
      frames.push({
        level, pc, image, slot, ...(slot !== null ? lineOf(ctx, image, slot) : {}),
        base: step.base, retSlot: step.retSlot, stackDepth: image.func.stackDepth, tcc,
        names: obs?.names ?? [], modelTcc: obs?.counter ?? null,
      });
      if (step.ret === undefined) break;
      pc = step.ret;
      rsp = step.retSlot + 8n;
      rbp = step.callerRbp ?? rbp;
      continue;
    }
    const sym = ctx.code.kernelSymbolAt(pc);
    frames.push({ level, pc, kernel: sym ? sym.name : `0x${pc.toString(16)}`, base: null, stackDepth: null, tcc: null, names: [], modelTcc: null });
    if (!sym || sym.kind === 'entry' || pc === ctx.entryReturn) break;
    // Kernel text between frames (a helper, a thunk): the return address is the first stack
    // word that points back into an image or into the entry stub.
    const found = findReturn(ctx, rsp);
    if (!found) break;
    pc = found.ret;
    rsp = found.slot + 8n;
  }
  return frames;
}

interface FrameStep {
  readonly ret?: bigint;
  readonly retSlot: bigint;
  readonly callerRbp?: bigint;
  readonly base: bigint;
}

function imageFrame(ctx: UnwindContext, image: FuncImage, off: number, innermost: boolean, rsp: bigint, rbp: bigint): FrameStep | undefined {
  let retSlot: bigint;
  let base: bigint;
  let callerRbp: bigint | undefined;
  if (innermost && off <= pushRbpAt(ctx)) {
    retSlot = rsp;
    base = rsp - 8n;
    callerRbp = rbp;
  } else if (innermost && off < movRbpAt(ctx) + 3) {
    retSlot = rsp + 8n;
    base = rsp;
    callerRbp = ctx.readU64(rsp);
  } else if (innermost && off === image.returnOffset) {
    // After `leave`: rsp is at the return address, rbp is the caller's again.
    retSlot = rsp;
    base = rsp - 8n;
    callerRbp = rbp;
  } else {
    base = rbp;
    retSlot = rbp + 8n;
    callerRbp = ctx.readU64(rbp);
  }
  const ret = ctx.readU64(retSlot);
  return { ...(ret !== undefined ? { ret } : {}), retSlot, base, ...(callerRbp !== undefined ? { callerRbp } : {}) };
}

/**
 * The frame's counter: its slot once `push rax` ran, rax's high dword before (tailcalls.md §1.5).
 * `tailCalled`: the frame was entered by a tail call (the observer saw it replaced).
 */
function counter(ctx: UnwindContext, image: FuncImage, off: number, innermost: boolean, base: bigint, tailCalled: boolean): Frame['tcc'] {
  const f = image.func;
  const landing = ctx.code.tailCallOffset;
  const ptr = ctx.code.tailCallCounter === 'tcc-ptr';
  const inRax = ptr ? throughRax(ctx) : { value: Number(ctx.regs.rax >> 32n), source: 'rax' } as const;
  if (!f.tailCallReachable) {
    // No counter slot: a tail call into it hands the count over in rax, which its first
    // instruction may overwrite.
    return innermost && tailCalled && off >= landing && off <= f.addrs[0] ? inRax : null;
  }
  // The slots are stored from here on: after `push rax` (slot), after the 14-byte sequence of a
  // main function or the two pushes of a subprogram (tcc-ptr).
  const stored = landing + (f.stackDepth !== 0 ? 7 : 0) + (!ptr ? 1 : f.index === 0 ? 14 : 2);
  if (innermost && off < stored) return f.index === 0 && off < pushRbpAt(ctx) ? { value: 0, source: 'fresh' } : inRax;
  if (ptr) {
    const p = ctx.readU64(base - BigInt(SDR(f.stackDepth)) - 16n);
    const v = p === undefined ? undefined : ctx.readU64(p);
    return p === undefined || v === undefined ? null : { value: Number(v), source: 'pointer', address: p };
  }
  const address = base - BigInt(SDR(f.stackDepth)) - 4n;
  const value = ctx.readU32(address);
  return value === undefined ? null : { value, source: 'slot', address };
}

/** tcc-ptr's rax on the way in: the count itself (up to MAX_TAIL_CALL_CNT) or a pointer to it. */
function throughRax(ctx: UnwindContext): Frame['tcc'] {
  const rax = ctx.regs.rax;
  if (rax <= BigInt(ctx.code.maxTailCallCnt)) return { value: Number(rax), source: 'rax' };
  const v = ctx.readU64(rax);
  return v === undefined ? null : { value: Number(v), source: 'pointer', address: rax };
}

function lineOf(ctx: UnwindContext, image: FuncImage, slot: number): { line?: LineInfo } {
  const line = ctx.code.line(image.prog, slot);
  return line ? { line } : {};
}

function findReturn(ctx: UnwindContext, rsp: bigint): { ret: bigint; slot: bigint } | undefined {
  for (let i = 0n; i < 4n; i++) {
    const slot = rsp + 8n * i;
    const v = ctx.readU64(slot);
    if (v === undefined) return undefined;
    if (ctx.code.imageAt(v) || ctx.code.kernelSymbolAt(v)?.kind === 'entry') return { ret: v, slot };
  }
  return undefined;
}
