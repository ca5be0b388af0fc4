// x86 decoding the harness needs besides running: instruction counts of translated blocks
// (--trace) and finding the instruction of a read fault, which unicorn 2.0.1 reports with rip at
// the start of the translated block (writes are precise: the harness keeps a write hook, which
// makes unicorn sync rip before every store).

import iced from 'iced-x86';
import { X86Reg, type Unicorn } from '../unicorn/index.js';

const { Decoder, DecoderOptions, OpKind, Register } = iced;

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
