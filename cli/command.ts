import type { CommandSpec, OptionTable, Parsed } from './args.js';
import type { Io } from './io.js';

export interface Command<T extends OptionTable = OptionTable> {
  readonly spec: CommandSpec & { readonly options: T };
  run(args: Parsed<T>, io: Io): Promise<number>;
}

/** Declares a command with its option table's types flowing into `run`. */
export function defineCommand<T extends OptionTable>(c: Command<T>): Command<T> {
  return c;
}

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
