// Where code is in the emulated kernel, in both directions: every JIT image (program main
// functions and subprograms) with its BPF instructions, x86 ranges (the JIT's addrs[]) and
// source lines (BTF line_info as the verifier left it), and the kernel text symbols (thunks,
// helper stubs, the entry stub) with their sizes. The debugger's breakpoints, listings and
// backtraces, and the ELF file of `tailjit symbols`, all read addresses from here.

import { Layout, type Insn } from '../../src/isa/index.js';
import { globalMaps } from '../../src/elf/index.js';
import type { LineInfo } from '../../src/elf/types.js';
import { bpfInsnAt, insnRange, type JitFunc } from '../../src/jit/index.js';
import { findLinfo } from '../../src/verifier/index.js';
import type { LoadedProgram, Machine } from '../harness/index.js';
import {
  ENTRY_STUB, HELPER_STUB, PLAIN_RETURN_THUNK, SRSO_SAFE_RET, retpoline, srsoReturnThunk,
} from '../kernel/text.js';
import { DebugError } from './errors.js';

export interface FuncImage {
  readonly prog: LoadedProgram;
  readonly func: JitFunc;
  /** The program's name for a main function, else the subprogram's. */
  readonly name: string;
  /** Unique among the images: `name`, or `prog/name` for a subprogram several programs have. */
  readonly symbol: string;
  readonly address: bigint;
  readonly size: number;
  /** The function's instructions, `func.insnSlots` order. */
  readonly insns: readonly Insn[];
  /** Offset (in the image) of the `ret`/`jmp thunk` after the epilogue's `leave`; null without an exit. */
  readonly returnOffset: number | null;
}

export type KernelSymbolKind = 'helper' | 'thunk' | 'entry' | 'other';

export interface KernelSymbol {
  readonly name: string;
  readonly address: bigint;
  readonly size: number;
  readonly kind: KernelSymbolKind;
}

/** A code address: the image, and the BPF instruction whose x86 code holds it. */
export interface CodeLocation {
  readonly image: FuncImage;
  readonly offset: number;
  /** Index into `image.insns`, or null in the prologue. */
  readonly index: number | null;
  /** Program slot of that instruction (the first instruction's in the prologue). */
  readonly slot: number;
  /** True when the address is the first byte of the instruction's code. */
  readonly atStart: boolean;
}

const LEAVE = 0xc9;

/** Bytes of each kernel text symbol the modeled kernel writes (text.ts). */
function textSizes(): Map<string, number> {
  return new Map([
    ['__x86_indirect_thunk_rcx', retpoline('rcx').length],
    ['__x86_indirect_thunk_rdx', retpoline('rdx').length],
    ['srso_alias_safe_ret', SRSO_SAFE_RET.length],
    ['srso_alias_return_thunk', srsoReturnThunk(0xffffffff81c02000n, 0xffffffff81b04104n).length],
    ['__x86_return_thunk', PLAIN_RETURN_THUNK.length],
    ['tailjit_test_run', ENTRY_STUB.stop + 1],
  ]);
}

export class CodeMap {
  readonly images: readonly FuncImage[];
  readonly kernelSymbols: readonly KernelSymbol[];
  readonly tailCallOffset: number;
  /** Where the frames keep the counter (profile.jit.tailCallCounter). */
  readonly tailCallCounter: 'slot' | 'tcc-ptr';
  /** MAX_TAIL_CALL_CNT: under tcc-ptr a larger rax is a pointer. */
  readonly maxTailCallCnt: number;

  constructor(machine: Machine) {
    this.tailCallOffset = machine.profile.jit.tailCallOffset;
    this.tailCallCounter = machine.profile.jit.tailCallCounter;
    this.maxTailCallCnt = machine.profile.jit.maxTailCallCnt;
    const images: FuncImage[] = [];
    for (const prog of machine.programs.values()) {
      const layout = new Layout(prog.verified.insns);
      for (const func of prog.jit.funcs) {
        const first = layout.indexAt[func.firstSlot];
        const name = func.index === 0 ? prog.name : func.name;
        const image = machine.imageBytes(func);
        images.push({
          prog, func, name, symbol: name, address: func.address, size: func.image.length,
          insns: prog.verified.insns.slice(first, first + func.insnSlots.length),
          returnOffset: returnOffset(func, image),
        });
      }
    }
    const counts = new Map<string, number>();
    for (const i of images) counts.set(i.name, (counts.get(i.name) ?? 0) + 1);
    this.images = images.map((i) => (counts.get(i.name)! > 1 && i.func.index > 0 ? { ...i, symbol: `${i.prog.name}/${i.name}` } : i));
    const sizes = textSizes();
    const k = machine.kernel;
    this.kernelSymbols = [...k.symbolTable].map(([name, address]): KernelSymbol => {
      if (k.functionAt(address)) return { name, address, size: HELPER_STUB.length, kind: 'helper' };
      if (name === 'tailjit_test_run') return { name, address, size: sizes.get(name)!, kind: 'entry' };
      const size = sizes.get(name);
      return size !== undefined ? { name, address, size, kind: 'thunk' } : { name, address, size: 0, kind: 'other' };
    }).sort((a, b) => (a.address < b.address ? -1 : 1));
  }

  imageAt(address: bigint): FuncImage | undefined {
    return this.images.find((i) => address >= i.address && address < i.address + BigInt(i.size));
  }

  kernelSymbolAt(address: bigint): KernelSymbol | undefined {
    let best: KernelSymbol | undefined;
    for (const s of this.kernelSymbols) if (s.address <= address && address < s.address + BigInt(Math.max(s.size, 1))) best = s;
    return best;
  }

