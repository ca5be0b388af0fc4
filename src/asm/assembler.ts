// Text in the conformance suite's syntax -> `Insn[]`, driven by the form table.
//
// Two passes: the first parses every line into an instruction whose jump target may still be a
// label, counting slots (`lddw` takes two); the second resolves labels into slot offsets
// (`target - (slot + 1)`, as the suite's assembler and the kernel count them). The first `exit`
// is also a label called `exit` unless the text defines one.

import { insn as makeInsn, width, type Insn } from '../isa/insn.js';
import type { Form } from '../isa/table.js';
import { AsmError, type AsmErrorCode } from './errors.js';
import {
  FORMS_BY_SPELLING, LABEL_RE, MAX_MNEMONIC_WORDS, SHAPE_OPERANDS, type OperandKind,
} from './syntax.js';

export interface AssembleOptions {
  /** File name for error locations. */
  file?: string;
  /** Line number of the first line of `text` (a `.data` file's asm section starts mid-file). */
  firstLine?: number;
}

export interface AssembledProgram {
  readonly insns: Insn[];
  /** Source line of each instruction, parallel to `insns`. */
  readonly lines: number[];
  /** Every label (defined, or the implicit `exit`) and the slot it names. */
  readonly labels: ReadonlyMap<string, number>;
}

/** Assembles `text`; throws `AsmError` (with line:column) on the first mistake. */
export function assemble(text: string, options: AssembleOptions = {}): Insn[] {
  return assembleProgram(text, options).insns;
}

export function assembleProgram(text: string, options: AssembleOptions = {}): AssembledProgram {
  const ctx = new Context(options.file);
  const pending: Pending[] = [];
  const labels = new Map<string, { slot: number; line: number }>();
  let slot = 0;
  let firstExit: number | undefined;

  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const line: SourceLine = { number: (options.firstLine ?? 1) + i, text: rows[i].replace(/\r$/, '') };
    const stmt = splitStatement(line, ctx);
    if (stmt.label) defineLabel(labels, stmt.label, slot, ctx);
    if (!stmt.insn) continue;
    const p = parseInsn(stmt.insn, ctx);
    if (p.form.shape === 'exit' && firstExit === undefined) firstExit = slot;
    p.slot = slot;
    pending.push(p);
    slot += width(makeInsn(p.form.code));
  }

  const slots = new Map([...labels].map(([name, l]) => [name, l.slot]));
  if (!slots.has('exit') && firstExit !== undefined) slots.set('exit', firstExit);

  const insns = pending.map((p) => resolve(p, slots, ctx));
  return { insns, lines: pending.map((p) => p.line.number), labels: slots };
}

// ---------------------------------------------------------------------------------------------
// Lines and tokens

interface SourceLine {
  readonly number: number;
  readonly text: string;
}

/** A piece of a line, with its 1-based column. */
interface Token {
  readonly text: string;
  readonly column: number;
  readonly line: SourceLine;
}

class Context {
  constructor(readonly file: string | undefined) {}

  fail(code: AsmErrorCode, message: string, at: Token, notes: string[] = []): never {
    const where = { line: at.line.number, column: at.column };
    const loc = this.file === undefined ? where : { file: this.file, ...where };
    throw new AsmError(code, message, loc, at.line.text, at.text.length, notes);
  }
}

const tokenAt = (line: SourceLine, index: number, text: string): Token => ({ text, column: index + 1, line });

/** An instruction's words: the mnemonic candidates and the operand text after them. */
interface InsnText {
  /** Leading whitespace-separated words that may form a mnemonic. */
  readonly words: Token[];
  readonly line: SourceLine;
  /** Where the code ends (a comment or the end of the line), 0-based. */
  readonly end: number;
}

interface Statement {
  readonly label?: Token;
  readonly insn?: InsnText;
}

