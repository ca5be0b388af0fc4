// The one table of BPF instruction forms (RFC 9669 with cpu v4). The assembler, the
// disassembler, the formatters and the release checks all read it; it is generated below from a
// short description, so a form's opcode, mnemonic, operand shape, cpu version and first Linux
// release can never disagree between those users.
//
// A form is one opcode plus, where the opcode alone is ambiguous, the value of the field that
// tells (`off` for sdiv/smod/movsx, `imm` for atomics and byte swaps, `src` for calls).

import {
  AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size, Source,
  classOf, modeOf, opOf, srcOf,
} from './opcode.js';
import type { Insn } from './insn.js';

export type Shape =
  | 'alu-reg'      // add %rD, %rS
  | 'alu-imm'      // add %rD, imm
  | 'neg'          // neg %rD
  | 'movsx'        // movsx864 %rD, %rS
  | 'end'          // be16 %rD
  | 'ld-imm64'     // lddw %rD, imm64
  | 'ld-abs'       // ldabsw imm
  | 'ld-ind'       // ldindw %rS, imm
  | 'ldx'          // ldxw %rD, [%rS+off]
  | 'st'           // stw [%rD+off], imm
  | 'stx'          // stxw [%rD+off], %rS
  | 'atomic'       // lock fetch add [%rD+off], %rS
  | 'ja'           // ja +off
  | 'gotol'        // ja32 +imm
  | 'jcond-imm'    // jeq %rD, imm, +off
  | 'jcond-reg'    // jeq %rD, %rS, +off
  | 'call'         // call imm
  | 'call-local'   // call local +imm
  | 'call-kfunc'   // call kfunc imm (btf id)
  | 'callx'        // call %rD
  | 'exit';        // exit

/** A Linux release as [major, minor]. */
export type Release = readonly [number, number];

export interface Form {
  readonly code: number;
  /** Mnemonic in the conformance suite's syntax (`add32`, `ldxsh`, `lock fetch or`). */
  readonly mnemonic: string;
  readonly shape: Shape;
  /** Field that selects among forms sharing an opcode, and its value. */
  readonly select?: { readonly field: 'off' | 'imm' | 'src'; readonly value: number };
  /** LLVM `-mcpu` version that first emits it. */
  readonly cpu: 1 | 2 | 3 | 4;
  /** First Linux release whose verifier accepts it; null when no release does. */
  readonly since: Release | null;
  /** What to say when a profile lacks it ("signed division"). */
  readonly feature: string;
}

const V1: Release = [3, 18];

