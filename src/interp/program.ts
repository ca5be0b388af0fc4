// A program pre-decoded for the interpreter: one `Op` per instruction, with the semantic kind
// chosen, immediates widened to the bigint the operation needs and jump targets turned into
// instruction indices, so that the run loop does no decoding.
//
// Decoding never throws on a bad instruction: it becomes a `Kind.BAD` op that raises
// `interp.bad-insn` when (and only if) it is reached, naming its slot. An extra `Kind.FALL_OFF`
// op after the last instruction catches execution running off the end.

import {
  AluOp, AtomicOp, BPF_FUNC_tail_call, Class, FP, JmpOp, Layout, Mode, PseudoSrc,
  Source, classOf, describe, imm64, modeOf, opOf, sizeBytes, sizeOf, srcOf, type Insn,
} from '../isa/index.js';

export enum Kind {
  // ALU64
  ADD64, SUB64, MUL64, DIV64, SDIV64, MOD64, SMOD64, OR64, AND64, XOR64, LSH64, RSH64, ARSH64,
  MOV64, MOVSX64, NEG64,
  // ALU (32-bit, results zero-extended)
  ADD32, SUB32, MUL32, DIV32, SDIV32, MOD32, SMOD32, OR32, AND32, XOR32, LSH32, RSH32, ARSH32,
  MOV32, MOVSX32, NEG32,
  // byte order: truncations (le on a little-endian machine) and swaps (be, bswap)
  TRUNC16, TRUNC32, SWAP16, SWAP32, SWAP64,
  NOP,
  // loads and stores
  LD_IMM64, LD_PSEUDO, LDX, LDXS, ST, STX, ATOMIC,
  // jumps (JMP compares 64 bits, JMP32 the low 32)
  JA,
  JEQ64, JNE64, JGT64, JGE64, JLT64, JLE64, JSET64, JSGT64, JSGE64, JSLT64, JSLE64,
  JEQ32, JNE32, JGT32, JGE32, JLT32, JLE32, JSET32, JSGT32, JSGE32, JSLT32, JSLE32,
  CALL, TAIL_CALL, CALL_LOCAL, CALLX, EXIT,
  // refused when reached
  BAD, UNSUPPORTED, FALL_OFF,
}

export class Op {
  constructor(
    readonly kind: Kind,
    readonly slot: number,
    readonly dst: number = 0,
    readonly src: number = 0,
    /** ALU/JMP: the operand is the src register (BPF_X) rather than `imm`. */
    readonly x: boolean = false,
    /** Immediate as the operation's width sees it, unsigned (u64 or u32 pattern). */
    readonly imm: bigint = 0n,
    /** The same immediate, signed, for signed divisions and compares. */
    readonly simm: bigint = 0n,
    /** Memory offset. */
    readonly off: bigint = 0n,
    /** Access size in bytes; for MOVSX the bits kept. */
    readonly size: 1 | 2 | 4 | 8 = 8,
    /** Helper id (CALL), atomic operation (ATOMIC), pseudo source (LD_PSEUDO). */
    readonly n: number = 0,
    /** Jump or call target, as an instruction index. */
    readonly target: number = -1,
    /** What is wrong (BAD, UNSUPPORTED). */
    readonly reason: string = '',
    /** The instruction, for LD_PSEUDO's resolver and for error messages. */
    readonly insn: Insn | null = null,
  ) {}
}

export class InterpProgram {
  readonly insns: readonly Insn[];
  readonly layout: Layout;
  /** One op per instruction, then the FALL_OFF sentinel. */
  readonly code: readonly Op[];

  constructor(insns: readonly Insn[], readonly name = 'prog') {
    this.insns = Object.freeze([...insns]);
    this.layout = new Layout(this.insns);
    this.code = Object.freeze(decodeProgram(this.insns, this.layout));
  }

  /** The slot of instruction index `i`. */
  slotOf(i: number): number {
    return this.layout.slotOf[i];
  }
}

export function decodeProgram(insns: readonly Insn[], layout: Layout): Op[] {
  const ops = insns.map((ins, i) => decodeInsn(ins, layout.slotOf[i], layout));
  ops.push(new Op(Kind.FALL_OFF, layout.slots, 0, 0, false, 0n, 0n, 0n, 8, 0, -1, 'execution ran past the last instruction'));
  return ops;
}

const bad = (slot: number, reason: string, ins: Insn): Op =>
  new Op(Kind.BAD, slot, 0, 0, false, 0n, 0n, 0n, 8, 0, -1, reason, ins);

