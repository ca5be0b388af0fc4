// The conformance suite's `.data` files (format: /work/shared/conformance/README.md).
//
// A file is read one line at a time. `#` starts a comment anywhere; a line containing `--`
// starts a section, whose kind is the first of these words found in the line: `asm`, `result`,
// `mem`, `raw`, `no register offset`, ` c`, `error` (the reference runner's order). A `--` line
// with none of them makes the reference runner skip the file, and so does a file with neither a
// result nor an error; both come back here as `skip` with the reason.
//
// One deliberate difference from the reference parser: comments are removed before looking for
// `--`, so a `--` inside a comment does not start a section.

import { readFileSync } from 'node:fs';
import { decode, type Insn } from '../isa/insn.js';
import { assemble } from './assembler.js';
import { AsmError, type AsmErrorCode } from './errors.js';

export type SectionKind = 'asm' | 'result' | 'mem' | 'raw' | 'no register offset' | 'c' | 'error';

export interface DataFile {
  readonly file?: string;
  /** The `-- asm` section as written (comments included), and the file line of its first line. */
  readonly asm?: { readonly text: string; readonly firstLine: number };
  /** Expected r0, as an unsigned 64-bit value. */
  readonly result?: bigint;
  /** Input memory (`-- mem`). */
  readonly mem?: Uint8Array;
  /** The program as 64-bit slot values (`-- raw`); when present it replaces `-- asm`. */
  readonly raw?: readonly bigint[];
  /** Expected error text, trailing white space trimmed (`-- error`). */
  readonly error?: string;
  /** The C source (`-- c`), kept only to show; the runner ignores it. */
  readonly c?: string;
  /** Whether `-- no register offset` is present (a marker from uBPF's old runner; ignored). */
  readonly noRegisterOffset: boolean;
  /** Every section header, in file order. */
  readonly sections: readonly { readonly kind: SectionKind; readonly line: number }[];
  /** Set when the reference runner would skip the file; the fields above are what was read. */
  readonly skip?: string;
}

export interface DataFileOptions {
  /** File name for error locations. */
  file?: string;
}

/** Section words in the order the reference runner tries them. */
const SECTION_WORDS: readonly [string, SectionKind][] = [
  ['asm', 'asm'],
  ['result', 'result'],
  ['mem', 'mem'],
  ['raw', 'raw'],
  ['no register offset', 'no register offset'],
  [' c', 'c'],
  ['error', 'error'],
];

interface Line {
  readonly number: number;
  /** The line as written (trailing `\r` removed). */
  readonly text: string;
  /** Without its comment. */
  readonly code: string;
}

interface Section {
  readonly kind: SectionKind;
  readonly header: Line;
  readonly body: Line[];
}

/** Parses a `.data` file; throws `AsmError` on a malformed value (with line:column). */
export function parseDataFile(text: string, options: DataFileOptions = {}): DataFile {
  const { sections, skip } = splitSections(text);
  const ctx = new Reader(options.file);
  const seen = new Map<SectionKind, Section>();
  const out: Mutable = {
    noRegisterOffset: false,
    sections: sections.map((s) => ({ kind: s.kind, line: s.header.number })),
  };
  if (options.file !== undefined) out.file = options.file;

  for (const s of sections) {
    const prev = seen.get(s.kind);
    if (prev) {
      ctx.fail('data.duplicate-section', `second '-- ${s.kind}' section`, s.header, 1, s.header.text.length, [
        `first one at line ${prev.header.number}`,
      ]);
    }
    seen.set(s.kind, s);
    readSection(s, out, ctx);
  }

  if (skip !== undefined) out.skip = skip;
  else if (out.result === undefined && out.error === undefined) out.skip = 'no result or error section';
  return out;
}

/** Reads and parses a `.data` file from disk. */
export function readDataFile(path: string): DataFile {
  return parseDataFile(readFileSync(path, 'utf8'), { file: path });
}

/**
 * The program a data file runs: its raw slots when it has them (as the reference runner
 * prefers), else its assembled text. Throws `AsmError` / `IsaError` on a bad program.
 */
export function dataFileProgram(data: DataFile): Insn[] {
  if (data.raw) return decode(rawToBytes(data.raw), data.file === undefined ? {} : { file: data.file });
  if (!data.asm) return [];
  return assemble(data.asm.text, { file: data.file, firstLine: data.asm.firstLine });
}

/** Raw slot values to program bytes: each is a little-endian `struct bpf_insn`. */
export function rawToBytes(raw: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(raw.length * 8);
  const view = new DataView(out.buffer);
  raw.forEach((v, i) => view.setBigUint64(i * 8, v, true));
  return out;
}

