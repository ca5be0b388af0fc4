#!/usr/bin/env node
// Generates emu/unicorn/consts.ts from unicorn's C headers, so the numbers can never drift from
// the library we load (the idea of unicorn's own bindings/const_generator.py; this is a fresh,
// much smaller implementation). Only plain Node, no dependencies.
//
//   node emu/unicorn/gen-consts.mjs            rewrite consts.ts
//   node emu/unicorn/gen-consts.mjs --check    exit 1 if consts.ts is stale (used by the tests)
//   UNICORN_INCLUDE=/path node ...             headers elsewhere than /usr/include/unicorn

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const includeDir = process.env.UNICORN_INCLUDE ?? '/usr/include/unicorn';
const outFile = join(here, 'consts.ts');

/**
 * Which C enums become which TS objects. `prefix` is stripped from each name; uc_mode keeps
 * "MODE_" because its names would otherwise start with a digit (UC_MODE_64 -> MODE_64).
 * `defines` pulls in `#define NAME (expr)` constants that belong to the same family.
 */
const TABLES = [
  { header: 'unicorn.h', enumName: 'uc_arch', tsName: 'UcArch', prefix: 'UC_ARCH_' },
  { header: 'unicorn.h', enumName: 'uc_mode', tsName: 'UcMode', prefix: 'UC_' },
  { header: 'unicorn.h', enumName: 'uc_err', tsName: 'UcErr', prefix: 'UC_ERR_' },
  { header: 'unicorn.h', enumName: 'uc_mem_type', tsName: 'UcMemType', prefix: 'UC_MEM_' },
  { header: 'unicorn.h', enumName: 'uc_hook_type', tsName: 'UcHookType', prefix: 'UC_HOOK_', defines: /^UC_HOOK_MEM_/ },
  { header: 'unicorn.h', enumName: 'uc_prot', tsName: 'UcProt', prefix: 'UC_PROT_' },
  { header: 'unicorn.h', enumName: 'uc_query_type', tsName: 'UcQueryType', prefix: 'UC_QUERY_' },
  { header: 'unicorn.h', enumName: 'uc_control_type', tsName: 'UcControlType', prefix: 'UC_CTL_' },
  { header: 'x86.h', enumName: 'uc_x86_reg', tsName: 'X86Reg', prefix: 'UC_X86_REG_' },
  { header: 'x86.h', enumName: 'uc_cpu_x86', tsName: 'X86Cpu', prefix: 'UC_CPU_X86_' },
];

/** Defines copied as single named constants. */
const SCALARS = ['UC_API_MAJOR', 'UC_API_MINOR', 'UC_API_PATCH', 'UC_API_EXTRA', 'UC_CTL_IO_NONE',
  'UC_CTL_IO_WRITE', 'UC_CTL_IO_READ', 'UC_CTL_IO_READ_WRITE'];

export function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/**
 * Evaluates the constant expressions the headers use: integer literals, names defined earlier,
 * parentheses, `+ - << >> & | ^ ~`, with C's precedence (additive > shift > & > ^ > |).
 */
export function evaluate(expr, known) {
  const tokens = expr.match(/0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|<<|>>|[-+()&|^~]/g) ?? [];
  if (tokens.join('') !== expr.replace(/\s+/g, '').replace(/[uUlL]+\b/g, '')) {
    throw new Error(`cannot evaluate '${expr}'`);
  }
  let pos = 0;
  const levels = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-']];
  const apply = (op, a, b) => ({
    '|': a | b, '^': a ^ b, '&': a & b, '<<': a << b, '>>': a >> b, '+': a + b, '-': a - b,
  })[op];
  const binary = (level) => {
    if (level === levels.length) return unary();
    let left = binary(level + 1);
    while (pos < tokens.length && levels[level].includes(tokens[pos])) {
      const op = tokens[pos++];
      left = apply(op, left, binary(level + 1));
    }
    return left;
  };
  const unary = () => {
    const t = tokens[pos++];
    if (t === '-') return -unary();
    if (t === '~') return ~unary();
    if (t === '(') {
      const v = binary(0);
      if (tokens[pos++] !== ')') throw new Error(`unbalanced '${expr}'`);
      return v;
    }
    if (/^\d/.test(t)) return BigInt(t);
    if (t !== undefined && known.has(t)) return known.get(t);
    throw new Error(`unknown name '${t}' in '${expr}'`);
  };
  const value = binary(0);
  if (pos !== tokens.length) throw new Error(`trailing tokens in '${expr}'`);
  return value;
}

