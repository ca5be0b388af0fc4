// An annotated disassembly of a JIT result: each BPF instruction (kernel syntax) followed by
// its x86 code (iced-x86, Intel syntax), with call and jump targets named. In normalized mode
// (golden files) offsets replace addresses and address-dependent bytes are masked, so a listing
// does not change when the harness places images or kernel symbols elsewhere.

import iced from 'iced-x86';
import { kernelInsn } from '../asm/kernel.js';
import { Layout, type Insn } from '../isa/insn.js';
import type { VerifiedProgram } from '../verifier/types.js';
import { bpfInsnAt, insnRange } from './lookup.js';
import { BPF_TAIL_CALL } from './prologue.js';
import type { JitFunc, JitResult } from './types.js';

const { Decoder, DecoderOptions, FlowControl, Formatter, FormatterSyntax, OpKind } = iced;

export interface ListingOptions {
  /** Names an absolute address (helpers, thunks, maps, other programs); undefined when unknown. */
  readonly symbolize?: (address: bigint) => string | undefined;
  /** Offsets instead of addresses; rel32s leaving the function and named 64-bit constants masked. */
  readonly normalized?: boolean;
  /** Text of a BPF instruction; default: the kernel's syntax. */
  readonly bpfText?: (insn: Insn, slot: number) => string;
  /** `__bpf_call_base`, so that helper calls (imm = address - base) are named through `symbolize`. */
  readonly bpfCallBase?: bigint;
}

/** The Intel-syntax formatter the listings and the JIT tests share. */
export function intelFormatter(): InstanceType<typeof Formatter> {
  const f = new Formatter(FormatterSyntax.Intel);
  f.spaceAfterOperandSeparator = true;
  f.hexPrefix = '0x';
  f.hexSuffix = '';
  f.uppercaseHex = false;
  f.branchLeadingZeros = false;
  f.showBranchSize = false;
  f.smallHexNumbersInDecimal = false;
  return f;
}

/** The whole program: every function in order. */
export function formatListing(result: JitResult, prog: VerifiedProgram, options: ListingOptions = {}): string {
  const symbolize = withFuncNames(result, options.symbolize);
  const layout = new Layout(prog.insns);
  const lines: string[] = [];
  for (const f of result.funcs) {
    const first = layout.indexAt[f.firstSlot];
    const insns = prog.insns.slice(first, first + f.insnSlots.length);
    lines.push(...formatFuncListing(f, insns, { ...options, symbolize }));
  }
  return lines.join('\n') + '\n';
}

/** One function; `insns` are its instructions (in the order of `func.insnSlots`). */
export function formatFuncListing(func: JitFunc, insns: readonly Insn[], options: ListingOptions = {}): string[] {
  const normalized = options.normalized ?? false;
  const bpfText = options.bpfText ?? ((i: Insn) => defaultBpfText(i, options));
  const where = normalized ? '' : ` at 0x${func.address.toString(16)}`;
  const lines = [`; func ${func.index} ${func.name}: ${func.image.length} bytes${where}`, '; prologue'];
  const x86 = decodeAll(func, options);
  let next = 0;
  const emitUpTo = (end: number): void => {
    while (next < x86.length && x86[next].offset < end) lines.push(x86[next++].text);
  };
  emitUpTo(func.addrs[0]);
  insns.forEach((insn, k) => {
    const slot = func.firstSlot + func.insnSlots[k];
    lines.push(`; ${slot}: ${bpfText(insn, slot)}`);
    const { start, end } = insnRange(func, k);
    if (start === end) lines.push('        (no code)');
    emitUpTo(end);
  });
  return lines;
}

interface X86Line {
  readonly offset: number;
  readonly text: string;
}

function decodeAll(func: JitFunc, options: ListingOptions): X86Line[] {
  const normalized = options.normalized ?? false;
  const decoder = new Decoder(64, func.image, DecoderOptions.None);
  decoder.ip = func.address;
  const fmt = intelFormatter();
  const out: X86Line[] = [];
  const end = func.address + BigInt(func.image.length);
  try {
    while (decoder.canDecode) {
      const instr = decoder.decode();
      const offset = Number(instr.ip - func.address);
      const bytes = Array.from(func.image.subarray(offset, offset + instr.length), hex2);
      let text = fmt.format(instr);
      if (instr.op0Kind === OpKind.NearBranch64 && isBranch(instr.flowControl)) {
        const target = instr.nearBranch64;
        const mnemonic = fmt.formatMnemonic(instr);
        if (target >= func.address && target < end) {
          const t = Number(target - func.address);
          const at = bpfInsnAt(func, t);
          const label = at === 'prologue' ? `${func.name}+0x${t.toString(16)}` : `insn ${at}`;
          text = `${mnemonic} ${normalized ? `0x${t.toString(16)}` : `0x${target.toString(16)}`} <${label}>`;
        } else {
          const name = options.symbolize?.(target);
          text = normalized ? `${mnemonic} <${name ?? 'unknown'}>` : `${mnemonic} 0x${target.toString(16)}${name ? ` <${name}>` : ''}`;
          if (normalized) bytes.fill('..', bytes.length - 4);
        }
      } else if (instr.op1Kind === OpKind.Immediate64) {
        const name = options.symbolize?.(instr.immediate64);
        if (name) {
          text = normalized ? `${fmt.formatMnemonic(instr)} ${fmt.formatOperand(instr, 0)}, <${name}>` : `${text} <${name}>`;
          if (normalized) bytes.fill('..', bytes.length - 8);
        }
      }
      const at = normalized ? offset.toString(16).padStart(4, '0') : instr.ip.toString(16);
      out.push({ offset, text: `  ${at}  ${bytes.join(' ').padEnd(30)} ${text}` });
      instr.free();
    }
  } finally {
    decoder.free();
    fmt.free();
  }
  return out;
}

const isBranch = (fc: number): boolean =>
  fc === FlowControl.Call || fc === FlowControl.UnconditionalBranch || fc === FlowControl.ConditionalBranch;

/** Names the result's own functions (`entry`, `sub+0xb`) before asking the caller. */
function withFuncNames(result: JitResult, symbolize: ListingOptions['symbolize']): (a: bigint) => string | undefined {
  return (a) => {
    for (const f of result.funcs) {
      if (a >= f.address && a < f.address + BigInt(f.image.length)) {
        return a === f.address ? f.name : `${f.name}+0x${(a - f.address).toString(16)}`;
      }
    }
    return symbolize?.(a);
  };
}

function defaultBpfText(insn: Insn, options: ListingOptions): string {
  const code = `(${hex2(insn.code)}) `;
  if (insn.code === BPF_TAIL_CALL) {
    return `${code}tail_call ${insn.imm === 0 ? '(indirect)' : `(direct, poke ${insn.imm - 1})`}`;
  }
  const base = options.bpfCallBase;
  const helperName = base === undefined ? undefined : (imm: number) => options.symbolize?.(base + BigInt(imm));
  const immText = (_i: Insn, value: bigint): string | undefined => {
    const name = options.symbolize?.(value);
    return name === undefined ? undefined : `<${name}>`;
  };
  return code + kernelInsn(insn, { helperName, immText });
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
