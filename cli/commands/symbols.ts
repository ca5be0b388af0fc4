// `tailjit symbols SCENARIO.json|OBJ -o FILE`: an ELF file naming what the gdbserver's machine
// holds, at its addresses (emu/debug/symbols.ts): programs, subprograms, thunks and helpers as
// FUNC symbols, DWARF line rows from x86 addresses to the BPF source lines, and unwind rules, so
// that `gdb -ex 'target remote :N' -ex 'symbol-file FILE' -ex bt` shows names and source lines.

import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defineCommand, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { DEFAULT_PROFILE, PROFILES, getProfile } from '../../src/profile/index.js';
import { CodeMap, globalVariables } from '../../emu/debug/code-map.js';
import { DebugError } from '../../emu/debug/errors.js';
import { loadMachine } from '../../emu/debug/harness-target.js';
import { inputObjectPath, readDebugInput } from '../../emu/debug/plan.js';
import { buildSymbolFile } from '../../emu/debug/symbols.js';

export const symbols = defineCommand({
  spec: {
    name: 'symbols',
    summary: "write an ELF symbol file for gdb at the gdbserver's addresses",
    usage: 'SCENARIO.json|OBJ -o FILE [--profile P] [--json]',
    details: `Loads the object as 'tailjit gdbserver' does (the same deterministic load, so the same
addresses) and writes FILE: an ELF64 x86-64 file with a FUNC symbol for every program and
subprogram image (a subprogram several programs have is PROG/NAME), every thunk, helper stub and
the test run's entry stub; DWARF 4 .debug_line rows mapping each BPF instruction's first x86
byte to its BTF line_info source line; and .debug_frame unwind rules for the JIT's frames. Use it
with gdb:  symbol-file FILE. --json prints the symbols written.`,
    options: {
      ...COMMON_OPTIONS,
      output: { type: 'string', short: 'o', arg: 'FILE', description: 'the ELF file to write' },
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose verifier and JIT are modeled' },
    },
    minPositionals: 1,
    maxPositionals: 1,
  },
  async run({ options, positionals }, io) {
    if (options.output === undefined) throw new UsageError('-o FILE is required');
    const input = readDebugInput(resolve(io.cwd, positionals[0]));
    const machine = loadMachine(input, getProfile(options.profile));
    try {
      const file = buildSymbolFile(new CodeMap(machine), { compDir: dirname(inputObjectPath(input)), variables: globalVariables(machine) });
      const out = resolve(io.cwd, options.output);
      try {
        writeFileSync(out, file.bytes);
      } catch (e) {
        throw new DebugError('debug.load', `cannot write ${out}: ${(e as Error).message}`, { file: out });
      }
      if (options.json) {
        io.out(`${JSON.stringify({ file: out, symbols: file.symbols.map((s) => ({ ...s, address: `0x${s.address.toString(16)}` })), line_rows: file.lineRows, files: file.files }, null, 2)}\n`);
      } else {
        io.out(`${options.output}: ${file.symbols.length} symbols, ${file.lineRows} line rows from ${file.files.length} source file(s)\n`);
      }
      return EXIT_OK;
    } finally {
      machine.close();
    }
  },
});
