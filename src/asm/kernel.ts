// Instructions in the kernel's own syntax: the verifier log and `bpftool prog dump xlated`, both
// printed by print_bpf_insn() in kernel/bpf/disasm.c. The formats below are that function's
// (current mainline, a superset of 5.10's: 5.10 lacks the cpu v4 forms and the BPF_ATOMIC
// fetch/xchg/cmpxchg forms, and prints the rest the same way):
//
//   ALU       `r0 += r1`, `w0 = 1`, `r0 s/= r1`, `r0 = -r0`, `w0 = (s8)w1`, `r0 = be16 r0`,
//             `r0 = bswap16 r0`
//   memory    `r0 = *(u32 *)(r1 +4)`, `r0 = *(s8 *)(r1 +0)`, `*(u64 *)(r10 -8) = r1`,
//             `*(u32 *)(r10 -4) = 5`, `r0 = *(u8 *)skb[12]`, `r0 = *(u16 *)skb[r6 + 2]`
//   atomics   `lock *(u64 *)(r10 -8) += r1`, `r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)`,
//             `r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r1)`, `r1 = atomic64_xchg(...)`
//   ld_imm64  `r1 = 0x1122334455667788`; the verifier prints every source that way (it has no
//             `cb_imm`), bpftool's print_imm() names pseudo sources: `map[id:5]`,
//             `map[id:5][0]+8`, `map[idx:1]+8`, `subprog[+3]`
//   jumps     `goto pc+3`, `gotol pc+3`, `if r1 > 0x2 goto pc+3`, `if w1 s< w2 goto pc-5`,
//             `call bpf_tail_call#12`, `call unknown#999`, `call pc+4`, `exit`
//
// The kernel has no text for callx (0x8d); it is shown as LLVM does, `callx r2`.

import { Layout, imm64, type Insn } from '../isa/insn.js';
import {
  AluOp, AtomicOp, Class, JmpOp, Mode, PseudoSrc, Size, Source, classOf, modeOf, opOf, sizeOf, srcOf,
} from '../isa/opcode.js';
import { describe, type Form } from '../isa/table.js';
import { LINUX_5_10_LAST_HELPER, helperName as tableHelperName } from './helper-names.js';
import { signed } from './syntax.js';

export interface KernelFormatOptions {
  /**
   * Name of a helper the table does not know (the kernel's `cb_call`); the table
   * (`bpf_map_lookup_elem`) wins for known ids, as in the kernel; `unknown` when neither knows.
   */
  helperName?: (id: number) => string | undefined;
  /** Name of a kfunc call (the verifier asks BTF); default `kernel-function`. */
  kfuncName?: (insn: Insn) => string | undefined;
  /**
   * Text of an ld_imm64's value (the kernel's `cb_imm`), e.g. to name a map; undefined falls back
   * to `immStyle`.
   */
  immText?: (insn: Insn, value: bigint) => string | undefined;
  /**
   * `bpftool` (default for `kernelInsn`): pseudo sources as print_imm() names them (`map[id:5]`);
   * `verifier`: every value as `0x…`, as the verifier log shows it.
   */
  immStyle?: 'bpftool' | 'verifier';
  /** Highest helper id the modelled kernel names (default 155, Linux 5.10's last). */
  lastHelperId?: number;
  /** Append ` ll` to 64-bit constants, as llvm-objdump does (the kernel does not). */
  llSuffix?: boolean;
}

/** `verifier`: `3: (b7) r0 = 1`; `bpftool`: `   3: (b7) r0 = 1`; `plain`: `r0 = 1`. */
export type KernelListingStyle = 'verifier' | 'bpftool' | 'plain';

export interface KernelListingOptions extends KernelFormatOptions {
  /** Default `verifier`; `immStyle` defaults to match (`plain` uses bpftool's). */
  style?: KernelListingStyle;
}

/** One instruction in the kernel's syntax, without the index and `(code)` prefix. */
export function kernelInsn(insn: Insn, options: KernelFormatOptions = {}): string {
  const d = describe(insn);
  return d.ok ? formText(insn, d.form, options) : bugText(insn);
}