/** Splits one line into an optional `name:` label and an optional instruction; `#` starts a comment. */
function splitStatement(line: SourceLine, ctx: Context): Statement {
  const hash = line.text.indexOf('#');
  const end = hash < 0 ? line.text.length : hash;
  const code = line.text.slice(0, end);
  let at = skipSpace(code, 0);
  let label: Token | undefined;

  const m = /^([^\s,:[\]]+):/.exec(code.slice(at));
  if (m) {
    label = tokenAt(line, at, m[1]);
    if (!LABEL_RE.test(m[1])) ctx.fail('asm.bad-label', `'${m[1]}' is not a valid label name`, label);
    at = skipSpace(code, at + m[0].length);
  }
  if (at >= end) return { label };

  const words: Token[] = [];
  let i = at;
  while (words.length < MAX_MNEMONIC_WORDS && i < end) {
    const w = /^[A-Za-z_][\w]*/.exec(code.slice(i));
    const next = w ? i + w[0].length : i;
    if (!w || (next < end && !/\s/.test(code[next]))) break;
    words.push(tokenAt(line, i, w[0]));
    i = skipSpace(code, next);
  }
  if (words.length === 0) {
    const t = /^\S+/.exec(code.slice(at))![0];
    ctx.fail('asm.unknown-mnemonic', `expected an instruction or a label, got '${t}'`, tokenAt(line, at, t));
  }
  return { label, insn: { words, line, end } };
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i])) i++;
  return i;
}

