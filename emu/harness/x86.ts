// x86 decoding the harness needs besides running: instruction counts of translated blocks
// (--trace) and finding the instruction of a read or write fault, which unicorn 2.0.1 reports
// with rip at the start of the translated block (the registers are those at the faulting
// instruction). A write hook would make unicorn sync rip before every store, but any memory
// hook sends every load and store through unicorn's slow path (loads ~8x slower), so the
// harness finds write faults by decoding instead.

import iced from 'iced-x86';
import { X86Reg, type Unicorn } from '../unicorn/index.js';

const { Decoder, DecoderOptions, FlowControl, InstructionInfoFactory, MemorySizeExt, Mnemonic, OpAccess, OpKind, Register, RegisterExt } = iced;

/** Longest x86 block the harness decodes in one go (unicorn's blocks are shorter). */
const MAX_BLOCK_BYTES = 4096;

/** Instructions in [address, address + size): unicorn's block hook gives bytes, not instructions. */
export function countInstructions(code: Uint8Array, address: bigint): number {
  const d = new Decoder(64, code, DecoderOptions.None);
  d.ip = address;
  let n = 0;
  try {
    while (d.canDecode) {
      const insn = d.decode();
      insn.free();
      n++;
    }
  } finally {
    d.free();
  }
  return n;
}

/**
 * Caches instruction counts by block start, checked against the byte size (a poke that turns a
 * jmp into a nop5 changes where a block ends). The hook runs once per executed block.
 */
export class BlockCounter {
  readonly #cache = new Map<bigint, { size: number; n: number }>();
  total = 0;

  constructor(private readonly uc: Unicorn) {}

  onBlock(address: bigint, size: number): void {
    let e = this.#cache.get(address);
    if (e === undefined || e.size !== size) {
      e = { size, n: size > 0 && size <= MAX_BLOCK_BYTES ? countInstructions(this.uc.memRead(address, size), address) : 1 };
      this.#cache.set(address, e);
    }
    this.total += e.n;
  }
}

const REGS = new Map<number, number>([
  [Register.RAX, X86Reg.RAX], [Register.RBX, X86Reg.RBX], [Register.RCX, X86Reg.RCX], [Register.RDX, X86Reg.RDX],
  [Register.RSI, X86Reg.RSI], [Register.RDI, X86Reg.RDI], [Register.RBP, X86Reg.RBP], [Register.RSP, X86Reg.RSP],
  [Register.R8, X86Reg.R8], [Register.R9, X86Reg.R9], [Register.R10, X86Reg.R10], [Register.R11, X86Reg.R11],
  [Register.R12, X86Reg.R12], [Register.R13, X86Reg.R13], [Register.R14, X86Reg.R14], [Register.R15, X86Reg.R15],
]);

/**
 * The instruction of the block at `blockStart` whose memory operand, computed with the registers
 * as they are now (the state at the fault), covers `faultAddr`; the block start if none does.
 */
export function locateReadFault(uc: Unicorn, blockStart: bigint, faultAddr: bigint, readable: (a: bigint, n: number) => Uint8Array | null): { address: bigint; exact: boolean } {
  const code = readable(blockStart, 64);
  if (!code) return { address: blockStart, exact: false };
  const d = new Decoder(64, code, DecoderOptions.None);
  d.ip = blockStart;
  try {
    while (d.canDecode) {
      const insn = d.decode();
      try {
        for (let k = 0; k < insn.opCount; k++) {
          if (insn.opKind(k) !== OpKind.Memory) continue;
          const ea = effectiveAddress(uc, insn);
          if (ea !== undefined && faultAddr >= ea && faultAddr < ea + 16n) return { address: insn.ip, exact: true };
        }
      } finally {
        insn.free();
      }
    }
  } finally {
    d.free();
  }
  return { address: blockStart, exact: false };
}

