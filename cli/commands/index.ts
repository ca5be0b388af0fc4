import type { Command } from '../command.js';
import { conformance } from './conformance.js';
import { debug } from './debug.js';
import { demo } from './demo.js';
import { diff } from './diff.js';
import { fuzz } from './fuzz.js';
import { gdbserver } from './gdbserver.js';
import { jit } from './jit.js';
import { load } from './load.js';
import { run } from './run.js';
import { scenario } from './scenario.js';
import { symbols } from './symbols.js';
import { test } from './test.js';

/** Every subcommand, in the order `tailjit --help` lists them. */
export const COMMANDS: readonly Command<any>[] = [demo, load, jit, run, scenario, conformance, diff, debug, gdbserver, symbols, test, fuzz];