// ---------------------------------------------------------------------------------------------

function splitSections(text: string): { sections: Section[]; skip?: string } {
  const sections: Section[] = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i].replace(/\r$/, '');
    const hash = raw.indexOf('#');
    const line: Line = { number: i + 1, text: raw, code: hash < 0 ? raw : raw.slice(0, hash) };
    if (line.code.includes('--')) {
      const kind = SECTION_WORDS.find(([word]) => line.code.includes(word))?.[1];
      if (!kind) return { sections, skip: `unknown section '${line.code.trim()}' at line ${line.number}` };
      sections.push({ kind, header: line, body: [] });
    } else if (sections.length > 0) {
      sections[sections.length - 1].body.push(line);
    }
  }
  return { sections };
}

class Reader {
  constructor(readonly file: string | undefined) {}

  fail(code: AsmErrorCode, message: string, line: Line, column: number, span: number, notes: string[] = []): never {
    const where = { line: line.number, column };
    const loc = this.file === undefined ? where : { file: this.file, ...where };
    throw new AsmError(code, message, loc, line.text, span, notes);
  }
}

type Mutable = { -readonly [K in keyof DataFile]: DataFile[K] };

function readSection(s: Section, out: Mutable, ctx: Reader): void {
  const lines = s.body.filter((l) => l.code.trim() !== '');
  switch (s.kind) {
    case 'asm': {
      // Kept verbatim so the assembler's columns are the file's columns.
      const body = s.body.map((l) => l.text);
      out.asm = { text: body.join('\n'), firstLine: s.header.number + 1 };
      return;
    }
    case 'result':
      out.result = readResult(lines, s, ctx);
      return;
    case 'mem':
      out.mem = Uint8Array.from(tokens(lines).map((t) => readHexByte(t, ctx)));
      return;
    case 'raw':
      out.raw = tokens(lines).map((t) => readRaw(t, ctx));
      return;
    case 'error':
      out.error = lines.map((l) => l.code.trim()).join('\n').trimEnd();
      return;
    case 'c':
      out.c = s.body.map((l) => l.text).join('\n');
      return;
    case 'no register offset':
      out.noRegisterOffset = true;
      return;
  }
}

interface Word {
  readonly text: string;
  readonly line: Line;
  readonly column: number;
}

/** The white-space separated words of some lines, with positions. */
function tokens(lines: Line[]): Word[] {
  const out: Word[] = [];
  for (const line of lines) {
    for (const m of line.code.matchAll(/\S+/g)) out.push({ text: m[0], line, column: m.index! + 1 });
  }
  return out;
}

/** `-- mem` holds hex byte pairs (`0a`, `ff`); a single digit is one byte too. */
function readHexByte(w: Word, ctx: Reader): number {
  if (!/^[0-9a-fA-F]{1,2}$/.test(w.text)) {
    ctx.fail('data.bad-hex', `expected a hex byte (00..ff), got '${w.text}'`, w.line, w.column, w.text.length);
  }
  return parseInt(w.text, 16);
}

const U64_MAX = 2n ** 64n - 1n;

/** A 64-bit unsigned value, `0x` hex (any case) or decimal; undefined when it is not one. */
function readU64(text: string): bigint | undefined {
  if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(text)) return undefined;
  const v = BigInt(text);
  return v <= U64_MAX ? v : undefined;
}

function readRaw(w: Word, ctx: Reader): bigint {
  const v = readU64(w.text);
  if (v === undefined) {
    const message = `expected a 64-bit slot value (0x… or decimal), got '${w.text}'`;
    ctx.fail('data.bad-raw', message, w.line, w.column, w.text.length);
  }
  return v;
}

/** One value: `0x` hex or decimal, 64 bits; a negative decimal is taken modulo 2^64 (as `stoull` does). */
function readResult(lines: Line[], s: Section, ctx: Reader): bigint {
  const words = tokens(lines);
  if (words.length === 0) {
    ctx.fail('data.bad-result', "empty '-- result' section", s.header, 1, s.header.text.length);
  }
  if (words.length > 1) {
    const w = words[1];
    ctx.fail('data.bad-result', `'-- result' holds one value, found '${w.text}' after it`, w.line, w.column, w.text.length);
  }
  const w = words[0];
  const negative = w.text.startsWith('-') && /^-[0-9]+$/.test(w.text);
  const v = readU64(negative ? w.text.slice(1) : w.text);
  if (v === undefined || (negative && v > 2n ** 63n)) {
    const message = `expected a 64-bit result (0x… or decimal), got '${w.text}'`;
    ctx.fail('data.bad-result', message, w.line, w.column, w.text.length);
  }
  return BigInt.asUintN(64, negative ? -v : v);
}
