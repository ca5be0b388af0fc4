// One pass of the JIT over one function (`do_jit`, x86-jit.md §7.1): the prologue, then every
// instruction into a scratch buffer, sized, checked and (in the image pass) copied. The switch
// below is the kernel's, one case group per family, each a single call.

import { width, type Insn } from '../isa/insn.js';
import { AluOp, CallSrc, Class, JmpOp, Mode, Size, Source, classOf, opOf, sizeOf, srcOf } from '../isa/opcode.js';
import {
  emitAluImm, emitAluReg, emitBswap, emitLe, emitMovImm32, emitMovImm64, emitMovReg, emitMovsxReg, emitNeg,
} from './alu.js';
import { emitCallInsn } from './call.js';
import type { Frame, JitEnv } from './context.js';
import { JitBug, JitError } from './errors.js';
import { JA_SELF, JMP_COND, emitCmpImm, emitCmpReg, emitCondJmp, emitJmp, emitNops, fitsRel8 } from './jump.js';
import { emitAtomic, emitLdsx, emitLdx, emitNospec, emitSt, emitStx } from './mem.js';
import { emitDivModInsn, emitMulInsn } from './muldiv.js';
import { BPF_TAIL_CALL, emitEpilogue, emitPrologue, pushCalleeRegs, requireSymbol } from './prologue.js';
import { emitShiftImm, emitShiftReg, emitShiftx } from './shift.js';
import { emitBpfTailCallDirect, emitBpfTailCallIndirect, type DirectPokeSites } from './tailcall.js';
import type { Addrs, ExtableEntry } from './types.js';
import { BPF_REG_4, BPF_REG_9, Emitter, isSimm32, reg2ptRegs } from './x86.js';

/** BPF_MAX_INSN_SIZE: the most one instruction (with the prologue, for instruction 0) may emit. */
export const BPF_MAX_INSN_SIZE = 128;
/** BPF_INSN_SAFETY: slack of the scratch buffer beyond that. */
export const BPF_INSN_SAFETY = 64;
/** sizeof(struct exception_table_entry) and its alignment. */
export const EXTABLE_ENTRY_SIZE = 12;
export const EXTABLE_ALIGN = 4;

/** One function as the JIT compiles it (`struct bpf_prog` of `func[i]`). */
export interface JitFuncInput {
  readonly index: number;
  readonly name: string;
  /** The function's instructions. */
  readonly insns: readonly Insn[];
  /** Function-relative first slot of each instruction. */
  readonly slots: Int32Array;
  /** `prog->len`: slots. */
  readonly len: number;
  /** Slot of the first instruction in the whole program (for error positions). */
  readonly firstSlot: number;
  readonly frame: Frame;
  /** `aux->num_exentries`: the function's PROBE_MEM loads. */
  readonly numExentries: number;
}

/** What a pass keeps between passes besides `addrs[]` (`struct jit_context`). */
export interface JitContext {
  cleanupAddr: number;
}

/** The allocated image the writing passes fill. */
export interface JitImage {
  readonly address: bigint;
  /** The whole allocation: code, then the extable. */
  readonly bytes: Uint8Array;
  /** Offset of the extable in `bytes`: `roundup(proglen, 4)`. */
  readonly extableOffset: number;
  extable: ExtableEntry[];
}

/** Per-pass inputs that are not the function's own. */
export interface PassEnv {
  readonly env: JitEnv;
  /** `imm` of the CALL at a function-relative slot (bpf2bpf calls: placeholder 1, then the real one). */
  readonly callImm: (slot: number, insn: Insn) => number;
  /** Receives a direct tail call's sites: poke index (imm - 1) and the addresses. */
  readonly onPoke: (pokeIndex: number, sites: DirectPokeSites, slot: number) => void;
  /** Number of poke descriptors of the program. */
  readonly pokeCount: number;
}

/** Per-instruction state of a pass. */
interface InsnState {
  readonly f: JitFuncInput;
  readonly pass: PassEnv;
  readonly addrs: Addrs;
  readonly ctx: JitContext;
  readonly image: JitImage | null;
  /** Bytes written before this instruction (the kernel's `proglen`). */
  readonly proglen: number;
  /** Function-relative slot of the instruction; the kernel's `i` is `slot + 1`. */
  readonly slot: number;
  /** `image + addrs[i - 1]`, the address this instruction's code starts at (image 0 before allocation). */
  readonly ip: bigint;
  /** The first EXIT of this pass has been seen. */
  seenExit: boolean;
  /** `jmp_padding` (6.1): shrunk jumps keep their previous size. */
  readonly padding: boolean;
}