function effectiveAddress(uc: Unicorn, insn: InstanceType<typeof iced.Instruction>): bigint | undefined {
  let ea = BigInt.asUintN(64, BigInt(insn.memoryDisplacement));
  if (insn.isIpRelMemoryOperand) return insn.ipRelMemoryAddress;
  const base = insn.memoryBase;
  const index = insn.memoryIndex;
  for (const [r, scale] of [[base, 1], [index, insn.memoryIndexScale]] as const) {
    if (r === Register.None) continue;
    const reg = REGS.get(r);
    if (reg === undefined) return undefined;
    ea += uc.regRead(reg) * BigInt(scale);
  }
  return BigInt.asUintN(64, ea);
}

/** Bytes decoded from a block start: unicorn's x86 blocks end at a branch or a page. */
const FAULT_BLOCK_BYTES = [256, 64, 16];

/** One store of an instruction: where it writes and, for the plain forms, what. */
interface Store {
  readonly ip: bigint;
  readonly address: bigint;
  readonly size: number;
  /** The value written, zero-extended; undefined where the form is not a plain mov/push/call. */
  readonly value: bigint | undefined;
}

/**
 * The instruction of the block at `blockStart` whose store, computed with the registers as they
 * are now (the state at the fault), covers `fault.address`. Several can (pushes before an `sub
 * rsp` all write at rsp - 8 now): the one whose value is the one unicorn was writing wins. When
 * nothing decides, the first candidate (or the block start) with `exact: false`.
 */
export function locateWriteFault(
  uc: Unicorn, blockStart: bigint, fault: { address: bigint; value?: bigint },
  readable: (a: bigint, n: number) => Uint8Array | null,
): { address: bigint; exact: boolean } {
  let code: Uint8Array | null = null;
  for (const n of FAULT_BLOCK_BYTES) if ((code = readable(blockStart, n))) break;
  if (!code) return { address: blockStart, exact: false };
  const hits = blockStores(uc, code, blockStart).filter((st) => fault.address >= st.address && fault.address < st.address + BigInt(st.size));
  const known = fault.value === undefined ? [] : hits.filter((st) => st.value === fault.value);
  const open = hits.filter((st) => st.value === undefined);
  if (hits.length === 1) return { address: hits[0].ip, exact: !(known.length === 0 && open.length === 0 && fault.value !== undefined) };
  if (known.length > 0) return { address: known[0].ip, exact: known.length === 1 && open.length === 0 };
  return { address: hits[0]?.ip ?? blockStart, exact: false };
}

/** The stores of the instructions from `start` up to the first one that leaves the block. */
function blockStores(uc: Unicorn, code: Uint8Array, start: bigint): Store[] {
  const out: Store[] = [];
  const d = new Decoder(64, code, DecoderOptions.None);
  const factory = new InstructionInfoFactory();
  d.ip = start;
  try {
    while (d.canDecode) {
      const insn = d.decode();
      const info = factory.info(insn);
      try {
        if (insn.code === 0) break; // INVALID: the bytes ran out
        for (const m of info.usedMemory() as InstanceType<typeof iced.UsedMemory>[]) {
          const writes = [OpAccess.Write, OpAccess.CondWrite, OpAccess.ReadWrite, OpAccess.ReadCondWrite].includes(m.access);
          const address = writes ? usedAddress(uc, m) : undefined;
          if (address !== undefined) out.push({ ip: insn.ip, address, size: MemorySizeExt.size(m.memorySize), value: storedValue(uc, insn, MemorySizeExt.size(m.memorySize)) });
          m.free();
        }
        if (insn.flowControl !== FlowControl.Next) break;
      } finally {
        info.free();
        insn.free();
      }
    }
  } finally {
    factory.free();
    d.free();
  }
  return out;
}

