// What the conformance syntax says about each operand shape, shared by the assembler (which fields
// an operand list fills) and the disassembler (which fields it can show, so that anything else
// must be zero for the text to mean the same instruction).

import type { Shape } from '../isa/table.js';
import { FORMS, type Form } from '../isa/table.js';

/** One operand as written: `%r1`, `5`, `[%r10-8]`, `label` / `+3`. */
export type OperandKind = 'reg' | 'imm' | 'imm64' | 'mem' | 'target';

/** Operands per shape, in source order. */
export const SHAPE_OPERANDS: Readonly<Record<Shape, readonly OperandKind[]>> = Object.freeze({
  'alu-reg': ['reg', 'reg'],
  'alu-imm': ['reg', 'imm'],
  neg: ['reg'],
  movsx: ['reg', 'reg'],
  end: ['reg'],
  'ld-imm64': ['reg', 'imm64'],
  'ld-abs': ['imm'],
  'ld-ind': ['reg', 'imm'],
  ldx: ['reg', 'mem'],
  st: ['mem', 'imm'],
  stx: ['mem', 'reg'],
  atomic: ['mem', 'reg'],
  ja: ['target'],
  gotol: ['target'],
  'jcond-imm': ['reg', 'imm', 'target'],
  'jcond-reg': ['reg', 'reg', 'target'],
  call: ['imm'],
  'call-local': ['target'],
  'call-kfunc': ['imm'],
  callx: ['reg'],
  exit: [],
});

export type InsnField = 'dst' | 'src' | 'off' | 'imm' | 'immHi';

/**
 * The fields a shape's operands set. With the form's selector field (`Form.select`) they are all
 * the text determines: every other field must be zero, or the text would stand for a different
 * instruction.
 */
export const SHAPE_FIELDS: Readonly<Record<Shape, readonly InsnField[]>> = Object.freeze({
  'alu-reg': ['dst', 'src'],
  'alu-imm': ['dst', 'imm'],
  neg: ['dst'],
  movsx: ['dst', 'src'],
  end: ['dst'],
  'ld-imm64': ['dst', 'imm', 'immHi'],
  'ld-abs': ['imm'],
  'ld-ind': ['src', 'imm'],
  ldx: ['dst', 'src', 'off'],
  st: ['dst', 'off', 'imm'],
  stx: ['dst', 'src', 'off'],
  atomic: ['dst', 'src', 'off'],
  ja: ['off'],
  gotol: ['imm'],
  'jcond-imm': ['dst', 'imm', 'off'],
  'jcond-reg': ['dst', 'src', 'off'],
  call: ['imm'],
  'call-local': ['imm'],
  'call-kfunc': ['imm'],
  callx: ['dst'],
  exit: [],
});

/** Fields of `form` that its text shows: the operands' and the selector. */
export function shownFields(form: Form): readonly InsnField[] {
  const fields = SHAPE_FIELDS[form.shape];
  return form.select ? [...fields, form.select.field] : fields;
}

/** Mnemonics the suite accepts besides the table's own (`swap16` is the older name of `bswap16`). */
export const MNEMONIC_ALIASES: ReadonlyMap<string, string> = new Map([
  ['swap16', 'bswap16'],
  ['swap32', 'bswap32'],
  ['swap64', 'bswap64'],
]);

/** Forms by every accepted spelling, aliases included. */
export const FORMS_BY_SPELLING: ReadonlyMap<string, readonly Form[]> = (() => {
  const m = new Map<string, Form[]>();
  for (const f of FORMS) {
    const list = m.get(f.mnemonic) ?? [];
    list.push(f);
    m.set(f.mnemonic, list);
  }
  for (const [alias, name] of MNEMONIC_ALIASES) m.set(alias, m.get(name) ?? []);
  return m;
})();

/** Longest mnemonic in words (`lock fetch add32` is three). */
export const MAX_MNEMONIC_WORDS = Math.max(...[...FORMS_BY_SPELLING.keys()].map((k) => k.split(' ').length));

/** A label name: what `name:` may define and a jump may name. */
export const LABEL_RE = /^[A-Za-z_.$][\w.$]*$/;

/** `%+d`: a signed decimal that always carries its sign, as jump offsets are written. */
export const signed = (n: number): string => (n < 0 ? `${n}` : `+${n}`);

/** `0x…` of the unsigned 32-bit pattern of `n`. */
export const hex32 = (n: number): string => `0x${(n >>> 0).toString(16)}`;