/** `typedef enum NAME { ... } NAME;` blocks, in file order, with every entry's value. */
export function parseEnums(text, known) {
  const enums = new Map();
  for (const m of stripComments(text).matchAll(/typedef\s+enum\s+(\w+)\s*\{([^}]*)\}/g)) {
    const entries = [];
    let next = 0n;
    for (const raw of m[2].split(',')) {
      const item = raw.trim();
      if (!item) continue;
      const [, name, expr] = item.match(/^(\w+)\s*(?:=\s*([\s\S]+))?$/) ?? [];
      if (!name) throw new Error(`bad enum entry '${item}' in ${m[1]}`);
      const value = expr === undefined ? next : evaluate(expr.trim(), known);
      known.set(name, value);
      entries.push({ name, value });
      next = value + 1n;
    }
    enums.set(m[1], entries);
  }
  return enums;
}

/** Object-like `#define NAME expr` lines whose expression evaluates (macros are skipped). */
export function parseDefines(text, known) {
  const defines = [];
  const joined = stripComments(text).replace(/\\\n/g, ' ');
  for (const m of joined.matchAll(/^#define\s+(\w+)[ \t]+([^\n]+)$/gm)) {
    try {
      const value = evaluate(m[2].trim(), known);
      known.set(m[1], value);
      defines.push({ name: m[1], value });
    } catch {
      // Function-like macros and non-numeric defines are not constants.
    }
  }
  return defines;
}

function readHeaders() {
  const read = (f) => readFileSync(join(includeDir, f), 'utf8');
  return { 'unicorn.h': read('unicorn.h'), 'x86.h': read('x86.h') };
}

export function generate(headers) {
  const known = new Map();
  // x86.h is included by unicorn.h before the enums it is compared with; parse it first.
  const enums = new Map([...parseEnums(headers['x86.h'], known), ...parseEnums(headers['unicorn.h'], known)]);
  const defines = parseDefines(headers['unicorn.h'], known);
  const out = [
    '// generated by emu/unicorn/gen-consts.mjs from unicorn.h and x86.h, do not edit.',
    `// unicorn API ${known.get('UC_API_MAJOR')}.${known.get('UC_API_MINOR')}.${known.get('UC_API_PATCH')}; regenerate with \`node emu/unicorn/gen-consts.mjs\`.`,
    '',
  ];
  for (const name of SCALARS) {
    if (!known.has(name)) throw new Error(`missing #define ${name}`);
    out.push(`export const ${name} = ${known.get(name)};`);
  }
  for (const t of TABLES) {
    const entries = [...(enums.get(t.enumName) ?? [])];
    if (entries.length === 0) throw new Error(`missing enum ${t.enumName} in ${t.header}`);
    if (t.defines) entries.push(...defines.filter((d) => t.defines.test(d.name)));
    out.push('', `/** \`${t.enumName}\` (${t.header}), prefix ${t.prefix} stripped. */`, `export const ${t.tsName} = {`);
    for (const e of entries) {
      const hex = e.value > 9n ? ` // 0x${e.value.toString(16)}` : '';
      out.push(`  ${e.name.slice(t.prefix.length)}: ${e.value},${hex}`);
    }
    out.push('} as const;', `export type ${t.tsName} = (typeof ${t.tsName})[keyof typeof ${t.tsName}];`);
  }
  return `${out.join('\n')}\n`;
}

function main() {
  const text = generate(readHeaders());
  if (process.argv.includes('--check')) {
    const current = readFileSync(outFile, 'utf8');
    if (current !== text) {
      console.error(`${outFile} is stale: run node emu/unicorn/gen-consts.mjs`);
      process.exit(1);
    }
    console.log(`${outFile} is up to date`);
    return;
  }
  writeFileSync(outFile, text);
  console.log(`wrote ${outFile}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
