// A small strict JSON reader for scenario files: errors carry line:column (Node 20's JSON.parse
// often gives no position), numbers keep their text so 64-bit integers survive, and duplicate
// keys are refused (the oracles would read only one of them).

import { TailjitError } from '../src/errors.js';

export class JsonNumber {
  constructor(readonly text: string) {}
  get value(): number {
    return Number(this.text);
  }
  /** The integer this number is, or undefined (fraction or exponent). */
  get integer(): bigint | undefined {
    return /^-?\d+$/.test(this.text) ? BigInt(this.text) : undefined;
  }
}

export type Json = null | boolean | string | JsonNumber | Json[] | { [key: string]: Json };

export function parseJson(text: string, file?: string): Json {
  let i = 0;
  const fail = (what: string): never => {
    const before = text.slice(0, i).split('\n');
    throw new TailjitError('scenario.json', `invalid JSON: ${what}`, { ...(file ? { file } : {}), line: before.length, column: before[before.length - 1].length + 1 });
  };
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const value = (): Json => {
    ws();
    const c = text[i];
    if (c === '{') return obj();
    if (c === '[') return arr();
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(i >= text.length ? 'unexpected end of input' : `unexpected character '${c}'`);
  };
  const obj = (): Json => {
    i++;
    const out: { [key: string]: Json } = {};
    ws();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') fail('expected a string key');
      const k = str();
      if (Object.prototype.hasOwnProperty.call(out, k)) fail(`duplicate key "${k}"`);
      ws();
      if (text[i] !== ':') fail("expected ':'");
      i++;
      out[k] = value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      fail("expected ',' or '}'");
    }
  };
  const arr = (): Json => {
    i++;
    const out: Json[] = [];
    ws();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value());
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return out;
      }
      fail("expected ',' or ']'");
    }
  };
  const str = (): string => {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!m) fail('bad string');
    i += m![0].length;
    return JSON.parse(m![0]) as string;
  };
  const num = (): JsonNumber => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail('bad number');
    i += m![0].length;
    return new JsonNumber(m![0]);
  };
  const v = value();
  ws();
  if (i < text.length) fail('text after the JSON value');
  return v;
}
