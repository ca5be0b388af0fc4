// The command line's option tables and their parser. Each subcommand declares its options once;
// the same table drives parsing (Node's util.parseArgs, strict: unknown flags are refused by
// name), `--help` text and the typed result, so help can never drift from behaviour.

import { parseArgs } from 'node:util';
import { TailjitError } from '../src/errors.js';

export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  /** Repeatable (`--set a --set b`). */
  readonly multiple?: boolean;
  readonly short?: string;
  /** Placeholder in help (`--filter RE`). */
  readonly arg?: string;
  readonly description: string;
  /** Allowed values of a string option. */
  readonly choices?: readonly string[];
  readonly default?: string | boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** `tailjit NAME <usage>`. */
  readonly usage: string;
  /** Paragraphs after the usage line. */
  readonly details?: string;
  readonly options: OptionTable;
  readonly minPositionals?: number;
  readonly maxPositionals?: number;
}

/** Bad command-line input: exit status 2. */
export class UsageError extends TailjitError {
  constructor(message: string, readonly command?: string) {
    super('cli.usage', message);
  }
}

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? S['multiple'] extends true ? boolean[] : boolean
  : S['multiple'] extends true ? string[] : string;

export type ParsedOptions<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K]['default'] extends string | boolean ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

export interface Parsed<T extends OptionTable> {
  readonly options: ParsedOptions<T>;
  readonly positionals: string[];
}

/** Options every command has. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h', description: 'show this help and exit' },
  json: { type: 'boolean', description: 'print one JSON document on stdout instead of text' },
} as const satisfies OptionTable;

export function parseCommand<T extends OptionTable>(spec: CommandSpec & { options: T }, argv: readonly string[]): Parsed<T> {
  const options: Record<string, { type: 'boolean' | 'string'; multiple?: boolean; short?: string }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
  }
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true }));
  } catch (e) {
    throw new UsageError(cleanParseError((e as Error).message), spec.name);
  }
  for (const [name, o] of Object.entries(spec.options)) {
    const v = values[name];
    if (v === undefined && o.default !== undefined) values[name] = o.default;
    if (o.choices && typeof v === 'string' && !o.choices.includes(v)) {
      throw new UsageError(`--${name} must be one of ${o.choices.join(', ')} (got '${v}')`, spec.name);
    }
  }
  if (!values.help) {
    if (spec.minPositionals !== undefined && positionals.length < spec.minPositionals) {
      throw new UsageError(`missing argument: tailjit ${spec.name} ${spec.usage}`, spec.name);
    }
    if (spec.maxPositionals !== undefined && positionals.length > spec.maxPositionals) {
      throw new UsageError(`unexpected argument '${positionals[spec.maxPositionals]}'`, spec.name);
    }
  }
  return { options: values as ParsedOptions<T>, positionals };
}

/** util.parseArgs' messages mention its own API; keep the part a user needs. */
function cleanParseError(msg: string): string {
  return msg
    .replace(/\. To specify an option argument starting with a dash use.*$/s, '')
    .replace(/^Unknown option '(.*?)'.*$/s, "unknown option '$1'");
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`usage: tailjit ${spec.name} ${spec.usage}`.trimEnd(), '', spec.summary];
  if (spec.details) lines.push('', spec.details.trim());
  lines.push('', 'options:');
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    let desc = o.description;
    if (o.choices) desc += ` (${o.choices.join(' | ')})`;
    if (o.default !== undefined && o.type === 'string') desc += `; default ${o.default}`;
    if (o.multiple) desc += '; repeatable';
    return [flag, desc] as const;
  });
  const w = Math.max(...rows.map(([f]) => f.length));
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(w)}  ${d}`);
  lines.push('', 'exit status: 0 ok, 1 a check failed, 2 bad input or usage');
  return lines.join('\n') + '\n';
}