/** A program, one line per instruction, numbered by slot as the verifier and bpftool number them. */
export function kernelListing(insns: readonly Insn[], options: KernelListingOptions = {}): string[] {
  const layout = new Layout(insns);
  const style = options.style ?? 'verifier';
  const format = { ...options, immStyle: options.immStyle ?? (style === 'verifier' ? 'verifier' : 'bpftool') } as const;
  return insns.map((insn, i) => {
    const text = kernelInsn(insn, format);
    if (style === 'plain') return text;
    const slot = layout.slotOf[i];
    // bpftool prints the index with "% 4d": a space for the sign, padded to four.
    const index = style === 'bpftool' ? ` ${slot}`.padStart(4) : String(slot);
    return `${index}: (${hex2(insn.code)}) ${text}`;
  });
}

// ---------------------------------------------------------------------------------------------

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

const ALU_OPS: Readonly<Record<number, string>> = {
  [AluOp.ADD]: '+=', [AluOp.SUB]: '-=', [AluOp.MUL]: '*=', [AluOp.DIV]: '/=',
  [AluOp.OR]: '|=', [AluOp.AND]: '&=', [AluOp.LSH]: '<<=', [AluOp.RSH]: '>>=',
  [AluOp.MOD]: '%=', [AluOp.XOR]: '^=', [AluOp.MOV]: '=', [AluOp.ARSH]: 's>>=',
};

const SIGNED_ALU_OPS: Readonly<Record<number, string>> = { [AluOp.DIV]: 's/=', [AluOp.MOD]: 's%=' };

const JMP_OPS: Readonly<Record<number, string>> = {
  [JmpOp.JEQ]: '==', [JmpOp.JGT]: '>', [JmpOp.JLT]: '<', [JmpOp.JGE]: '>=', [JmpOp.JLE]: '<=',
  [JmpOp.JSET]: '&', [JmpOp.JNE]: '!=', [JmpOp.JSGT]: 's>', [JmpOp.JSLT]: 's<', [JmpOp.JSGE]: 's>=',
  [JmpOp.JSLE]: 's<=',
};

const ATOMIC_NAMES: Readonly<Record<number, string>> = {
  [AtomicOp.ADD]: 'add', [AtomicOp.AND]: 'and', [AtomicOp.OR]: 'or', [AtomicOp.XOR]: 'xor',
};

/** bpf_ldst_string and bpf_ldsx_string. */
const SIZE_NAMES: Readonly<Record<number, string>> = { [Size.W]: 'u32', [Size.H]: 'u16', [Size.B]: 'u8', [Size.DW]: 'u64' };
const SIGNED_SIZE_NAMES: Readonly<Record<number, string>> = { [Size.W]: 's32', [Size.H]: 's16', [Size.B]: 's8' };
const sizeName = (code: number): string => SIZE_NAMES[sizeOf(code)];
const signedSizeName = (code: number): string => SIGNED_SIZE_NAMES[sizeOf(code)];

/** `(u32 *)(r1 +4)`: the kernel prints the offset with "%+d" after a space. */
const ptr = (type: string, reg: number, off: number): string => `(${type} *)(r${reg} ${signed(off)})`;