function build(): Form[] {
  const forms: Form[] = [];
  const add = (f: Form) => forms.push(Object.freeze(f));

  const aluOps: [string, number][] = [
    ['add', AluOp.ADD], ['sub', AluOp.SUB], ['mul', AluOp.MUL], ['div', AluOp.DIV],
    ['or', AluOp.OR], ['and', AluOp.AND], ['lsh', AluOp.LSH], ['rsh', AluOp.RSH],
    ['mod', AluOp.MOD], ['xor', AluOp.XOR], ['mov', AluOp.MOV], ['arsh', AluOp.ARSH],
  ];
  for (const [cls, suffix] of [[Class.ALU64, ''], [Class.ALU, '32']] as const) {
    for (const [name, op] of aluOps) {
      const sel = op === AluOp.DIV || op === AluOp.MOD || op === AluOp.MOV ? { field: 'off' as const, value: 0 } : undefined;
      add({ code: cls | op | Source.X, mnemonic: name + suffix, shape: 'alu-reg', select: sel, cpu: 1, since: V1, feature: `${name}${suffix}` });
      add({ code: cls | op | Source.K, mnemonic: name + suffix, shape: 'alu-imm', select: sel, cpu: 1, since: V1, feature: `${name}${suffix}` });
    }
    for (const [name, op] of [['sdiv', AluOp.DIV], ['smod', AluOp.MOD]] as const) {
      const feature = 'signed division and modulo (cpu v4)';
      add({ code: cls | op | Source.X, mnemonic: name + suffix, shape: 'alu-reg', select: { field: 'off', value: 1 }, cpu: 4, since: [6, 6], feature });
      add({ code: cls | op | Source.K, mnemonic: name + suffix, shape: 'alu-imm', select: { field: 'off', value: 1 }, cpu: 4, since: [6, 6], feature });
    }
    add({ code: cls | AluOp.NEG | Source.K, mnemonic: 'neg' + suffix, shape: 'neg', cpu: 1, since: V1, feature: 'neg' + suffix });
  }
  for (const bits of [8, 16, 32]) {
    add({ code: Class.ALU64 | AluOp.MOV | Source.X, mnemonic: `movsx${bits}64`, shape: 'movsx', select: { field: 'off', value: bits }, cpu: 4, since: [6, 6], feature: 'sign-extending move (cpu v4)' });
  }
  for (const bits of [8, 16]) {
    add({ code: Class.ALU | AluOp.MOV | Source.X, mnemonic: `movsx${bits}32`, shape: 'movsx', select: { field: 'off', value: bits }, cpu: 4, since: [6, 6], feature: 'sign-extending move (cpu v4)' });
  }
  for (const bits of [16, 32, 64]) {
    add({ code: Class.ALU | AluOp.END | Source.K, mnemonic: `le${bits}`, shape: 'end', select: { field: 'imm', value: bits }, cpu: 1, since: V1, feature: `le${bits}` });
    add({ code: Class.ALU | AluOp.END | Source.X, mnemonic: `be${bits}`, shape: 'end', select: { field: 'imm', value: bits }, cpu: 1, since: V1, feature: `be${bits}` });
    add({ code: Class.ALU64 | AluOp.END | Source.K, mnemonic: `bswap${bits}`, shape: 'end', select: { field: 'imm', value: bits }, cpu: 4, since: [6, 6], feature: 'unconditional byte swap (cpu v4)' });
  }

  const sizes: [string, number][] = [['b', Size.B], ['h', Size.H], ['w', Size.W], ['dw', Size.DW]];
  add({ code: LD_IMM64, mnemonic: 'lddw', shape: 'ld-imm64', select: { field: 'src', value: PseudoSrc.IMM }, cpu: 1, since: V1, feature: 'ld_imm64' });
  const pseudo: [string, number, Release | null][] = [
    ['map_fd', PseudoSrc.MAP_FD, V1], ['map_value', PseudoSrc.MAP_VALUE, [5, 2]], ['btf_id', PseudoSrc.BTF_ID, [5, 10]],
    ['func', PseudoSrc.FUNC, [5, 13]], ['map_idx', PseudoSrc.MAP_IDX, [5, 14]], ['map_idx_value', PseudoSrc.MAP_IDX_VALUE, [5, 14]],
  ];
  for (const [name, src, since] of pseudo) {
    add({ code: LD_IMM64, mnemonic: `lddw_${name}`, shape: 'ld-imm64', select: { field: 'src', value: src }, cpu: 1, since, feature: `ld_imm64 with BPF_PSEUDO_${name.toUpperCase()}` });
  }
  for (const [s, size] of sizes) {
    if (size === Size.DW) continue;
    add({ code: Class.LD | Mode.ABS | size, mnemonic: `ldabs${s}`, shape: 'ld-abs', cpu: 1, since: V1, feature: `ldabs${s}` });
    add({ code: Class.LD | Mode.IND | size, mnemonic: `ldind${s}`, shape: 'ld-ind', cpu: 1, since: V1, feature: `ldind${s}` });
  }
  for (const [s, size] of sizes) {
    add({ code: Class.LDX | Mode.MEM | size, mnemonic: `ldx${s}`, shape: 'ldx', cpu: 1, since: V1, feature: `ldx${s}` });
    add({ code: Class.ST | Mode.MEM | size, mnemonic: `st${s}`, shape: 'st', cpu: 1, since: V1, feature: `st${s}` });
    add({ code: Class.STX | Mode.MEM | size, mnemonic: `stx${s}`, shape: 'stx', cpu: 1, since: V1, feature: `stx${s}` });
    if (size !== Size.DW) {
      add({ code: Class.LDX | Mode.MEMSX | size, mnemonic: `ldxs${s}`, shape: 'ldx', cpu: 4, since: [6, 6], feature: 'sign-extending load (cpu v4)' });
    }
  }
  const atomics: [string, number][] = [
    ['add', AtomicOp.ADD], ['or', AtomicOp.OR], ['and', AtomicOp.AND], ['xor', AtomicOp.XOR],
    ['fetch add', AtomicOp.ADD | AtomicOp.FETCH], ['fetch or', AtomicOp.OR | AtomicOp.FETCH],
    ['fetch and', AtomicOp.AND | AtomicOp.FETCH], ['fetch xor', AtomicOp.XOR | AtomicOp.FETCH],
    ['xchg', AtomicOp.XCHG], ['cmpxchg', AtomicOp.CMPXCHG],
  ];
  for (const [size, suffix] of [[Size.DW, ''], [Size.W, '32']] as const) {
    for (const [name, imm] of atomics) {
      const plainAdd = imm === AtomicOp.ADD;
      add({
        code: Class.STX | Mode.ATOMIC | size, mnemonic: `lock ${name}${suffix}`, shape: 'atomic',
        select: { field: 'imm', value: imm }, cpu: plainAdd ? 1 : 3, since: plainAdd ? V1 : [5, 12],
        feature: plainAdd ? 'atomic add' : `atomic ${name} (BPF_ATOMIC, cpu v3)`,
      });
    }
  }

  // BPF_LOAD_ACQ / BPF_STORE_REL (Linux 6.15): dst = *(src + off) and *(dst + off) = src, the
  // operands of ldx and stx, in every size.
  for (const [s, size] of sizes) {
    add({ code: Class.STX | Mode.ATOMIC | size, mnemonic: `load_acq${s}`, shape: 'ldx', select: { field: 'imm', value: 0x100 }, cpu: 4, since: [6, 15], feature: 'load-acquire (BPF_LOAD_ACQ)' });
    add({ code: Class.STX | Mode.ATOMIC | size, mnemonic: `store_rel${s}`, shape: 'stx', select: { field: 'imm', value: 0x110 }, cpu: 4, since: [6, 15], feature: 'store-release (BPF_STORE_REL)' });
  }

  add({ code: Class.JMP | JmpOp.JA, mnemonic: 'ja', shape: 'ja', cpu: 1, since: V1, feature: 'ja' });
  add({ code: Class.JMP32 | JmpOp.JA, mnemonic: 'ja32', shape: 'gotol', cpu: 4, since: [6, 6], feature: 'gotol (cpu v4)' });
  const conds: [string, number, 1 | 2][] = [
    ['jeq', JmpOp.JEQ, 1], ['jgt', JmpOp.JGT, 1], ['jge', JmpOp.JGE, 1], ['jset', JmpOp.JSET, 1],
    ['jne', JmpOp.JNE, 1], ['jsgt', JmpOp.JSGT, 1], ['jsge', JmpOp.JSGE, 1],
    ['jlt', JmpOp.JLT, 2], ['jle', JmpOp.JLE, 2], ['jslt', JmpOp.JSLT, 2], ['jsle', JmpOp.JSLE, 2],
  ];
  for (const [name, op, cpu] of conds) {
    const since: Release = cpu === 2 ? [4, 14] : V1;
    const feature = cpu === 2 ? `${name} (cpu v2)` : name;
    add({ code: Class.JMP | op | Source.K, mnemonic: name, shape: 'jcond-imm', cpu, since, feature });
    add({ code: Class.JMP | op | Source.X, mnemonic: name, shape: 'jcond-reg', cpu, since, feature });
    const f32 = `${name}32 (JMP32 class, cpu v3)`;
    add({ code: Class.JMP32 | op | Source.K, mnemonic: name + '32', shape: 'jcond-imm', cpu: 3, since: [5, 1], feature: f32 });
    add({ code: Class.JMP32 | op | Source.X, mnemonic: name + '32', shape: 'jcond-reg', cpu: 3, since: [5, 1], feature: f32 });
  }
  add({ code: Class.JMP | JmpOp.CALL, mnemonic: 'call', shape: 'call', select: { field: 'src', value: CallSrc.HELPER }, cpu: 1, since: V1, feature: 'helper call' });
  add({ code: Class.JMP | JmpOp.CALL, mnemonic: 'call local', shape: 'call-local', select: { field: 'src', value: CallSrc.LOCAL }, cpu: 1, since: [4, 16], feature: 'bpf2bpf call' });
  add({ code: Class.JMP | JmpOp.CALL, mnemonic: 'call kfunc', shape: 'call-kfunc', select: { field: 'src', value: CallSrc.KFUNC }, cpu: 1, since: [5, 13], feature: 'kfunc call' });
  add({ code: Class.JMP | JmpOp.CALL | Source.X, mnemonic: 'call', shape: 'callx', cpu: 1, since: null, feature: 'call through a register (callx)' });
  add({ code: Class.JMP | JmpOp.EXIT, mnemonic: 'exit', shape: 'exit', cpu: 1, since: V1, feature: 'exit' });
  return forms;
}