  locate(address: bigint): CodeLocation | undefined {
    const image = this.imageAt(address);
    if (!image) return undefined;
    const offset = Number(address - image.address);
    const at = bpfInsnAt(image.func, offset);
    if (at === undefined) return undefined;
    if (at === 'prologue') return { image, offset, index: null, slot: image.func.firstSlot, atStart: offset === 0 };
    const index = this.indexOf(image, at);
    return { image, offset, index, slot: at, atStart: insnRange(image.func, index).start === offset };
  }

  /** Index into `image.insns` of program slot `slot` (which must start an instruction). */
  indexOf(image: FuncImage, slot: number): number {
    const rel = slot - image.func.firstSlot;
    const k = image.func.insnSlots.indexOf(rel);
    if (k < 0) throw new DebugError('debug.unknown', `slot ${slot} is not the start of an instruction of ${image.symbol}`);
    return k;
  }

  /** First x86 byte of the instruction at `index` of `image`. */
  insnAddress(image: FuncImage, index: number): bigint {
    return image.address + BigInt(insnRange(image.func, index).start);
  }

  /** x86 byte range [start, end) of the instruction at `index`, as offsets in the image. */
  insnRange(image: FuncImage, index: number): { start: number; end: number } {
    return insnRange(image.func, index);
  }

  /** The image of program `prog` holding program slot `slot`. */
  imageOfSlot(prog: string, slot: number): FuncImage {
    const imgs = this.images.filter((i) => i.prog.name === prog);
    if (imgs.length === 0) throw new DebugError('debug.unknown', `no program named ${prog} (loaded: ${this.programNames().join(', ') || 'none'})`);
    const image = imgs.find((i) => slot >= i.func.firstSlot && slot < i.func.firstSlot + slotCount(i.func));
    if (!image) throw new DebugError('debug.unknown', `${prog} has no instruction ${slot}`);
    return image;
  }

  programNames(): string[] {
    return [...new Set(this.images.map((i) => i.prog.name))];
  }

  /** Images whose name or symbol is `name`. */
  imagesNamed(name: string): FuncImage[] {
    return this.images.filter((i) => i.symbol === name || i.name === name);
  }

  /** The line_info record covering program slot `slot` of `prog`. */
  line(prog: LoadedProgram, slot: number): LineInfo | undefined {
    return findLinfo(prog.verified.lineInfo ?? [], slot);
  }

  /**
   * The first x86 address of every line_info record for `file:line` (the file matched by its
   * basename too), one per image: where a breakpoint on a source line goes.
   */
  lineAddresses(file: string, line: number): bigint[] {
    const out: bigint[] = [];
    for (const image of this.images) {
      const recs = image.prog.verified.lineInfo ?? [];
      const start = image.func.firstSlot;
      const end = start + slotCount(image.func);
      const hit = recs.filter((r) => r.line === line && sameFile(r.file, file) && r.insnOff >= start && r.insnOff < end);
      if (hit.length === 0) continue;
      const slot = Math.min(...hit.map((r) => r.insnOff));
      const k = image.func.insnSlots.indexOf(slot - start);
      if (k >= 0) out.push(this.insnAddress(image, k));
    }
    return out;
  }

  /** `loop_direct+0x1b`, `bpf_map_lookup_elem`, or undefined outside images and kernel text. */
  symbolize(address: bigint): string | undefined {
    const image = this.imageAt(address);
    if (image) return plusOffset(image.symbol, address - image.address);
    const s = this.kernelSymbolAt(address);
    return s ? plusOffset(s.name, address - s.address) : undefined;
  }

  /** Resolves a symbol name (image or kernel) to its address. */
  symbolAddress(name: string): bigint | undefined {
    const img = this.images.find((i) => i.symbol === name) ?? this.images.find((i) => i.name === name);
    if (img) return img.address;
    return this.kernelSymbols.find((s) => s.name === name)?.address;
  }
}

const plusOffset = (name: string, off: bigint): string => (off === 0n ? name : `${name}+0x${off.toString(16)}`);

function sameFile(recorded: string, asked: string): boolean {
  if (recorded === asked) return true;
  const base = (p: string) => p.split('/').pop()!;
  return base(recorded) === base(asked) || recorded.endsWith(`/${asked}`);
}

/** Offset of the instruction after the epilogue's `leave` (the first EXIT emits the epilogue, tailcalls.md §2). */
function returnOffset(func: JitFunc, image: Uint8Array): number | null {
  if (func.cleanupAddr <= 0) return null;
  for (let o = func.cleanupAddr; o < image.length; o++) if (image[o] === LEAVE) return o + 1;
  return null;
}

/** Slots of the function (`addrs[]` has one entry more, tailcalls.md / types.ts). */
const slotCount = (func: JitFunc): number => func.addrs.length - 1;

/** A global variable of the object: where its section's array map keeps it. */
export interface GlobalVariable {
  readonly name: string;
  readonly section: string;
  readonly address: bigint;
  readonly size: number;
}

export function globalVariables(machine: Machine): GlobalVariable[] {
  const obj = machine.object;
  if (!obj) return [];
  const out: GlobalVariable[] = [];
  for (const spec of globalMaps(obj)) {
    const m = machine.kernel.maps.find((x) => x.name === spec.name);
    if (!m || m.kind !== 'array') continue;
    for (const v of spec.vars ?? []) out.push({ name: v.name, section: spec.section ?? spec.name, address: m.elemAddress(0) + BigInt(v.offset), size: v.size });
  }
  return out;
}