function formText(insn: Insn, form: Form, o: KernelFormatOptions): string {
  const w = classOf(insn.code) === Class.ALU || classOf(insn.code) === Class.JMP32 ? 'w' : 'r';
  const op = opOf(insn.code);
  const { dst, src, off, imm } = insn;
  switch (form.shape) {
    case 'alu-reg':
    case 'alu-imm': {
      const sym = off === 1 && SIGNED_ALU_OPS[op] ? SIGNED_ALU_OPS[op] : ALU_OPS[op];
      return `${w}${dst} ${sym} ${form.shape === 'alu-reg' ? `${w}${src}` : imm}`;
    }
    case 'movsx':
      return `${w}${dst} = (s${off})${w}${src}`;
    case 'neg':
      return `${w}${dst} = -${w}${dst}`;
    case 'end': {
      const kind = classOf(insn.code) === Class.ALU64 ? 'bswap' : srcOf(insn.code) === Source.X ? 'be' : 'le';
      return `r${dst} = ${kind}${imm} r${dst}`;
    }
    case 'ld-imm64':
      return `r${dst} = ${imm64Text(insn, o)}`;
    case 'ld-abs':
      return `r0 = *(${sizeName(insn.code)} *)skb[${imm}]`;
    case 'ld-ind':
      return `r0 = *(${sizeName(insn.code)} *)skb[r${src} + ${imm}]`;
    case 'ldx': {
      const type = modeOf(insn.code) === Mode.MEMSX ? signedSizeName(insn.code) : sizeName(insn.code);
      return `r${dst} = *${ptr(type, src, off)}`;
    }
    case 'st':
      return `*${ptr(sizeName(insn.code), dst, off)} = ${imm}`;
    case 'stx':
      return `*${ptr(sizeName(insn.code), dst, off)} = r${src}`;
    case 'atomic':
      return atomicText(insn);
    case 'ja':
      return `goto pc${signed(off)}`;
    case 'gotol':
      return `gotol pc${signed(imm)}`;
    case 'jcond-imm':
      return `if ${w}${dst} ${JMP_OPS[op]} 0x${(imm >>> 0).toString(16)} goto pc${signed(off)}`;
    case 'jcond-reg':
      return `if ${w}${dst} ${JMP_OPS[op]} ${w}${src} goto pc${signed(off)}`;
    case 'call':
      return `call ${helperText(imm, o)}#${imm}`;
    case 'call-local':
      return `call pc${signed(imm)}`;
    case 'call-kfunc':
      return `call ${o.kfuncName?.(insn) ?? 'kernel-function'}#${imm}`;
    case 'callx':
      return `callx r${dst}`;
    case 'exit':
      return 'exit';
  }
}

function atomicText(insn: Insn): string {
  const { dst, src, off, imm } = insn;
  const type = sizeName(insn.code);
  const bits = sizeOf(insn.code) === Size.DW ? '64' : '';
  const at = ptr(type, dst, off);
  if (imm === AtomicOp.XCHG) return `r${src} = atomic${bits}_xchg(${at}, r${src})`;
  if (imm === AtomicOp.CMPXCHG) return `r0 = atomic${bits}_cmpxchg(${at}, r0, r${src})`;
  const base = imm & ~AtomicOp.FETCH;
  if (imm & AtomicOp.FETCH) return `r${src} = atomic${bits}_fetch_${ATOMIC_NAMES[base]}(${at}, r${src})`;
  return `lock *${at} ${ALU_OPS[base]} r${src}`;
}

function helperText(id: number, o: KernelFormatOptions): string {
  const last = o.lastHelperId ?? LINUX_5_10_LAST_HELPER;
  const known = id <= last ? tableHelperName(id) : undefined;
  return known ?? o.helperName?.(id) ?? 'unknown';
}

function imm64Text(insn: Insn, o: KernelFormatOptions): string {
  const value = imm64(insn);
  const custom = o.immText?.(insn, value);
  if (custom !== undefined) return custom;
  const plain = `0x${value.toString(16)}${o.llSuffix ? ' ll' : ''}`;
  if (o.immStyle === 'verifier') return plain;
  // bpftool's print_imm(): map ids and offsets printed as unsigned 32-bit numbers.
  const u = (n: number) => n >>> 0;
  switch (insn.src) {
    case PseudoSrc.MAP_FD:
      return `map[id:${u(insn.imm)}]`;
    case PseudoSrc.MAP_VALUE:
      return `map[id:${u(insn.imm)}][0]+${u(insn.immHi)}`;
    case PseudoSrc.MAP_IDX_VALUE:
      return `map[idx:${u(insn.imm)}]+${u(insn.immHi)}`;
    case PseudoSrc.FUNC:
      return `subprog[${signed(insn.imm)}]`;
    default:
      return plain;
  }
}

/** What the kernel prints for encodings it has no text for (its `BUG_…` lines). */
function bugText(insn: Insn): string {
  const code = hex2(insn.code);
  switch (classOf(insn.code)) {
    case Class.LD:
      return `BUG_ld_${code}`;
    case Class.LDX:
      return `BUG_ldx_${code}`;
    case Class.ST:
      return `BUG_st_${code}`;
    case Class.STX:
      return `BUG_${code}`;
    default:
      // The kernel prints these with a missing operator string; a BUG line is clearer.
      return `BUG_${['ld', 'ldx', 'st', 'stx', 'alu', 'jmp', 'jmp32', 'alu64'][classOf(insn.code)]}_${code}`;
  }
}
