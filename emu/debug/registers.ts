// Register names the debuggers accept and the GDB remote protocol's register layout for
// i386:x86-64 (the order of gdb's 64bit-core.xml and 64bit-sse.xml, which gdb/target.xml also
// lists): the 16 general registers, rip, eflags, the six segment registers, the x87 registers
// and the SSE registers. BPF programs touch only the first 18; the rest read as their reset
// values so that gdb gets a complete description.

import { X86Reg } from '../unicorn/index.js';

/** The x86 registers the target reads and writes, as unicorn numbers them. */
export const X86_REGS = Object.freeze({
  rax: X86Reg.RAX, rbx: X86Reg.RBX, rcx: X86Reg.RCX, rdx: X86Reg.RDX,
  rsi: X86Reg.RSI, rdi: X86Reg.RDI, rbp: X86Reg.RBP, rsp: X86Reg.RSP,
  r8: X86Reg.R8, r9: X86Reg.R9, r10: X86Reg.R10, r11: X86Reg.R11,
  r12: X86Reg.R12, r13: X86Reg.R13, r14: X86Reg.R14, r15: X86Reg.R15,
  rip: X86Reg.RIP, eflags: X86Reg.EFLAGS,
  cs: X86Reg.CS, ss: X86Reg.SS, ds: X86Reg.DS, es: X86Reg.ES, fs: X86Reg.FS, gs: X86Reg.GS,
} as const);

export type X86RegName = keyof typeof X86_REGS;
export const X86_REG_NAMES = Object.freeze(Object.keys(X86_REGS) as X86RegName[]);

export type Registers = Readonly<Record<X86RegName, bigint>>;

/** BPF r0..r10 and the JIT's two scratch registers in x86 registers (the JIT's reg2hex, x86-jit.md §2.1). */
export const BPF_REGS: Readonly<Record<string, X86RegName>> = Object.freeze({
  r0: 'rax', r1: 'rdi', r2: 'rsi', r3: 'rdx', r4: 'rcx', r5: 'r8',
  r6: 'rbx', r7: 'r13', r8: 'r14', r9: 'r15', r10: 'rbp', ax: 'r10', aux: 'r11',
});

/** Resolves `r1` (BPF), `rdi`, `eax`-style 32-bit names are not accepted (ambiguous with BPF w regs). */
export function registerByName(name: string): X86RegName | undefined {
  const n = name.toLowerCase();
  if (n in BPF_REGS) return BPF_REGS[n];
  return (X86_REG_NAMES as readonly string[]).includes(n) ? (n as X86RegName) : undefined;
}

/** One register of the GDB `g` packet: its name, size and where its value comes from. */
export interface GdbRegister {
  readonly name: string;
  readonly bits: number;
  /** The target register, or the constant gdb is shown for the x87/SSE state BPF never uses. */
  readonly source: X86RegName | { readonly constant: bigint };
}

const zero = { constant: 0n };

/** gdb's numbering for i386:x86-64 (`regnum` in target.xml). */
export const GDB_REGISTERS: readonly GdbRegister[] = Object.freeze([
  ...(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'] as const)
    .map((name) => ({ name, bits: 64, source: name })),
  { name: 'eflags', bits: 32, source: 'eflags' },
  ...(['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const).map((name) => ({ name, bits: 32, source: name })),
  ...Array.from({ length: 8 }, (_, i) => ({ name: `st${i}`, bits: 80, source: zero })),
  // fctrl holds the x87 control word's reset value (FNINIT: 0x37f); the rest reset to 0.
  { name: 'fctrl', bits: 32, source: { constant: 0x37fn } },
  ...['fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((name) => ({ name, bits: 32, source: zero })),
  ...Array.from({ length: 16 }, (_, i) => ({ name: `xmm${i}`, bits: 128, source: zero })),
  // MXCSR's reset value: every exception masked.
  { name: 'mxcsr', bits: 32, source: { constant: 0x1f80n } },
]);