/** Every form, in table order. */
export const FORMS: readonly Form[] = Object.freeze(build());

const byCode = new Map<number, Form[]>();
for (const f of FORMS) {
  const list = byCode.get(f.code) ?? [];
  list.push(f);
  byCode.set(f.code, list);
}

/** Forms by mnemonic (a mnemonic can have a register and an immediate form). */
export const FORMS_BY_MNEMONIC: ReadonlyMap<string, readonly Form[]> = (() => {
  const m = new Map<string, Form[]>();
  for (const f of FORMS) {
    const list = m.get(f.mnemonic) ?? [];
    list.push(f);
    m.set(f.mnemonic, list);
  }
  return m;
})();

export type Described =
  | { readonly ok: true; readonly form: Form }
  | { readonly ok: false; readonly field: 'code' | 'off' | 'imm' | 'src' | 'dst'; readonly reason: string };

/**
 * Which form an instruction is, or why it is none. Register fields are checked for range
 * (0..10); what a verifier checks beyond the encoding (reserved fields being zero, r10 as a
 * destination) is not decided here.
 */
export function describe(i: Insn): Described {
  const forms = byCode.get(i.code);
  if (!forms) return { ok: false, field: 'code', reason: `unknown opcode 0x${i.code.toString(16).padStart(2, '0')}` };
  let form: Form | undefined;
  let selField: 'off' | 'imm' | 'src' | undefined;
  for (const f of forms) {
    if (!f.select) { form = f; break; }
    selField = f.select.field;
    if (i[f.select.field] === f.select.value) { form = f; break; }
  }
  if (!form) {
    const field = selField ?? 'code';
    return { ok: false, field, reason: `opcode 0x${i.code.toString(16).padStart(2, '0')} with ${field} ${i[field]} is not an instruction` };
  }
  if (i.dst > 10) return { ok: false, field: 'dst', reason: `invalid register r${i.dst}` };
  if (i.src > 10 && form.shape !== 'ld-imm64' && !form.shape.startsWith('call')) {
    return { ok: false, field: 'src', reason: `invalid register r${i.src}` };
  }
  return { ok: true, form };
}

/** True when the release `r` is `since` or later. */
export function releaseAtLeast(r: Release, since: Release): boolean {
  return r[0] > since[0] || (r[0] === since[0] && r[1] >= since[1]);
}

export const formatRelease = (r: Release): string => `${r[0]}.${r[1]}`;

// Re-exported so that users of the table need one import.
export { classOf, modeOf, opOf, srcOf };
