// `Insn[]` -> text in the conformance syntax, one instruction per line, such that assembling the
// text gives the same instructions back. Never throws: an instruction `describe()` rejects comes
// back as an `invalid` line with the reason, and a field the syntax cannot show (a reserved field
// that is not zero) is listed in `unshown` and named in a trailing comment.

import { Layout, imm64, type Insn } from '../isa/insn.js';
import { AluOp, JmpOp, opOf } from '../isa/opcode.js';
import { describe, type Form } from '../isa/table.js';
import { hex32, shownFields, signed, type InsnField } from './syntax.js';

export interface DisasmOptions {
  /** Name jump and local-call targets with labels (`L7:`, named after the slot) instead of `+N`. */
  labels?: boolean;
}

export interface DisasmLine {
  /** Instruction index. */
  readonly index: number;
  /** First slot of the instruction. */
  readonly slot: number;
  readonly insn: Insn;
  /** The form, or undefined when the instruction is invalid. */
  readonly form: Form | undefined;
  /** Why `describe()` rejected it, when it did. */
  readonly invalid?: { readonly field: string; readonly reason: string };
  /** Non-zero fields the text cannot show (so the text stands for a different instruction). */
  readonly unshown: readonly InsnField[];
  /** Label defined at this instruction (with `labels`). */
  readonly label?: string;
  readonly text: string;
}

export function disassemble(insns: readonly Insn[], options: DisasmOptions = {}): DisasmLine[] {
  const layout = new Layout(insns);
  const labels = options.labels ? targetLabels(insns, layout) : new Map<number, string>();
  return insns.map((insn, index) => {
    const slot = layout.slotOf[index];
    const d = describe(insn);
    const label = labels.get(slot);
    const base = { index, slot, insn, ...(label === undefined ? {} : { label }) };
    if (!d.ok) {
      const invalid = { field: d.field, reason: d.reason };
      return { ...base, form: undefined, invalid, unshown: [], text: invalidText(insn, d.reason) };
    }
    const unshown = unshownFields(insn, d.form);
    const text = formText(insn, d.form, (delta) => labels.get(slot + 1 + delta));
    const note = unshown.length ? ` # not shown: ${unshown.map((f) => `${f}=${insn[f]}`).join(', ')}` : '';
    return { ...base, form: d.form, unshown, text: text + note };
  });
}

/** The whole program as text, labels on their own lines, ending in a newline. */
export function disassembleText(insns: readonly Insn[], options: DisasmOptions = {}): string {
  const out: string[] = [];
  for (const line of disassemble(insns, options)) {
    if (line.label !== undefined) out.push(`${line.label}:`);
    out.push(line.text);
  }
  // A jump may target the slot just past the end; its label closes the listing.
  if (options.labels) {
    const layout = new Layout(insns);
    const end = targetLabels(insns, layout).get(layout.slots);
    if (end !== undefined) out.push(`${end}:`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** One instruction, jump targets as `+N`/`-N`; an invalid one as `invalid: reason …`. */
export function formatInsn(insn: Insn): string {
  return disassemble([insn])[0].text;
}

// ---------------------------------------------------------------------------------------------

const reg = (n: number): string => `%r${n}`;
const mem = (r: number, off: number): string => (off === 0 ? `[${reg(r)}]` : `[${reg(r)}${signed(off)}]`);

/** Bit operations read better with the immediate as a hex pattern; the rest as signed decimal. */
function immText(insn: Insn, form: Form): string {
  const op = opOf(insn.code);
  const bitwise = form.shape === 'alu-imm'
    ? op === AluOp.AND || op === AluOp.OR || op === AluOp.XOR
    : form.shape === 'jcond-imm' && op === JmpOp.JSET;
  return bitwise ? hex32(insn.imm) : String(insn.imm);
}

function formText(insn: Insn, form: Form, labelAt: (delta: number) => string | undefined): string {
  const m = form.mnemonic;
  const target = (delta: number) => labelAt(delta) ?? signed(delta);
  switch (form.shape) {
    case 'alu-reg':
    case 'movsx':
      return `${m} ${reg(insn.dst)}, ${reg(insn.src)}`;
    case 'alu-imm':
      return `${m} ${reg(insn.dst)}, ${immText(insn, form)}`;
    case 'neg':
    case 'end':
    case 'callx':
      return `${m} ${reg(insn.dst)}`;
    case 'ld-imm64':
      return `${m} ${reg(insn.dst)}, 0x${imm64(insn).toString(16)}`;
    case 'ld-abs':
      return `${m} ${insn.imm}`;
    case 'ld-ind':
      return `${m} ${reg(insn.src)}, ${insn.imm}`;
    case 'ldx':
      return `${m} ${reg(insn.dst)}, ${mem(insn.src, insn.off)}`;
    case 'st':
      return `${m} ${mem(insn.dst, insn.off)}, ${insn.imm}`;
    case 'stx':
    case 'atomic':
      return `${m} ${mem(insn.dst, insn.off)}, ${reg(insn.src)}`;
    case 'ja':
      return `${m} ${target(insn.off)}`;
    case 'gotol':
    case 'call-local':
      return `${m} ${target(insn.imm)}`;
    case 'jcond-imm':
      return `${m} ${reg(insn.dst)}, ${immText(insn, form)}, ${target(insn.off)}`;
    case 'jcond-reg':
      return `${m} ${reg(insn.dst)}, ${reg(insn.src)}, ${target(insn.off)}`;
    case 'call':
    case 'call-kfunc':
      return `${m} ${insn.imm}`;
    case 'exit':
      return m;
  }
}

const ALL_FIELDS: readonly InsnField[] = ['dst', 'src', 'off', 'imm', 'immHi'];

function unshownFields(insn: Insn, form: Form): InsnField[] {
  const shown = shownFields(form);
  return ALL_FIELDS.filter((f) => insn[f] !== 0 && !shown.includes(f));
}

function invalidText(insn: Insn, reason: string): string {
  const code = `0x${insn.code.toString(16).padStart(2, '0')}`;
  return `invalid: ${reason} [code ${code}, dst ${insn.dst}, src ${insn.src}, off ${insn.off}, imm ${insn.imm}]`;
}

/** Slot of the target of a jump or local call, relative to the next slot; undefined for others. */
function jumpDelta(insn: Insn, form: Form): number | undefined {
  switch (form.shape) {
    case 'ja':
    case 'jcond-imm':
    case 'jcond-reg':
      return insn.off;
    case 'gotol':
    case 'call-local':
      return insn.imm;
    default:
      return undefined;
  }
}

/** `L<slot>` for every slot some jump lands on, when it is an instruction start or the end. */
function targetLabels(insns: readonly Insn[], layout: Layout): Map<number, string> {
  const labels = new Map<number, string>();
  insns.forEach((insn, i) => {
    const d = describe(insn);
    const delta = d.ok ? jumpDelta(insn, d.form) : undefined;
    if (delta === undefined) return;
    const to = layout.slotOf[i] + 1 + delta;
    const lands = to === layout.slots || (to >= 0 && to < layout.slots && layout.indexAt[to] >= 0);
    if (lands) labels.set(to, `L${to}`);
  });
  return labels;
}
