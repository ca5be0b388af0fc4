import { describe, expect, it } from 'vitest';
import { formatHelp, parseCommand, UsageError, COMMON_OPTIONS, type CommandSpec } from '../../cli/args.js';

const spec = {
  name: 'x',
  summary: 'test command',
  usage: '[PATH...]',
  options: {
    ...COMMON_OPTIONS,
    backend: { type: 'string', arg: 'B', choices: ['interp', 'jit'], default: 'interp', description: 'backend' },
    set: { type: 'string', multiple: true, arg: 'MAP:SLOT=PROG', description: 'fill a slot' },
  },
  maxPositionals: 2,
} as const satisfies CommandSpec;

describe('command-line parsing', () => {
  it('fills defaults and keeps positionals', () => {
    const p = parseCommand(spec, ['a.data', '--json']);
    expect(p.options.backend).toBe('interp');
    expect(p.options.json).toBe(true);
    expect(p.positionals).toEqual(['a.data']);
  });

  it('collects a repeatable option in order', () => {
    expect(parseCommand(spec, ['--set', 'm:0=a', '--set', 'm:1=b']).options.set).toEqual(['m:0=a', 'm:1=b']);
  });

  it('refuses an unknown flag by name', () => {
    expect(() => parseCommand(spec, ['--bogus'])).toThrow(UsageError);
    expect(() => parseCommand(spec, ['--bogus'])).toThrow(/unknown option '--bogus'/);
  });

  it('refuses a value outside the choices', () => {
    expect(() => parseCommand(spec, ['--backend', 'kernel'])).toThrow(/--backend must be one of interp, jit \(got 'kernel'\)/);
  });

  it('refuses too many positionals', () => {
    expect(() => parseCommand(spec, ['a', 'b', 'c'])).toThrow(/unexpected argument 'c'/);
  });

  it('a string option without its value is a usage error', () => {
    expect(() => parseCommand(spec, ['--backend'])).toThrow(UsageError);
  });

  it('help lists every option with its placeholder, choices and default', () => {
    const h = formatHelp(spec);
    expect(h).toContain('usage: tailjit x [PATH...]');
    expect(h).toMatch(/--backend B\s+backend \(interp \| jit\); default interp/);
    expect(h).toMatch(/--set MAP:SLOT=PROG\s+fill a slot; repeatable/);
    expect(h).toContain('exit status: 0 ok, 1 a check failed, 2 bad input or usage');
  });
});