/**
 * `do_jit`: one pass; returns the function's length. `addrs` is read and updated in place in
 * exactly the kernel's order (x86-jit.md §5.3). With an image, every instruction must end where
 * the previous pass put it, and its bytes are copied. `padding` is 6.1's `jmp_padding`.
 */
export function doJit(f: JitFuncInput, addrs: Addrs, image: JitImage | null, oldproglen: number, ctx: JitContext, pass: PassEnv, padding = false): number {
  const e = new Emitter(BPF_MAX_INSN_SIZE + BPF_INSN_SAFETY);
  emitPrologue(e, pass.env, f.frame);
  pushCalleeRegs(e, f.frame.calleeRegsUsed);
  addrs[0] = e.length;
  if (image) image.extable = [];
  const base = image ? image.address : 0n;
  let proglen = 0;
  if (pass.env.jit.prologueChunk === 'own-chunk') {
    // 6.1 copies the prologue on its own: instruction 0 starts at proglen = addrs[0].
    if (image) image.bytes.set(e.bytes(), 0);
    proglen = e.length;
    e.reset();
  }
  let seenExit = false;
  for (let k = 0; k < f.insns.length; k++) {
    const insn = f.insns[k];
    const slot = f.slots[k];
    const st: InsnState = { f, pass, addrs, ctx, image, proglen, slot, ip: base + BigInt(addrs[slot]), seenExit, padding };
    try {
      emitInsn(e, insn, st);
    } catch (err) {
      throw locate(err, f, slot);
    }
    seenExit = st.seenExit;
    const end = slot + width(insn); // the kernel's i, advanced past an ld_imm64's second slot
    const ilen = e.length;
    if (ilen > BPF_MAX_INSN_SIZE) {
      throw new JitError('jit.insn-too-long', `insn ${f.firstSlot + slot} needs ${ilen} bytes, more than ${BPF_MAX_INSN_SIZE} (fatal insn size error)`, { insn: f.firstSlot + slot }, { func: f.index });
    }
    if (image) {
      if (proglen + ilen > oldproglen || proglen + ilen !== addrs[end]) {
        throw new JitBug('jit.bug.image-moved', `image pass: insn ${f.firstSlot + slot} ends at ${proglen + ilen}, the previous pass put its end at ${addrs[end]} (length ${oldproglen})`, { insn: f.firstSlot + slot }, f.index);
      }
      image.bytes.set(e.bytes(), proglen);
    }
    proglen += ilen;
    addrs[end] = proglen;
    e.reset();
  }
  if (image && image.extable.length !== f.numExentries) {
    throw new JitError('jit.extable', `wrote ${image.extable.length} extable entries, expected ${f.numExentries}`, {}, { func: f.index });
  }
  return proglen;
}

/** Adds the instruction's position to an error raised by an emit helper. */
function locate(err: unknown, f: JitFuncInput, slot: number): unknown {
  if (err instanceof JitError && err.location.insn === undefined) {
    return new JitError(err.code, `insn ${f.firstSlot + slot}: ${err.message}`, { insn: f.firstSlot + slot }, { func: f.index, field: err.field, notes: err.notes });
  }
  if (err instanceof JitBug && err.location.insn === undefined) {
    return new JitBug(err.code, `insn ${f.firstSlot + slot}: ${err.message}`, { insn: f.firstSlot + slot }, f.index);
  }
  return err;
}

const is64 = (insn: Insn): boolean => classOf(insn.code) === Class.ALU64 || classOf(insn.code) === Class.JMP;