export function decodeInsn(ins: Insn, slot: number, layout: Layout): Op {
  const d = describe(ins);
  if (!d.ok) return bad(slot, `${d.reason} (field ${d.field})`, ins);
  const cls = classOf(ins.code);
  switch (d.form.shape) {
    case 'alu-reg':
    case 'alu-imm':
    case 'neg':
    case 'movsx':
      return decodeAlu(ins, slot, cls === Class.ALU64);
    case 'end':
      return decodeEnd(ins, slot);
    case 'ld-imm64':
      if (ins.dst === FP) return bad(slot, 'r10 is read-only', ins);
      if (ins.src === PseudoSrc.IMM) return new Op(Kind.LD_IMM64, slot, ins.dst, 0, false, imm64(ins));
      return new Op(Kind.LD_PSEUDO, slot, ins.dst, 0, false, 0n, 0n, 0n, 8, ins.src, -1, '', ins);
    case 'ld-abs':
    case 'ld-ind':
      return new Op(Kind.UNSUPPORTED, slot, 0, 0, false, 0n, 0n, 0n, 8, 0, -1,
        `legacy packet access ${d.form.mnemonic} (LD_ABS/LD_IND) is not supported by the interpreter`, ins);
    case 'ldx': {
      if (ins.dst === FP) return bad(slot, 'r10 is read-only', ins);
      const kind = modeOf(ins.code) === Mode.MEMSX ? Kind.LDXS : Kind.LDX;
      return new Op(kind, slot, ins.dst, ins.src, false, 0n, 0n, BigInt(ins.off), sizeBytes(sizeOf(ins.code)));
    }
    case 'st':
      return new Op(Kind.ST, slot, ins.dst, 0, false, BigInt.asUintN(64, BigInt(ins.imm)), 0n, BigInt(ins.off), sizeBytes(sizeOf(ins.code)));
    case 'stx':
      return new Op(Kind.STX, slot, ins.dst, ins.src, false, 0n, 0n, BigInt(ins.off), sizeBytes(sizeOf(ins.code)));
    case 'atomic': {
      const writesSrc = (ins.imm & AtomicOp.FETCH) !== 0 && ins.imm !== AtomicOp.CMPXCHG;
      if (writesSrc && ins.src === FP) return bad(slot, 'r10 is read-only (fetch writes the source register)', ins);
      return new Op(Kind.ATOMIC, slot, ins.dst, ins.src, false, 0n, 0n, BigInt(ins.off), sizeBytes(sizeOf(ins.code)), ins.imm);
    }
    case 'ja':
      return jump(Kind.JA, ins, slot, layout, ins.off, false);
    case 'gotol':
      return jump(Kind.JA, ins, slot, layout, ins.imm, false);
    case 'jcond-imm':
    case 'jcond-reg':
      return jump(condKind(ins.code), ins, slot, layout, ins.off, cls === Class.JMP32);
    case 'call':
      if (ins.imm === BPF_FUNC_tail_call) return new Op(Kind.TAIL_CALL, slot, 0, 0, false, 0n, 0n, 0n, 8, ins.imm);
      return new Op(Kind.CALL, slot, 0, 0, false, 0n, 0n, 0n, 8, ins.imm);
    case 'call-local': {
      const t = targetIndex(slot + 1 + ins.imm, layout);
      if (typeof t === 'string') return bad(slot, `call local target ${t}`, ins);
      return new Op(Kind.CALL_LOCAL, slot, 0, 0, false, 0n, 0n, 0n, 8, 0, t);
    }
    case 'call-kfunc':
      return new Op(Kind.UNSUPPORTED, slot, 0, 0, false, 0n, 0n, 0n, 8, ins.imm, -1,
        `kfunc call (btf id ${ins.imm}) is not supported by the interpreter`, ins);
    case 'callx':
      // The register is in dst (RFC 9669 §4.3.1's convention, which the conformance suite uses).
      return new Op(Kind.CALLX, slot, ins.dst);
    case 'exit':
      return new Op(Kind.EXIT, slot);
  }
}

const ALU64_KIND: Partial<Record<number, Kind>> = {
  [AluOp.ADD]: Kind.ADD64, [AluOp.SUB]: Kind.SUB64, [AluOp.MUL]: Kind.MUL64, [AluOp.DIV]: Kind.DIV64,
  [AluOp.OR]: Kind.OR64, [AluOp.AND]: Kind.AND64, [AluOp.LSH]: Kind.LSH64, [AluOp.RSH]: Kind.RSH64,
  [AluOp.NEG]: Kind.NEG64, [AluOp.MOD]: Kind.MOD64, [AluOp.XOR]: Kind.XOR64, [AluOp.MOV]: Kind.MOV64,
  [AluOp.ARSH]: Kind.ARSH64,
};
const ALU32_KIND: Partial<Record<number, Kind>> = {
  [AluOp.ADD]: Kind.ADD32, [AluOp.SUB]: Kind.SUB32, [AluOp.MUL]: Kind.MUL32, [AluOp.DIV]: Kind.DIV32,
  [AluOp.OR]: Kind.OR32, [AluOp.AND]: Kind.AND32, [AluOp.LSH]: Kind.LSH32, [AluOp.RSH]: Kind.RSH32,
  [AluOp.NEG]: Kind.NEG32, [AluOp.MOD]: Kind.MOD32, [AluOp.XOR]: Kind.XOR32, [AluOp.MOV]: Kind.MOV32,
  [AluOp.ARSH]: Kind.ARSH32,
};

