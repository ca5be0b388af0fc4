// Shared fixtures of the JIT tests: the reference kernel's symbol addresses as the specs quote
// them, small VerifiedProgram builders, and iced-x86 decoding of emitted bytes.

import iced from 'iced-x86';
import { insn as mk, ldImm64, type Insn } from '../../src/isa/insn.js';
import { intelFormatter } from '../../src/jit/listing.js';
import type { KernelSymbols } from '../../src/jit/types.js';
import type { PokeDescriptor, VerifiedFunc, VerifiedProgram } from '../../src/verifier/types.js';

const { Decoder, DecoderOptions } = iced;

/**
 * 5.10.223 on the EPYC-Milan guest, as x86-jit.md Appendix A and tailcalls.md §4.2/§10.1 give
 * them: __bpf_call_base, the SRSO alias return thunk, __x86_indirect_thunk_rcx.
 */
export const REF_SYMBOLS: KernelSymbols = Object.freeze({
  bpfCallBase: 0xffffffff811ae060n,
  returnThunk: 0xffffffff81c02000n,
  indirectThunkRcx: 0xffffffff81c01e00n,
  exHandlerBpf: 0xffffffff81040000n,
});

export { mk, ldImm64 };

export interface FuncSpec {
  readonly insns: readonly Insn[];
  readonly name?: string;
  readonly stackDepth?: number;
  readonly tailCallReachable?: boolean;
}

const slotsOf = (insns: readonly Insn[]): number => insns.reduce((n, i) => n + (i.code === 0x18 ? 2 : 1), 0);

/** A VerifiedProgram from functions laid out one after the other. */
export function program(funcs: readonly FuncSpec[], pokes: readonly PokeDescriptor[] = [], name = 'test'): VerifiedProgram {
  const vf: VerifiedFunc[] = [];
  let start = 0;
  funcs.forEach((f, i) => {
    const end = start + slotsOf(f.insns);
    vf.push({
      start, end, name: f.name ?? `func#${i}`, stackDepth: f.stackDepth ?? 0,
      hasTailCall: f.insns.some((x) => x.code === 0xf5), tailCallReachable: f.tailCallReachable ?? false,
    });
    start = end;
  });
  return { name, type: 'socket_filter', insns: funcs.flatMap((f) => f.insns), funcs: vf, pokes, usedMaps: [] };
}

/** A one-function program. */
export const single = (insns: readonly Insn[], opts: Omit<FuncSpec, 'insns'> = {}): VerifiedProgram => program([{ insns, ...opts }]);

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Parses "48 89 f8" / "4889f8" into bytes. */
export function unhex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, '');
  return Uint8Array.from(t.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Decodes bytes into Intel-syntax lines (the listing's formatter), at address `ip`. */
export function disasm(bytes: Uint8Array, ip = 0n): string[] {
  const d = new Decoder(64, bytes, DecoderOptions.None);
  d.ip = ip;
  const f = intelFormatter();
  const out: string[] = [];
  while (d.canDecode) {
    const i = d.decode();
    out.push(i.isInvalid ? '(bad)' : f.format(i));
    i.free();
  }
  d.free();
  f.free();
  return out;
}

/** Decoded instruction lengths, for checking where instruction boundaries fall. */
export function lengths(bytes: Uint8Array): number[] {
  const d = new Decoder(64, bytes, DecoderOptions.None);
  const out: number[] = [];
  while (d.canDecode) {
    const i = d.decode();
    out.push(i.length);
    i.free();
  }
  d.free();
  return out;
}