/** do_jit's `switch (insn->code)`. */
function emitInsn(e: Emitter, insn: Insn, st: InsnState): void {
  const { dst, src, imm } = insn;
  const op = opOf(insn.code);
  const x = srcOf(insn.code) === Source.X;
  const { A, L, J } = OPS;
  switch (insn.code) {
    case A | AluOp.ADD | Source.X: case A | AluOp.SUB | Source.X: case A | AluOp.AND | Source.X:
    case A | AluOp.OR | Source.X: case A | AluOp.XOR | Source.X:
    case L | AluOp.ADD | Source.X: case L | AluOp.SUB | Source.X: case L | AluOp.AND | Source.X:
    case L | AluOp.OR | Source.X: case L | AluOp.XOR | Source.X:
      return emitAluReg(e, is64(insn), op, dst, src);

    case A | AluOp.MOV | Source.X: case L | AluOp.MOV | Source.X:
      if (insn.off !== 0) return emitMovsxReg(e, is64(insn), insn.off, dst, src); // cpu v4 movsx
      return emitMovReg(e, is64(insn), dst, src);

    case A | AluOp.NEG: case L | AluOp.NEG:
      return emitNeg(e, is64(insn), dst);

    case A | AluOp.ADD | Source.K: case A | AluOp.SUB | Source.K: case A | AluOp.AND | Source.K:
    case A | AluOp.OR | Source.K: case A | AluOp.XOR | Source.K:
    case L | AluOp.ADD | Source.K: case L | AluOp.SUB | Source.K: case L | AluOp.AND | Source.K:
    case L | AluOp.OR | Source.K: case L | AluOp.XOR | Source.K:
      return emitAluImm(e, is64(insn), op, dst, imm);

    case A | AluOp.MOV | Source.K: case L | AluOp.MOV | Source.K:
      return emitMovImm32(e, is64(insn), dst, imm);

    case Class.LD | Mode.IMM | Size.DW:
      return emitMovImm64(e, dst, insn.immHi, imm, st.pass.env.jit.movImm64Simm32);

    case A | AluOp.DIV | Source.X: case A | AluOp.DIV | Source.K: case A | AluOp.MOD | Source.X: case A | AluOp.MOD | Source.K:
    case L | AluOp.DIV | Source.X: case L | AluOp.DIV | Source.K: case L | AluOp.MOD | Source.X: case L | AluOp.MOD | Source.K:
      return emitDivModInsn(e, st.pass.env.jit, is64(insn), op === AluOp.MOD, dst, x ? { kind: 'reg', reg: src } : { kind: 'imm', imm }, insn.off === 1);

    case A | AluOp.MUL | Source.X: case A | AluOp.MUL | Source.K: case L | AluOp.MUL | Source.X: case L | AluOp.MUL | Source.K:
      return emitMulInsn(e, st.pass.env.jit, is64(insn), dst, x ? { kind: 'reg', reg: src } : { kind: 'imm', imm });

    case A | AluOp.LSH | Source.K: case A | AluOp.RSH | Source.K: case A | AluOp.ARSH | Source.K:
    case L | AluOp.LSH | Source.K: case L | AluOp.RSH | Source.K: case L | AluOp.ARSH | Source.K:
      return emitShiftImm(e, is64(insn), op, dst, imm);

    case A | AluOp.LSH | Source.X: case A | AluOp.RSH | Source.X: case A | AluOp.ARSH | Source.X:
    case L | AluOp.LSH | Source.X: case L | AluOp.RSH | Source.X: case L | AluOp.ARSH | Source.X:
      // BMI2 shifts aren't better when the count is already in rcx (r4).
      if (st.pass.env.jit.shiftx && st.pass.env.cpu.bmi2 && src !== BPF_REG_4) return emitShiftx(e, is64(insn), op, dst, src);
      return emitShiftReg(e, is64(insn), op, dst, src, st.pass.env.jit.shiftx);

    case L | AluOp.END | Source.X:
    case A | AluOp.END | Source.K: // cpu v4 bswap16/32/64: the same bytes as be16/32/64
      if (classOf(insn.code) === Class.ALU64 && !st.pass.env.jit.opcodes.includes(insn.code)) break;
      return emitBswap(e, dst, imm);
    case L | AluOp.END | Source.K:
      return emitLe(e, dst, imm);

    case Class.ST | BPF_NOSPEC:
      return emitNospec(e, st.pass.env.cpu);

    case Class.ST | Mode.MEM | Size.B: case Class.ST | Mode.MEM | Size.H:
    case Class.ST | Mode.MEM | Size.W: case Class.ST | Mode.MEM | Size.DW:
      return emitSt(e, sizeOf(insn.code), dst, insn.off, imm);

    case Class.STX | Mode.MEM | Size.B: case Class.STX | Mode.MEM | Size.H:
    case Class.STX | Mode.MEM | Size.W: case Class.STX | Mode.MEM | Size.DW:
      return emitStx(e, sizeOf(insn.code), dst, src, insn.off);

    case Class.LDX | Mode.MEM | Size.B: case Class.LDX | Mode.MEM | Size.H:
    case Class.LDX | Mode.MEM | Size.W: case Class.LDX | Mode.MEM | Size.DW:
      return emitLdx(e, sizeOf(insn.code), dst, src, insn.off);

    case Class.LDX | Mode.MEMSX | Size.B: case Class.LDX | Mode.MEMSX | Size.H: case Class.LDX | Mode.MEMSX | Size.W:
      if (!st.pass.env.jit.opcodes.includes(insn.code)) break;
      return emitLdsx(e, sizeOf(insn.code), dst, src, insn.off);

    case Class.LDX | BPF_PROBE_MEM | Size.B: case Class.LDX | BPF_PROBE_MEM | Size.H:
    case Class.LDX | BPF_PROBE_MEM | Size.W: case Class.LDX | BPF_PROBE_MEM | Size.DW:
      return emitProbeMemLdx(e, insn, st);

    case Class.STX | Mode.ATOMIC | Size.B: case Class.STX | Mode.ATOMIC | Size.H: // 6.15: load-acquire / store-release only
    case Class.STX | Mode.ATOMIC | Size.W: case Class.STX | Mode.ATOMIC | Size.DW:
      if (!st.pass.env.jit.opcodes.includes(insn.code)) break;
      if (!st.pass.env.jit.atomicOps.includes(imm)) {
        throw new JitError('jit.unsupported-insn', `unknown atomic opcode 0x${(imm >>> 0).toString(16).padStart(2, '0')}`, {}, { field: 'imm' });
      }
      return emitAtomic(e, imm, sizeOf(insn.code), dst, src, insn.off);

    case J | JmpOp.CALL:
      return emitCallInsn(e, st.pass.env, st.f.frame, insn.src === CallSrc.LOCAL, st.pass.callImm(st.slot, insn), st.ip);

    case BPF_TAIL_CALL:
      return emitTailCall(e, insn, st);

    case J | JmpOp.JEQ | Source.X: case J | JmpOp.JNE | Source.X: case J | JmpOp.JGT | Source.X:
    case J | JmpOp.JLT | Source.X: case J | JmpOp.JGE | Source.X: case J | JmpOp.JLE | Source.X:
    case J | JmpOp.JSGT | Source.X: case J | JmpOp.JSLT | Source.X: case J | JmpOp.JSGE | Source.X:
    case J | JmpOp.JSLE | Source.X: case J | JmpOp.JSET | Source.X:
    case Class.JMP32 | JmpOp.JEQ | Source.X: case Class.JMP32 | JmpOp.JNE | Source.X: case Class.JMP32 | JmpOp.JGT | Source.X:
    case Class.JMP32 | JmpOp.JLT | Source.X: case Class.JMP32 | JmpOp.JGE | Source.X: case Class.JMP32 | JmpOp.JLE | Source.X:
    case Class.JMP32 | JmpOp.JSGT | Source.X: case Class.JMP32 | JmpOp.JSLT | Source.X: case Class.JMP32 | JmpOp.JSGE | Source.X:
    case Class.JMP32 | JmpOp.JSLE | Source.X: case Class.JMP32 | JmpOp.JSET | Source.X:
    case J | JmpOp.JEQ | Source.K: case J | JmpOp.JNE | Source.K: case J | JmpOp.JGT | Source.K:
    case J | JmpOp.JLT | Source.K: case J | JmpOp.JGE | Source.K: case J | JmpOp.JLE | Source.K:
    case J | JmpOp.JSGT | Source.K: case J | JmpOp.JSLT | Source.K: case J | JmpOp.JSGE | Source.K:
    case J | JmpOp.JSLE | Source.K: case J | JmpOp.JSET | Source.K:
    case Class.JMP32 | JmpOp.JEQ | Source.K: case Class.JMP32 | JmpOp.JNE | Source.K: case Class.JMP32 | JmpOp.JGT | Source.K:
    case Class.JMP32 | JmpOp.JLT | Source.K: case Class.JMP32 | JmpOp.JGE | Source.K: case Class.JMP32 | JmpOp.JLE | Source.K:
    case Class.JMP32 | JmpOp.JSGT | Source.K: case Class.JMP32 | JmpOp.JSLT | Source.K: case Class.JMP32 | JmpOp.JSGE | Source.K:
    case Class.JMP32 | JmpOp.JSLE | Source.K: case Class.JMP32 | JmpOp.JSET | Source.K:
      return emitCondJump(e, insn, st);

    case J | JmpOp.JA:
      return emitJa(e, insn.off, st);
    case Class.JMP32 | JmpOp.JA: // gotol: the offset is in imm
      if (!st.pass.env.jit.opcodes.includes(insn.code)) break;
      return emitJa(e, imm, st);

    case J | JmpOp.EXIT:
      return emitExit(e, st);

  }
  throw new JitError('jit.unknown-opcode', `unknown opcode 0x${insn.code.toString(16).padStart(2, '0')}`, {}, { field: 'code' });
}