function decodeAlu(ins: Insn, slot: number, is64: boolean): Op {
  if (ins.dst === FP) return bad(slot, 'r10 is read-only', ins);
  const op = opOf(ins.code);
  let kind = (is64 ? ALU64_KIND : ALU32_KIND)[op]!;
  let size: 1 | 2 | 4 | 8 = 8;
  // describe() has checked `off`: 1 selects the signed division, 8/16/32 the sign-extending move.
  if (ins.off === 1 && (op === AluOp.DIV || op === AluOp.MOD)) {
    kind = op === AluOp.DIV ? (is64 ? Kind.SDIV64 : Kind.SDIV32) : (is64 ? Kind.SMOD64 : Kind.SMOD32);
  } else if (op === AluOp.MOV && ins.off !== 0) {
    kind = is64 ? Kind.MOVSX64 : Kind.MOVSX32;
    size = (ins.off / 8) as 1 | 2 | 4;
  }
  const x = srcOf(ins.code) === Source.X;
  // ALU64 sign-extends imm to 64 bits; ALU uses it as a 32-bit value.
  const imm = is64 ? BigInt.asUintN(64, BigInt(ins.imm)) : BigInt(ins.imm >>> 0);
  return new Op(kind, slot, ins.dst, ins.src, x, imm, BigInt(ins.imm), 0n, size);
}

function decodeEnd(ins: Insn, slot: number): Op {
  if (ins.dst === FP) return bad(slot, 'r10 is read-only', ins);
  // Little-endian machine: to-LE only truncates (le64 does nothing); to-BE and bswap swap.
  const toLe = classOf(ins.code) === Class.ALU && srcOf(ins.code) === Source.K;
  const kind = toLe
    ? ins.imm === 16 ? Kind.TRUNC16 : ins.imm === 32 ? Kind.TRUNC32 : Kind.NOP
    : ins.imm === 16 ? Kind.SWAP16 : ins.imm === 32 ? Kind.SWAP32 : Kind.SWAP64;
  return new Op(kind, slot, ins.dst);
}

const COND: Partial<Record<number, [Kind, Kind]>> = {
  [JmpOp.JEQ]: [Kind.JEQ64, Kind.JEQ32], [JmpOp.JNE]: [Kind.JNE64, Kind.JNE32],
  [JmpOp.JGT]: [Kind.JGT64, Kind.JGT32], [JmpOp.JGE]: [Kind.JGE64, Kind.JGE32],
  [JmpOp.JLT]: [Kind.JLT64, Kind.JLT32], [JmpOp.JLE]: [Kind.JLE64, Kind.JLE32],
  [JmpOp.JSET]: [Kind.JSET64, Kind.JSET32], [JmpOp.JSGT]: [Kind.JSGT64, Kind.JSGT32],
  [JmpOp.JSGE]: [Kind.JSGE64, Kind.JSGE32], [JmpOp.JSLT]: [Kind.JSLT64, Kind.JSLT32],
  [JmpOp.JSLE]: [Kind.JSLE64, Kind.JSLE32],
};

function condKind(code: number): Kind {
  const pair = COND[opOf(code)]!;
  return classOf(code) === Class.JMP32 ? pair[1] : pair[0];
}

/** The instruction index at a slot, or why there is none. */
function targetIndex(targetSlot: number, layout: Layout): number | string {
  if (targetSlot < 0 || targetSlot >= layout.slots) return `slot ${targetSlot} is outside the program (0..${layout.slots - 1})`;
  const i = layout.indexAt[targetSlot];
  return i < 0 ? `slot ${targetSlot} is the second half of an ld_imm64` : i;
}

function jump(kind: Kind, ins: Insn, slot: number, layout: Layout, offset: number, is32: boolean): Op {
  const t = targetIndex(slot + 1 + offset, layout);
  if (typeof t === 'string') return bad(slot, `jump target ${t}`, ins);
  const x = srcOf(ins.code) === Source.X;
  const imm = is32 ? BigInt(ins.imm >>> 0) : BigInt.asUintN(64, BigInt(ins.imm));
  return new Op(kind, slot, ins.dst, ins.src, x, imm, BigInt(ins.imm), 0n, 8, 0, t);
}