/** Splits the operand text (from `start` to `end` of the line) on commas. */
function splitOperands(line: SourceLine, start: number, end: number, ctx: Context): Token[] {
  const text = line.text.slice(0, end);
  if (skipSpace(text, start) >= end) return [];
  const out: Token[] = [];
  let from = start;
  for (;;) {
    const comma = text.indexOf(',', from);
    const stop = comma < 0 ? end : comma;
    const a = skipSpace(text, from);
    let b = stop;
    while (b > a && /\s/.test(text[b - 1])) b--;
    const tok = tokenAt(line, a, text.slice(a, b));
    if (tok.text === '') ctx.fail('asm.bad-operand', 'empty operand', tokenAt(line, Math.min(a, end - 1), ','));
    const gap = /\s+(?![^[]*\])/.exec(tok.text);
    if (gap) {
      const rest = tok.text.slice(gap.index + gap[0].length);
      ctx.fail('asm.bad-operand', `expected ',' before '${rest}'`, tokenAt(line, a + gap.index + gap[0].length, rest));
    }
    out.push(tok);
    if (comma < 0) return out;
    from = comma + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Instructions

interface Fields {
  dst: number;
  src: number;
  off: number;
  imm: number;
  immHi: number;
}

interface Pending {
  readonly form: Form;
  readonly fields: Fields;
  readonly line: SourceLine;
  /** A jump or local call to a label, resolved once every label is known. */
  target?: { readonly token: Token; readonly field: 'off' | 'imm' };
  slot: number;
}

function parseInsn(text: InsnText, ctx: Context): Pending {
  const { mnemonic, forms, operandStart } = findMnemonic(text, ctx);
  const operands = splitOperands(text.line, operandStart, text.end, ctx);
  const form = chooseForm(mnemonic, forms, operands, ctx);
  const fields: Fields = { dst: 0, src: 0, off: 0, imm: 0, immHi: 0 };
  if (form.select) fields[form.select.field] = form.select.value;
  const p: Pending = { form, fields, line: text.line, slot: 0 };
  fillOperands(p, operands, ctx);
  return p;
}

/** The longest run of leading words that spells a mnemonic. */
function findMnemonic(text: InsnText, ctx: Context): { mnemonic: Token; forms: readonly Form[]; operandStart: number } {
  for (let n = text.words.length; n > 0; n--) {
    const forms = FORMS_BY_SPELLING.get(text.words.slice(0, n).map((w) => w.text).join(' '));
    if (!forms) continue;
    const first = text.words[0];
    const last = text.words[n - 1];
    const endCol = last.column - 1 + last.text.length;
    const spelled = text.line.text.slice(first.column - 1, endCol);
    return { mnemonic: tokenAt(text.line, first.column - 1, spelled), forms, operandStart: endCol };
  }
  // `lock frob`: name the words a multi-word mnemonic would have used, not just `lock`.
  const first = text.words[0];
  const multi = [...FORMS_BY_SPELLING.keys()].some((k) => k.startsWith(first.text + ' '));
  const last = multi ? text.words[text.words.length - 1] : first;
  const spelled = text.line.text.slice(first.column - 1, last.column - 1 + last.text.length);
  ctx.fail('asm.unknown-mnemonic', `unknown mnemonic '${spelled}'`, tokenAt(text.line, first.column - 1, spelled));
}

/** Among a mnemonic's forms (register or immediate source, helper call or callx), the one the operands fit. */
function chooseForm(mnemonic: Token, forms: readonly Form[], operands: Token[], ctx: Context): Form {
  const byCount = forms.filter((f) => SHAPE_OPERANDS[f.shape].length === operands.length);
  if (byCount.length === 0) {
    const counts = [...new Set(forms.map((f) => SHAPE_OPERANDS[f.shape].length))].sort();
    const want = counts.join(' or ');
    const at = operands.length > counts[counts.length - 1] ? operands[counts[counts.length - 1]] : mnemonic;
    ctx.fail(
      'asm.operand-count',
      `'${mnemonic.text}' takes ${want} operand${want === '1' ? '' : 's'}, got ${operands.length}`,
      at,
    );
  }
  const fits = (f: Form) =>
    SHAPE_OPERANDS[f.shape].every((kind, i) => (kind === 'reg') === operands[i].text.startsWith('%'));
  return byCount.find(fits) ?? byCount[0];
}

function fillOperands(p: Pending, operands: Token[], ctx: Context): void {
  const f = p.fields;
  const kinds = SHAPE_OPERANDS[p.form.shape];
  kinds.forEach((kind: OperandKind, i) => {
    const tok = operands[i];
    switch (kind) {
      case 'reg':
        f[regField(p.form, i)] = parseRegister(tok, ctx);
        return;
      case 'imm':
        f.imm = parseImm32(tok, ctx);
        return;
      case 'imm64': {
        const v = parseImm64(tok, ctx);
        f.imm = Number(BigInt.asIntN(32, v));
        f.immHi = Number(BigInt.asIntN(32, v >> 32n));
        return;
      }
      case 'mem': {
        const m = parseMemory(tok, ctx);
        // ldx reads through src; st/stx/atomics write through dst.
        if (p.form.shape === 'ldx') f.src = m.reg;
        else f.dst = m.reg;
        f.off = m.off;
        return;
      }
      case 'target': {
        const field = p.form.shape === 'ja' || p.form.shape.startsWith('jcond') ? 'off' : 'imm';
        const n = parseTarget(tok, field, ctx);
        if (n === undefined) p.target = { token: tok, field };
        else f[field] = n;
        return;
      }
    }
  });
}

/** Which field the i-th register operand fills. */
function regField(form: Form, i: number): 'dst' | 'src' {
  switch (form.shape) {
    case 'ld-ind':
    case 'stx':
    case 'atomic':
      return 'src';
    case 'alu-reg':
    case 'movsx':
    case 'jcond-reg':
      return i === 0 ? 'dst' : 'src';
    default:
      // callx takes its register in dst (RFC 9669 §4.3.1 as the suite encodes `call %rN`).
      return 'dst';
  }
}

function resolve(p: Pending, labels: ReadonlyMap<string, number>, ctx: Context): Insn {
  const f = p.fields;
  if (p.target) {
    const { token, field } = p.target;
    const to = labels.get(token.text);
    if (to === undefined) ctx.fail('asm.unknown-label', `unknown label '${token.text}'`, token);
    const delta = to - (p.slot + 1);
    if (field === 'off' && !fitsS16(delta)) {
      ctx.fail('asm.offset-range', `'${token.text}' is ${delta} slots away; a jump offset holds -32768..32767`, token);
    }
    f[field] = delta;
  }
  return makeInsn(p.form.code, f.dst, f.src, f.off, f.imm, f.immHi);
}

function defineLabel(labels: Map<string, { slot: number; line: number }>, tok: Token, slot: number, ctx: Context): void {
  const prev = labels.get(tok.text);
  if (prev) {
    ctx.fail('asm.duplicate-label', `label '${tok.text}' is already defined`, tok, [`first defined at line ${prev.line}`]);
  }
  labels.set(tok.text, { slot, line: tok.line.number });
}

// ---------------------------------------------------------------------------------------------
// Operands

const NUMBER_RE = /^([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)$/;
const S32_MIN = -(2n ** 31n);
const S32_MAX = 2n ** 31n - 1n;
const U32_MAX = 2n ** 32n - 1n;
const U64_MAX = 2n ** 64n - 1n;

const fitsS16 = (n: number): boolean => n >= -32768 && n <= 32767;

/** A number as written: its sign, magnitude and whether it was hex; undefined if it is not one. */
function parseNumber(text: string): { negative: boolean; magnitude: bigint; hex: boolean } | undefined {
  const m = NUMBER_RE.exec(text);
  if (!m) return undefined;
  return { negative: m[1] === '-', magnitude: BigInt(m[2]), hex: /^0[xX]/.test(m[2]) };
}

function parseRegister(tok: Token, ctx: Context): number {
  const m = /^%r(\d+)$/.exec(tok.text);
  if (!tok.text.startsWith('%')) ctx.fail('asm.bad-register', `expected a register (%r0..%r10), got '${tok.text}'`, tok);
  if (!m || Number(m[1]) > 10 || (m[1].length > 1 && m[1].startsWith('0'))) {
    ctx.fail('asm.bad-register', `invalid register '${tok.text}' (registers are %r0..%r10)`, tok);
  }
  return Number(m[1]);
}

/** A 32-bit immediate: hex is an unsigned 32-bit pattern, decimal must fit a signed 32-bit value. */
function parseImm32(tok: Token, ctx: Context): number {
  const n = parseNumber(tok.text);
  if (!n) ctx.fail('asm.bad-immediate', `expected an immediate, got '${tok.text}'`, tok);
  const v = n.negative ? -n.magnitude : n.magnitude;
  const ok = n.hex && !n.negative ? v <= U32_MAX : v >= S32_MIN && v <= S32_MAX;
  if (!ok) {
    const range = n.hex ? '0x0..0xffffffff' : '-2147483648..2147483647';
    ctx.fail('asm.imm-range', `immediate ${tok.text} does not fit in 32 bits (${n.hex ? 'hex' : 'decimal'}: ${range})`, tok);
  }
  return Number(BigInt.asIntN(32, v));
}

/** The 64-bit constant of `lddw`: any value that fits 64 bits, signed or unsigned. */
function parseImm64(tok: Token, ctx: Context): bigint {
  const n = parseNumber(tok.text);
  if (!n) ctx.fail('asm.bad-immediate', `expected an immediate, got '${tok.text}'`, tok);
  const ok = n.negative ? n.magnitude <= 2n ** 63n : n.magnitude <= U64_MAX;
  if (!ok) ctx.fail('asm.imm-range', `immediate ${tok.text} does not fit in 64 bits`, tok);
  return BigInt.asUintN(64, n.negative ? -n.magnitude : n.magnitude);
}

/** `[%rN]`, `[%rN+off]` or `[%rN-off]`; the offset must fit the signed 16-bit `off`. */
function parseMemory(tok: Token, ctx: Context): { reg: number; off: number } {
  const m = /^\[\s*([^\s+\-\]]*)\s*(?:([+-])\s*([^\s\]]*)\s*)?\]$/d.exec(tok.text);
  if (!m) ctx.fail('asm.bad-memory', `expected a memory operand like [%r1+8], got '${tok.text}'`, tok);
  const part = (k: number) => tokenAt(tok.line, tok.column - 1 + m.indices![k][0], m[k]);
  const reg = parseRegister(part(1), ctx);
  if (m[2] === undefined) return { reg, off: 0 };
  const offTok = part(3);
  const n = parseNumber(m[3]);
  if (!n || n.negative) ctx.fail('asm.bad-memory', `expected an offset after '${m[2]}', got '${m[3]}'`, offTok);
  const off = Number(m[2] === '-' ? -n.magnitude : n.magnitude);
  if (!fitsS16(off)) ctx.fail('asm.offset-range', `offset ${m[2]}${m[3]} does not fit in 16 bits (-32768..32767)`, offTok);
  return { reg, off };
}

/** `+N`, `-N` or `N` is an offset in slots; a name is a label (undefined: resolve later). */
function parseTarget(tok: Token, field: 'off' | 'imm', ctx: Context): number | undefined {
  const n = parseNumber(tok.text);
  if (!n) {
    if (!LABEL_RE.test(tok.text)) ctx.fail('asm.bad-target', `expected a label or +N/-N, got '${tok.text}'`, tok);
    return undefined;
  }
  const v = n.negative ? -n.magnitude : n.magnitude;
  if (field === 'off' && (v < -32768n || v > 32767n)) {
    ctx.fail('asm.offset-range', `jump offset ${tok.text} does not fit in 16 bits (-32768..32767)`, tok);
  }
  if (v < S32_MIN || v > S32_MAX) ctx.fail('asm.offset-range', `offset ${tok.text} does not fit in 32 bits`, tok);
  return Number(v);
}
