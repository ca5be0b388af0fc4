// Expressions of the debugger: breakpoint conditions (`tcc == 5`, `r1 == 0x2 && r2 != 0`),
// `print`, and addresses (`x/4x rbp-8`, `*0xffffffffc0001000`). 64-bit unsigned arithmetic;
// `*e` reads the u64 at e. Names are resolved by the caller's context: registers (BPF r0..r10
// and x86 names), `tcc`, `$pc`/`$sp`, global variables, symbols.
//
//   or   := and ('||' and)*          and := cmp ('&&' cmp)*
//   cmp  := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?
//   sum  := prod (('+'|'-'|'&'|'|'|'^') prod)*   prod := unary (('*'|'<<'|'>>') unary)*
//   unary:= ('-'|'~'|'!'|'*') unary | '&' NAME | atom       atom := NUMBER | NAME | '(' or ')'

import { DebugError } from './errors.js';

export type Expr =
  | { readonly kind: 'num'; readonly value: bigint }
  | { readonly kind: 'name'; readonly name: string; readonly column: number }
  | { readonly kind: 'address'; readonly name: string; readonly column: number }
  | { readonly kind: 'unary'; readonly op: string; readonly arg: Expr }
  | { readonly kind: 'binary'; readonly op: string; readonly left: Expr; readonly right: Expr };

export interface ExprContext {
  /** A name's value; undefined when unknown. */
  lookup(name: string): bigint | undefined;
  /** `&name`: a variable's address; undefined when unknown. */
  addressOf(name: string): bigint | undefined;
  readU64(address: bigint): bigint;
}

interface Token {
  readonly text: string;
  readonly column: number;
  readonly kind: 'num' | 'name' | 'op' | 'end';
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<<', '>>', '<', '>', '+', '-', '*', '&', '|', '^', '~', '!', '(', ')'];
const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const column = i + 1;
    const num = /^(0x[0-9a-f]+|\d+)/i.exec(text.slice(i));
    if (num) {
      if (/[A-Za-z_]/.test(text[i + num[0].length] ?? '')) throw new DebugError('debug.expr', `bad number '${text.slice(i).split(/\s/)[0]}'`, { column });
      out.push({ text: num[0], column, kind: 'num' });
      i += num[0].length;
      continue;
    }
    const name = /^\$?[A-Za-z_][\w.]*/.exec(text.slice(i));
    if (name) {
      out.push({ text: name[0], column, kind: 'name' });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new DebugError('debug.expr', `unexpected '${c}'`, { column });
    out.push({ text: op, column, kind: 'op' });
    i += op.length;
  }
  out.push({ text: '', column: text.length + 1, kind: 'end' });
  return out;
}

const LEVELS: readonly (readonly string[])[] = [['||'], ['&&'], ['==', '!=', '<', '<=', '>', '>='], ['+', '-', '&', '|', '^'], ['*', '<<', '>>']];

export function parseExpr(text: string): Expr {
  const toks = tokenize(text);
  let p = 0;
  const peek = () => toks[p];
  const binary = (level: number): Expr => {
    if (level === LEVELS.length) return unary();
    let left = binary(level + 1);
    while (peek().kind === 'op' && LEVELS[level].includes(peek().text)) {
      const op = toks[p++].text;
      left = { kind: 'binary', op, left, right: binary(level + 1) };
      if (level === 2) break; // comparisons do not chain
    }
    return left;
  };
  const unary = (): Expr => {
    const t = peek();
    if (t.kind === 'op' && ['-', '~', '!', '*'].includes(t.text)) {
      p++;
      return { kind: 'unary', op: t.text, arg: unary() };
    }
    if (t.kind === 'op' && t.text === '&') {
      p++;
      const n = toks[p++];
      if (n.kind !== 'name') throw new DebugError('debug.expr', `'&' takes a variable name (column ${n.column})`, { column: n.column });
      return { kind: 'address', name: n.text, column: n.column };
    }
    return atom();
  };
  const atom = (): Expr => {
    const t = toks[p++];
    if (t.kind === 'num') return { kind: 'num', value: BigInt(t.text) };
    if (t.kind === 'name') return { kind: 'name', name: t.text, column: t.column };
    if (t.kind === 'op' && t.text === '(') {
      const e = binary(0);
      const close = toks[p++];
      if (close.text !== ')') throw new DebugError('debug.expr', `expected ')' at column ${close.column}`, { column: close.column });
      return e;
    }
    throw new DebugError('debug.expr', t.kind === 'end' ? 'the expression ends too early' : `unexpected '${t.text}' at column ${t.column}`, { column: t.column });
  };
  const e = binary(0);
  if (peek().kind !== 'end') throw new DebugError('debug.expr', `unexpected '${peek().text}' at column ${peek().column}`, { column: peek().column });
  return e;
}

export function evaluate(e: Expr, ctx: ExprContext): bigint {
  switch (e.kind) {
    case 'num':
      return U64(e.value);
    case 'name': {
      const v = ctx.lookup(e.name);
      if (v === undefined) throw new DebugError('debug.unknown', `no register, variable or symbol named '${e.name}' (column ${e.column})`, { column: e.column });
      return U64(v);
    }
    case 'address': {
      const v = ctx.addressOf(e.name);
      if (v === undefined) throw new DebugError('debug.unknown', `no global variable or symbol named '${e.name}' (column ${e.column})`, { column: e.column });
      return v;
    }
    case 'unary': {
      const a = evaluate(e.arg, ctx);
      switch (e.op) {
        case '-': return U64(-a);
        case '~': return U64(~a);
        case '!': return a === 0n ? 1n : 0n;
        default: return ctx.readU64(a);
      }
    }
    case 'binary': {
      if (e.op === '&&') return evaluate(e.left, ctx) !== 0n && evaluate(e.right, ctx) !== 0n ? 1n : 0n;
      if (e.op === '||') return evaluate(e.left, ctx) !== 0n || evaluate(e.right, ctx) !== 0n ? 1n : 0n;
      const a = evaluate(e.left, ctx);
      const b = evaluate(e.right, ctx);
      const bool = (x: boolean) => (x ? 1n : 0n);
      switch (e.op) {
        case '==': return bool(a === b);
        case '!=': return bool(a !== b);
        case '<': return bool(a < b);
        case '<=': return bool(a <= b);
        case '>': return bool(a > b);
        case '>=': return bool(a >= b);
        case '+': return U64(a + b);
        case '-': return U64(a - b);
        case '*': return U64(a * b);
        case '&': return a & b;
        case '|': return a | b;
        case '^': return a ^ b;
        case '<<': return U64(a << (b & 63n));
        default: return a >> (b & 63n);
      }
    }
  }
}