const OPS = { A: Class.ALU64, L: Class.ALU, J: Class.JMP } as const;
/** Mode values only the kernel uses (include/linux/filter.h, uapi bpf.h). */
const BPF_NOSPEC = 0xc0; // BPF_ST | BPF_NOSPEC
const BPF_PROBE_MEM = Mode.ABS; // BPF_LDX | BPF_PROBE_MEM | size

/** `addrs[i + off]` of a jump, with its target checked to lie in the function. */
function jumpTarget(st: InsnState, off: number): number {
  const at = st.slot + 1 + off;
  if (at < 0 || at > st.f.len) {
    throw new JitError('jit.jump-outside-function', `jump target slot ${st.f.firstSlot + at} is outside function ${st.f.index}`, {}, { field: 'off' });
  }
  return st.addrs[at];
}

/** `INSN_SZ_DIFF`: the instruction's size in the previous pass minus the bytes emitted so far. */
const insnSizeDiff = (e: Emitter, st: InsnState): number => st.addrs[st.slot + 1] - st.addrs[st.slot] - e.length;

/**
 * With `jmp_padding`, a rel8 (or vanished) jump emitted shorter than in the previous pass is
 * preceded by nops that restore that size (6.1, x86-jit.md §8); `allowed` are the only paddings
 * the kernel accepts. A rel32 jump is never padded.
 */
