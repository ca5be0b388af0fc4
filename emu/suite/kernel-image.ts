// A scenario's programs as the modeled kernel loads them against what the real kernel reported
// in its golden (koracle's `xlated_hex`, `jited_hex`, `jited_func_lens` per program): the
// verifier's rewritten instructions slot by slot and each function's JIT image byte by byte,
// modulo what depends on where things are. What is masked, and why:
// - xlated: map references (the dump shows `src` 1/2 and a map id, the model the map's address),
//   64-bit constants that are kernel addresses on both sides, helper calls (the dump's `imm` is
//   `helper - __bpf_call_base` of that boot: compared by the helper's name instead, through each
//   side's symbols), bpf2bpf calls (the dump's `off` is the relative target, the model's `imm`);
//   `call 12` of the dump is the model's BPF_TAIL_CALL.
// - JIT: each rel32 of a call/jmp that leaves the function, each 64-bit or sign-extended 32-bit
//   immediate that is a kernel address, and both 5-byte sites of every direct tail call (their
//   state follows the slots, which the run cases and the poke_states check cover).

import { readFileSync } from 'node:fs';
import { decode, Layout, type Insn } from '../../src/isa/insn.js';
import type { JitFunc } from '../../src/jit/types.js';
import type { LoadedProgram } from '../harness/program.js';
import type { Machine } from '../harness/machine.js';
import { addressByteOffsets, isKernelAddress } from '../harness/x86.js';

export interface KernelProgram {
  readonly name: string;
  readonly xlated_hex: string;
  readonly jited_hex: string;
  readonly jited_func_lens: readonly number[];
}

const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const BPF_TAIL_CALL = 0xf5;
const BPF_FUNC_TAIL_CALL = 12;

/** Name of `address` in a `kallsyms.txt` (address type name lines). */
export function kallsymsNames(file: string): { byAddress: Map<bigint, string>; byName: Map<string, bigint> } {
  const byAddress = new Map<bigint, string>();
  const byName = new Map<string, bigint>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [a, , name] = line.trim().split(/\s+/);
    if (!name) continue;
    const v = BigInt(`0x${a}`);
    byAddress.set(v, name);
    byName.set(name, v);
  }
  return { byAddress, byName };
}

type Names = (imm: number) => string | undefined;

/** The differences of one program's xlated instructions, one line each (at most a few). */
export function compareXlated(p: LoadedProgram, kernel: KernelProgram, kernelHelper: Names, modelHelper: Names): string[] {
  const theirs = decode(unhex(kernel.xlated_hex));
  const ours = p.verified.insns;
  const lt = new Layout(theirs);
  const lo = new Layout(ours);
  if (lt.slots !== lo.slots) return [`${p.name}: ${lo.slots} xlated instructions, the kernel has ${lt.slots}`];
  const out: string[] = [];
  for (let k = 0; k < theirs.length && out.length < 3; k++) {
    const t = theirs[k];
    const slot = lt.slotOf[k];
    const oi = lo.indexAt[slot];
    const o = oi < 0 ? undefined : ours[oi];
    const why = o ? insnDiff(t, o, kernelHelper, modelHelper) : 'no instruction starts there in the model';
    if (why) out.push(`${p.name} insn ${slot}: ${why}`);
  }
  return out;
}

const show = (i: Insn): string => `code ${i.code.toString(16).padStart(2, '0')} dst ${i.dst} src ${i.src} off ${i.off} imm ${i.imm}${i.code === 0x18 ? ` imm_hi ${i.immHi}` : ''}`;

function insnDiff(t: Insn, o: Insn, kernelHelper: Names, modelHelper: Names): string | undefined {
  const differ = `the kernel's ${show(t)}, the model's ${show(o)}`;
  if (t.code === 0x85 && t.src === 0 && t.imm === BPF_FUNC_TAIL_CALL) return o.code === BPF_TAIL_CALL ? undefined : differ;
  if (t.code !== o.code || t.dst !== o.dst) return differ;
  if (t.code === 0x18) {
    if (t.src !== 0) return o.src === 0 || o.src === t.src ? undefined : differ; // a map reference
    const tv = (BigInt(t.immHi >>> 0) << 32n) | BigInt(t.imm >>> 0);
    const ov = (BigInt(o.immHi >>> 0) << 32n) | BigInt(o.imm >>> 0);
    return tv === ov || (isKernelAddress(tv) && isKernelAddress(ov) && o.src === 0) ? undefined : differ;
  }
  if (t.code === 0x85 && t.src === 0) {
    // A kernel function its kallsyms.txt does not list (the file keeps BPF and thunk symbols
    // only) cannot be told apart: only a named one is compared.
    const a = kernelHelper(t.imm), b = modelHelper(o.imm);
    return a === undefined || a === b ? undefined : `a call of ${a} in the kernel, of ${b ?? `imm ${o.imm}`} in the model`;
  }
  if (t.code === 0x85 && t.src === 1) return o.src === 1 && o.imm === t.off ? undefined : differ;
  return t.src === o.src && t.off === o.off && t.imm === o.imm ? undefined : differ;
}

