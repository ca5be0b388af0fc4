// A BPF instruction as an immutable value (RFC 9669 §3).
//
// One `Insn` is one instruction: the wide `ld_imm64` is a single value that occupies two 8-byte
// slots (`width(insn) === 2`), its 64-bit constant split into `imm` (low half) and `immHi`
// (high half) exactly as the two `struct bpf_insn` hold it. Jump and call offsets, the
// kernel's instruction indices, `addrs[]` and line_info all count *slots*; `Layout` maps
// between the two numberings.

import { TailjitError, type SourceLocation } from '../errors.js';
import { Class, LD_IMM64, classOf } from './opcode.js';

export interface Insn {
  /** The opcode byte. */
  readonly code: number;
  /** Destination register, 0..15 as encoded (0..10 are valid). */
  readonly dst: number;
  /** Source register, 0..15 as encoded; for `call` and `ld_imm64` the pseudo source. */
  readonly src: number;
  /** Signed 16-bit offset. */
  readonly off: number;
  /** Signed 32-bit immediate; for `ld_imm64` the low 32 bits of the constant. */
  readonly imm: number;
  /** For `ld_imm64` only: the high 32 bits of the constant (signed 32-bit), else 0. */
  readonly immHi: number;
}

/** An index into `Insn[]` (one per instruction). */
export type InsnIndex = number & { readonly __brand?: 'InsnIndex' };
/** An 8-byte slot number, as jump offsets and the kernel count. */
export type SlotIndex = number & { readonly __brand?: 'SlotIndex' };

export class IsaError extends TailjitError {
  /** The instruction field that is wrong, when one is. */
  readonly field: string | undefined;
  constructor(code: string, message: string, location: SourceLocation = {}, field?: string) {
    super(code, message, location);
    this.field = field;
  }
}

export function insn(code: number, dst = 0, src = 0, off = 0, imm = 0, immHi = 0): Insn {
  return Object.freeze({ code, dst, src, off: off | 0, imm: imm | 0, immHi: immHi | 0 });
}

export const isWide = (i: Insn): boolean => i.code === LD_IMM64;
export const width = (i: Insn): 1 | 2 => (i.code === LD_IMM64 ? 2 : 1);

/** The 64-bit constant of an `ld_imm64`, unsigned. */
export function imm64(i: Insn): bigint {
  return (BigInt(i.immHi >>> 0) << 32n) | BigInt(i.imm >>> 0);
}

/** Builds an `ld_imm64` from a 64-bit constant (any sign; taken modulo 2^64). */
export function ldImm64(dst: number, value: bigint, src = 0): Insn {
  const v = BigInt.asUintN(64, value);
  return insn(LD_IMM64, dst, src, 0, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
}

export const SLOT_BYTES = 8;

/** Encodes one slot as `struct bpf_insn` (little-endian: code, dst:4|src:4, off, imm). */
function writeSlot(view: DataView, at: number, code: number, dst: number, src: number, off: number, imm: number): void {
  view.setUint8(at, code);
  view.setUint8(at + 1, ((src & 0xf) << 4) | (dst & 0xf));
  view.setInt16(at + 2, off, true);
  view.setInt32(at + 4, imm, true);
}

export function encode(insns: readonly Insn[]): Uint8Array {
  let slots = 0;
  for (const i of insns) slots += width(i);
  const out = new Uint8Array(slots * SLOT_BYTES);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const i of insns) {
    writeSlot(view, at, i.code, i.dst, i.src, i.off, i.imm);
    at += SLOT_BYTES;
    if (isWide(i)) {
      writeSlot(view, at, 0, 0, 0, 0, i.immHi);
      at += SLOT_BYTES;
    }
  }
  return out;
}

/**
 * Decodes little-endian `struct bpf_insn` slots. Only the framing is checked here (whole
 * slots, the wide load's second half); whether an opcode means anything is `describe()`'s job,
 * so that a disassembler can still show a program with a bad opcode in it.
 */
export function decode(bytes: Uint8Array, location: SourceLocation = {}): Insn[] {
  if (bytes.length % SLOT_BYTES !== 0) {
    throw new IsaError(
      'isa.truncated',
      `program is ${bytes.length} bytes, not a multiple of ${SLOT_BYTES}`,
      { ...location, insn: Math.floor(bytes.length / SLOT_BYTES) },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / SLOT_BYTES;
  const out: Insn[] = [];
  for (let s = 0; s < n; s++) {
    const at = s * SLOT_BYTES;
    const code = view.getUint8(at);
    const regs = view.getUint8(at + 1);
    const off = view.getInt16(at + 2, true);
    const imm = view.getInt32(at + 4, true);
    if (code !== LD_IMM64) {
      out.push(insn(code, regs & 0xf, regs >> 4, off, imm));
      continue;
    }
    if (s + 1 >= n) {
      throw new IsaError('isa.wide-truncated', 'ld_imm64 has no second slot', { ...location, insn: s }, 'code');
    }
    const at2 = at + SLOT_BYTES;
    const code2 = view.getUint8(at2);
    const regs2 = view.getUint8(at2 + 1);
    const off2 = view.getInt16(at2 + 2, true);
    for (const [field, v] of [['code', code2], ['regs', regs2], ['off', off2]] as const) {
      if (v !== 0) {
        throw new IsaError(
          'isa.wide-reserved',
          `second slot of ld_imm64 has ${field} ${v}, must be 0`,
          { ...location, insn: s + 1 },
          field,
        );
      }
    }
    out.push(insn(code, regs & 0xf, regs >> 4, off, imm, view.getInt32(at2 + 4, true)));
    s++;
  }
  return out;
}

/** Maps between instruction indices and slot numbers. */
export class Layout {
  /** `slotOf[i]`: first slot of instruction i; `slotOf[insns.length]` is the slot count. */
  readonly slotOf: Int32Array;
  /** `indexAt[s]`: the instruction whose first slot is s, or -1 for a wide load's second half. */
  readonly indexAt: Int32Array;

  constructor(insns: readonly Insn[]) {
    this.slotOf = new Int32Array(insns.length + 1);
    let s = 0;
    for (let i = 0; i < insns.length; i++) {
      this.slotOf[i] = s;
      s += width(insns[i]);
    }
    this.slotOf[insns.length] = s;
    this.indexAt = new Int32Array(s).fill(-1);
    for (let i = 0; i < insns.length; i++) this.indexAt[this.slotOf[i]] = i;
  }

  get slots(): number {
    return this.slotOf[this.slotOf.length - 1];
  }
}

/** True for instructions that end a function's straight-line flow (exit and unconditional jumps). */
export function isExitOrJa(i: Insn): boolean {
  return i.code === (Class.JMP | 0x90) || i.code === (Class.JMP | 0x00) || i.code === (Class.JMP32 | 0x00);
}

export function isJumpClass(i: Insn): boolean {
  const c = classOf(i.code);
  return c === Class.JMP || c === Class.JMP32;
}
