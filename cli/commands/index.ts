import type { Command } from '../command.js';
import { conformance } from './conformance.js';

/** Every subcommand, in the order `tailjit --help` lists them. */
export const COMMANDS: readonly Command<any>[] = [conformance];
