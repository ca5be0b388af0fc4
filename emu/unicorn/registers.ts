// How many bytes uc_reg_read writes for a register, and the scratch buffer register values pass
// through. unicorn writes only the register's own width (1 byte for AL, 4 for EAX, 16 for XMM0),
// so reads go into a zeroed 8-byte slot and narrow registers come out zero-extended. Wide
// registers have their own width; the struct-valued ones (IDTR/GDTR/LDTR/TR take uc_x86_mmr,
// MSR takes uc_x86_msr) cannot be read as a plain value and report width 0.

import { UcArch, X86Reg } from './consts.js';

/** Widths in bytes of the x86 registers that are not plain <= 64-bit values. */
function x86WideWidth(name: string): number | undefined {
  if (/^XMM\d+$/.test(name)) return 16;
  if (/^YMM\d+$/.test(name)) return 32;
  if (/^ZMM\d+$/.test(name)) return 64;
  // x87 registers: 64-bit mantissa then 16-bit sign/exponent (floatx80).
  if (/^(ST|FP)[0-7]$/.test(name)) return 10;
  if (['IDTR', 'GDTR', 'LDTR', 'TR', 'MSR'].includes(name)) return 0;
  return undefined;
}

const X86_WIDTHS: Uint8Array = (() => {
  const widths = new Uint8Array(X86Reg.ENDING).fill(8);
  for (const [name, id] of Object.entries(X86Reg)) {
    if (id < X86Reg.ENDING) widths[id] = x86WideWidth(name) ?? 8;
  }
  widths[X86Reg.INVALID] = 0;
  return widths;
})();

/** The largest value uc_reg_read may write (ZMM: 64 bytes); the scratch buffer's size. */
export const MAX_REG_BYTES = 64;

/**
 * Bytes of the register's value as uc_reg_read/uc_reg_write move it: 8 for every plain register
 * (narrower ones are zero-extended on read and truncated on write), 10/16/32/64 for x87/XMM/YMM/ZMM,
 * 0 for registers that need a struct (MSR, descriptor tables) or do not exist. Non-x86
 * architectures have no table here: any id in 1..1023 is taken as a plain register.
 */
export function regWidth(arch: number, reg: number): number {
  if (!Number.isInteger(reg) || reg <= 0) return 0;
  if (arch === UcArch.X86) return reg < X86_WIDTHS.length ? X86_WIDTHS[reg] : 0;
  return reg < 1024 ? 8 : 0;
}

/** A reusable 64-byte buffer for register values, so reads and writes allocate nothing. */
export class RegScratch {
  readonly u64 = new BigUint64Array(MAX_REG_BYTES / 8);
  readonly bytes = new Uint8Array(this.u64.buffer);

  /** Zero the part a read of `width` bytes may leave untouched. */
  clear(width: number): void {
    if (width <= 8) this.u64[0] = 0n;
    else this.bytes.fill(0, 0, width);
  }

  /** The little-endian value of the first `width` bytes. */
  decode(width: number): bigint {
    if (width <= 8) return this.u64[0];
    let v = 0n;
    for (let i = Math.ceil(width / 8) - 1; i >= 0; i--) v = (v << 64n) | this.u64[i];
    return width % 8 === 0 ? v : BigInt.asUintN(width * 8, v);
  }

  /** Store `value` (already range-checked, non-negative) little-endian over `width` bytes. */
  encode(value: bigint, width: number): void {
    if (width <= 8) {
      this.u64[0] = value;
      return;
    }
    this.bytes.fill(0, 0, MAX_REG_BYTES);
    for (let i = 0; i < Math.ceil(width / 8); i++) this.u64[i] = BigInt.asUintN(64, value >> BigInt(64 * i));
  }
}
