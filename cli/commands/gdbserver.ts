// `tailjit gdbserver --port N SCENARIO.json|OBJ`: the GDB remote serial protocol on 127.0.0.1
// over the emulated machine (emu/debug/gdb). The target stops before the first x86 instruction
// of the first run (the entry program's bpf_func); when a run returns the next run of the
// scenario starts, stopped the same way; after the last run gdb sees the process exit with the
// last return value (its low byte, as an exit status carries it).

import { resolve } from 'node:path';
import { defineCommand, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { DEFAULT_PROFILE, PROFILES, getProfile } from '../../src/profile/index.js';
import { HarnessTarget } from '../../emu/debug/harness-target.js';
import { readDebugInput } from '../../emu/debug/plan.js';
import { serveGdb } from '../../emu/debug/gdb/server.js';

export const gdbserver = defineCommand({
  spec: {
    name: 'gdbserver',
    summary: 'serve the emulated machine to gdb (GDB remote protocol on 127.0.0.1)',
    usage: '--port N SCENARIO.json|OBJ [--prog P] [--profile P] [--verbose]',
    details: `Listens on 127.0.0.1:N (0: a free port; the port is printed on stderr) for one gdb:

  gdb -ex 'target remote :N' -ex 'symbol-file FILE'

FILE from 'tailjit symbols' names every image, thunk and helper at these addresses (the load is
deterministic) and maps x86 addresses to the BPF source lines. Supported: registers (g/G, p/P,
target.xml for i386:x86-64), memory (m/M/X), software and hardware breakpoints (Z0/Z1),
watchpoints (Z2 write, Z3 read, Z4 access), s, c, vCont, ?, k, D. A run that faults stops with
SIGSEGV (SIGILL, SIGFPE) where it faulted; one that exhausts the wall-time budget with SIGXCPU.
Each run's result is printed on gdb's console. The session ends when gdb kills, detaches or
disconnects.`,
    options: {
      ...COMMON_OPTIONS,
      port: { type: 'string', arg: 'N', description: 'TCP port on 127.0.0.1 (0: any free port)' },
      prog: { type: 'string', arg: 'P', description: 'OBJ only: the program to run (default: the first that loaded)' },
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose verifier and JIT are modeled' },
      verbose: { type: 'boolean', description: 'log every packet on stderr' },
    },
    minPositionals: 1,
    maxPositionals: 1,
  },
  async run({ options, positionals }, io) {
    if (options.port === undefined) throw new UsageError('--port N is required');
    const port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got '${options.port}'`);
    const input = readDebugInput(resolve(io.cwd, positionals[0]), options.prog);
    const target = HarnessTarget.open(input, { profile: getProfile(options.profile), startAt: 'bpf_func' });
    try {
      const log = (line: string) => io.err(options.json ? `${JSON.stringify({ log: line })}\n` : `tailjit gdbserver: ${line}\n`);
      await serveGdb(target, {
        port,
        verbose: options.verbose ?? false,
        log,
        onListening: (p) => io.err(options.json ? `${JSON.stringify({ listening: `127.0.0.1:${p}`, port: p })}\n` : `tailjit gdbserver: listening on 127.0.0.1:${p}\n`),
      });
      return EXIT_OK;
    } finally {
      target.close();
    }
  },
});