function padJump(e: Emitter, st: InsnState, nops: number, allowed: readonly number[], what: string): void {
  if (!st.padding) return;
  if (nops !== 0 && !allowed.includes(nops)) {
    throw new JitError('jit.jmp-padding', `unexpected ${what} padding: ${nops} bytes`);
  }
  emitNops(e, nops);
}

/** The conditional-jump cases: compare, then `emit_cond_jmp` with `addrs[i + off] - addrs[i]`. */
function emitCondJump(e: Emitter, insn: Insn, st: InsnState): void {
  const op = opOf(insn.code);
  const wide = classOf(insn.code) === Class.JMP;
  if (srcOf(insn.code) === Source.X) emitCmpReg(e, wide, op, insn.dst, insn.src);
  else emitCmpImm(e, wide, op, insn.dst, insn.imm);
  const jmpOffset = jumpTarget(st, insn.off) - st.addrs[st.slot + 1];
  const rel8Max = st.pass.env.jit.jmpRel8Max;
  if (fitsRel8(jmpOffset, rel8Max)) padJump(e, st, insnSizeDiff(e, st) - 2, [4], 'jmp_cond');
  emitCondJmp(e, JMP_COND[op], jmpOffset, rel8Max);
}

/** `BPF_JA` (and gotol): offset -1 is `eb fe`; a 0 displacement emits nothing (or its old size in nops). */
function emitJa(e: Emitter, off: number, st: InsnState): void {
  const jmpOffset = off === -1 ? JA_SELF : jumpTarget(st, off) - st.addrs[st.slot + 1];
  if (jmpOffset === 0) {
    padJump(e, st, insnSizeDiff(e, st), [2, 5], 'nop jump');
    return;
  }
  emitPaddedJmp(e, st, jmpOffset);
}