function usedAddress(uc: Unicorn, m: InstanceType<typeof iced.UsedMemory>): bigint | undefined {
  // iced gives rip-relative operands with the absolute address as displacement.
  if (m.base === Register.RIP) return BigInt.asUintN(64, m.displacement);
  let ea = m.displacement;
  for (const [r, scale] of [[m.base, 1], [m.index, m.scale]] as const) {
    if (r === Register.None) continue;
    const v = gpr(uc, r);
    if (v === undefined) return undefined;
    ea += v * BigInt(scale);
  }
  return BigInt.asUintN(64, ea);
}

/** What `mov m, r/imm`, `push r/imm` and `call` store; undefined for other forms. */
function storedValue(uc: Unicorn, insn: InstanceType<typeof iced.Instruction>, size: number): bigint | undefined {
  const bits = 8 * size;
  let src = -1;
  if (insn.mnemonic === Mnemonic.Call) return BigInt.asUintN(bits, insn.nextIP);
  if (insn.mnemonic === Mnemonic.Push) src = 0;
  else if (insn.mnemonic === Mnemonic.Mov && insn.opKind(0) === OpKind.Memory) src = 1;
  if (src < 0) return undefined;
  const kind = insn.opKind(src);
  if (kind === OpKind.Register) {
    const v = gpr(uc, insn.opRegister(src));
    return v === undefined ? undefined : BigInt.asUintN(bits, v);
  }
  if (kind === OpKind.Immediate8 || kind === OpKind.Immediate16 || kind === OpKind.Immediate32 || kind === OpKind.Immediate8to64 ||
    kind === OpKind.Immediate32to64 || kind === OpKind.Immediate8to16 || kind === OpKind.Immediate8to32) {
    return BigInt.asUintN(bits, insn.immediate(src));
  }
  return undefined;
}

/** A general-purpose register's value as the instruction sees it (al, eax, rax); not ah..bh. */
function gpr(uc: Unicorn, r: number): bigint | undefined {
  if (!RegisterExt.isGPR(r) || (r >= Register.AH && r <= Register.BH)) return undefined;
  const reg = REGS.get(RegisterExt.fullRegister(r));
  return reg === undefined ? undefined : BigInt.asUintN(8 * RegisterExt.size(r), uc.regRead(reg));
}

/** Kernel addresses: the upper half of the address space, less small negative numbers (-1 .. -65536). */
export const isKernelAddress = (v: bigint): boolean => v >= 0xffff800000000000n && v < 0xffffffffffff0000n;

/**
 * Byte offsets of a JIT-ed function (decoded at `start`) that hold addresses and so differ
 * between two kernels running the same program: the rel32 of each call or jump that leaves the
 * function (helpers, other functions, tail-call targets, the return thunk) and each 64-bit or
 * sign-extended 32-bit immediate that is a kernel address (map and global-data pointers).
 */
export function addressByteOffsets(image: Uint8Array, start: bigint): Set<number> {
  const masked = new Set<number>();
  const mark = (from: number, n: number): void => {
    for (let k = 0; k < n; k++) masked.add(from + k);
  };
  const d = new Decoder(64, image, DecoderOptions.None);
  d.ip = start;
  const end = start + BigInt(image.length);
  try {
    while (d.canDecode) {
      const i = d.decode();
      const at = Number(i.ip - start);
      const co = d.getConstantOffsets(i);
      const fc = i.flowControl;
      const branch = i.op0Kind === OpKind.NearBranch64
        && (fc === FlowControl.Call || fc === FlowControl.UnconditionalBranch || fc === FlowControl.ConditionalBranch);
      if (branch) {
        if (i.nearBranch64 < start || i.nearBranch64 >= end) mark(at + i.length - 4, 4);
      } else if (co.hasImmediate && (co.immediateSize === 8 || co.immediateSize === 4)) {
        const v = co.immediateSize === 8 ? i.immediate64 : BigInt.asUintN(64, BigInt(i.immediate32to64));
        if (isKernelAddress(v)) mark(at + co.immediateOffset, co.immediateSize);
      }
      co.free();
      i.free();
    }
  } finally {
    d.free();
  }
  return masked;
}
