// `tailjit`: a thin layer that turns argv into the options the library takes.

import { formatHelp, parseCommand, UsageError } from './args.js';
import { EXIT_BAD_INPUT, EXIT_OK, type Command } from './command.js';
import { processIo, type Io } from './io.js';
import { TailjitError } from '../src/errors.js';
import { COMMANDS } from './commands/index.js';

export { VERSION } from './version.js';
import { VERSION } from './version.js';

function topHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    'usage: tailjit COMMAND [OPTIONS] [ARGS]',
    '',
    'The Linux x86-64 eBPF JIT, byte for byte, run in an emulated CPU inside a modeled kernel.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(w)}  ${c.spec.summary}`),
    '',
    "Run 'tailjit COMMAND --help' for a command's options.",
    'exit status: 0 ok, 1 a check failed, 2 bad input or usage',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(topHelp());
    return name === undefined ? EXIT_BAD_INPUT : EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    io.out(`tailjit ${VERSION}\n`);
    return EXIT_OK;
  }
  const cmd = COMMANDS.find((c) => c.spec.name === name) as Command | undefined;
  if (!cmd) {
    io.err(`tailjit: unknown command '${name}'\n\n${topHelp()}`);
    return EXIT_BAD_INPUT;
  }
  try {
    const parsed = parseCommand(cmd.spec, rest);
    if (parsed.options.help) {
      io.out(formatHelp(cmd.spec));
      return EXIT_OK;
    }
    return await cmd.run(parsed, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tailjit ${name}: ${e.message}\nRun 'tailjit ${name} --help' for usage.\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof TailjitError) {
      io.err(`${e.format()}\n`);
      return EXIT_BAD_INPUT;
    }
    // Anything else is a bug in tailjit, not the user's input: say so with the stack.
    const err = e as Error;
    io.err(`tailjit ${name}: internal error: ${err?.stack ?? String(e)}\n`);
    return EXIT_BAD_INPUT;
  }
}