/** The kernel's `emit_jmp:` label, shared by JA and the later EXITs. */
function emitPaddedJmp(e: Emitter, st: InsnState, jmpOffset: number): void {
  const rel8Max = st.pass.env.jit.jmpRel8Max;
  if (fitsRel8(jmpOffset, rel8Max)) padJump(e, st, insnSizeDiff(e, st) - 2, [3], 'jump');
  emitJmp(e, jmpOffset, rel8Max);
}

/** `BPF_EXIT`: the first one in the pass emits the epilogue, every later one jumps to it. */
function emitExit(e: Emitter, st: InsnState): void {
  if (st.seenExit) {
    emitPaddedJmp(e, st, st.ctx.cleanupAddr - st.addrs[st.slot + 1]);
    return;
  }
  st.seenExit = true;
  st.ctx.cleanupAddr = st.proglen;
  emitEpilogue(e, st.pass.env, st.f.frame, st.ip);
}

/** `BPF_JMP | BPF_TAIL_CALL`: imm = poke index + 1 (direct) or 0 (indirect). */
function emitTailCall(e: Emitter, insn: Insn, st: InsnState): void {
  if (insn.imm === 0) {
    emitBpfTailCallIndirect(e, st.pass.env, st.f.frame, st.ip);
    return;
  }
  const pokeIndex = insn.imm - 1;
  if (pokeIndex < 0 || pokeIndex >= st.pass.pokeCount) {
    throw new JitError('jit.bad-poke', `tail call names poke descriptor ${pokeIndex}, the program has ${st.pass.pokeCount}`, {}, { field: 'imm' });
  }
  st.pass.onPoke(pokeIndex, emitBpfTailCallDirect(e, st.pass.env, st.f.frame, st.ip), st.slot);
}

/**
 * `BPF_LDX | BPF_PROBE_MEM`: the MEM bytes, plus (image passes only) an extable entry
 * (x86-jit.md §4.2): insn = start of this instruction's chunk - &entry.insn,
 * fixup = chunk length | pt_regs offset of dst << 8, handler = ex_handler_bpf - &entry.handler.
 */
function emitProbeMemLdx(e: Emitter, insn: Insn, st: InsnState): void {
  if (st.pass.env.jit.probeMem !== 'plain') {
    throw new JitError('jit.unsupported-insn', 'PROBE_MEM load: the address guard 6.1 emits before it is not modeled', {}, { field: 'code' });
  }
  emitLdx(e, sizeOf(insn.code), insn.dst, insn.src, insn.off);
  const image = st.image;
  if (!image) return;
  const n = image.extable.length;
  if (n >= st.f.numExentries) throw new JitError('jit.extable', 'more PROBE_MEM loads than extable entries (ex gen bug)');
  const entry = image.address + BigInt(image.extableOffset + n * EXTABLE_ENTRY_SIZE);
  const insnDelta = image.address + BigInt(st.proglen) - entry;
  if (!isSimm32(insnDelta)) throw new JitError('jit.extable', "extable->insn doesn't fit into 32-bit");
  const handlerDelta = BigInt.asIntN(64, requireSymbol(st.pass.env.symbols.exHandlerBpf, 'exHandlerBpf') - (entry + 8n));
  if (!isSimm32(handlerDelta)) throw new JitError('jit.extable', "extable->handler doesn't fit into 32-bit");
  if (insn.dst > BPF_REG_9) throw new JitError('jit.extable', `PROBE_MEM load into r${insn.dst} (verifier error)`, {}, { field: 'dst' });
  const fixup = e.length | (reg2ptRegs[insn.dst] << 8);
  const view = new DataView(image.bytes.buffer, image.bytes.byteOffset + image.extableOffset + n * EXTABLE_ENTRY_SIZE, EXTABLE_ENTRY_SIZE);
  view.setInt32(0, Number(insnDelta), true);
  view.setInt32(4, fixup, true);
  view.setInt32(8, Number(handlerDelta), true);
  image.extable.push({ address: entry, insn: Number(insnDelta), fixup, handler: Number(handlerDelta) });
}