/** Byte offsets of one function's image that depend on addresses (see the header). */
function addressBytes(f: JitFunc, pokeSites: readonly bigint[]): Set<number> {
  const masked = addressByteOffsets(f.image, f.address);
  for (const site of pokeSites) {
    const at = Number(site - f.address);
    if (at >= 0 && at < f.image.length) for (let k = 0; k < 5; k++) masked.add(at + k);
  }
  return masked;
}

/** The differences of one program's JIT images (each function), one line each. */
export function compareImages(p: LoadedProgram, kernel: KernelProgram): string[] {
  const funcs = p.jit.funcs;
  const lens = kernel.jited_func_lens.length > 0 ? kernel.jited_func_lens : [unhex(kernel.jited_hex).length];
  if (lens.length !== funcs.length) return [`${p.name}: ${funcs.length} JIT-ed functions, the kernel has ${lens.length}`];
  const image = unhex(kernel.jited_hex);
  const sites = p.jit.pokes.flatMap((k) => [k.tailcallBypass, k.tailcallTarget]);
  const out: string[] = [];
  let from = 0;
  funcs.forEach((f, n) => {
    const theirs = image.subarray(from, from + lens[n]);
    from += lens[n];
    const name = f.index === 0 ? p.name : `${p.name}/${f.name}`;
    if (theirs.length !== f.image.length) {
      out.push(`${name}: ${f.image.length} bytes of code, the kernel's has ${theirs.length}${firstDiff(f.image, theirs, new Set())}`);
      return;
    }
    const masked = addressBytes(f, sites);
    const d = firstDiff(f.image, theirs, masked);
    if (d) out.push(`${name}:${d}`);
  });
  return out;
}

function firstDiff(ours: Uint8Array, theirs: Uint8Array, masked: ReadonlySet<number>): string {
  const n = Math.min(ours.length, theirs.length);
  for (let k = 0; k < n; k++) {
    if (masked.has(k) || ours[k] === theirs[k]) continue;
    const hex = (b: Uint8Array): string => Buffer.from(b.subarray(k, Math.min(b.length, k + 8))).toString('hex');
    return ` first difference at +0x${k.toString(16)}: ${hex(ours)} here, ${hex(theirs)} in the kernel's`;
  }
  return '';
}

/** Helper names by call imm, on the model's side. */
export function modelHelperNames(machine: Machine): Names {
  const base = machine.kernel.symbol('__bpf_call_base');
  const byAddress = new Map<bigint, string>();
  for (const [name, at] of machine.kernel.symbolTable) byAddress.set(at, name);
  return (imm) => byAddress.get(base + BigInt(imm));
}

/** Helper names by call imm, from the kernel's kallsyms (undefined without `__bpf_call_base`). */
export function kernelHelperNames(file: string): Names {
  const { byAddress, byName } = kallsymsNames(file);
  const base = byName.get('__bpf_call_base');
  return (imm) => (base === undefined ? undefined : byAddress.get(BigInt.asUintN(64, base + BigInt(imm))));
}

/** The kernel's answer for a scenario on a profile: its programs and the boot's kallsyms.txt. */
export interface KernelImages {
  readonly file: string;
  readonly programs: readonly KernelProgram[];
  readonly kallsyms: string;
}

/**
 * The differences between the modeled kernel's programs (loaded before any step) and the kernel's
 * answer, one line each: programs one side has and the other not, xlated instructions, images.
 */
export function compareKernelImages(machine: Machine, names: readonly string[], kernel: KernelImages): string[] {
  const out: string[] = [];
  const kernelHelper = kernelHelperNames(kernel.kallsyms);
  const modelHelper = modelHelperNames(machine);
  for (const name of names) {
    const theirs = kernel.programs.find((q) => q.name === name);
    const failure = machine.failures.get(name);
    if (!theirs) {
      if (!failure) out.push(`${name}: loaded here, the kernel did not JIT it`);
      continue;
    }
    if (failure) {
      out.push(`${name}: the kernel JIT-ed it, here ${failure.code}: ${failure.message}`);
      continue;
    }
    const p = machine.program(name);
    out.push(...compareXlated(p, theirs, kernelHelper, modelHelper), ...compareImages(p, theirs));
  }
  return out;
}
