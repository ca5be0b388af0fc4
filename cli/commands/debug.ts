// `tailjit debug SCENARIO.json|OBJ`: step through a scenario's runs on the emulated 5.10
// machine by BPF instruction or by x86 instruction, with breakpoints on code and on kernel
// events (tail calls, refused tail calls, bpf2bpf calls, returns, helpers, text pokes), frame
// chains with their tail call counters, registers, memory, maps and globals (emu/debug).
// Commands come from a terminal (readline, with history and completion), from --commands FILE,
// or from stdin; --json prints one event object per line.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { defineCommand, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS } from '../args.js';
import { DEFAULT_PROFILE, PROFILES, getProfile } from '../../src/profile/index.js';
import { Debugger } from '../../emu/debug/debugger.js';
import { DebugError } from '../../emu/debug/errors.js';
import { HarnessTarget } from '../../emu/debug/harness-target.js';
import { formatOutput, toJsonLine, type DebugOutput } from '../../emu/debug/output.js';
import { readDebugInput } from '../../emu/debug/plan.js';

const HISTORY_SIZE = 1000;

export const debug = defineCommand({
  spec: {
    name: 'debug',
    summary: 'step through tail calls: a debugger over the emulated JIT-ed code',
    usage: 'SCENARIO.json|OBJ [--prog P] [--profile P] [--commands FILE] [--json]',
    details: `Loads the scenario's object (or OBJ) as 'tailjit scenario' does and stops at the first BPF
instruction of its first run. Each 'run' step of the scenario is one run; the steps between
runs (set, del, setvar, reset) are carried out on the way. OBJ: one run of --prog (default: the
first program), with 64 zero bytes of packet.

Commands (type 'help' in a session): step, next, finish (by BPF instruction; a tail call lands
at bpf_func + 11 of its target), stepi, nexti (by x86 instruction), continue, run (the next run),
break LOCATION|EVENT [if COND] with LOCATION prog:insn, symbol+0xOFF, *ADDR, FUNCTION or
file.c:LINE and EVENT tailcall, tailcall-refused, call, return, helper or poke (COND e.g.
'tcc == 5', 'r1 == 0x2'), watch/rwatch/awatch ADDR [LEN], delete, bt, info registers|breakpoints|
slots MAP|maps|globals, x/NFU ADDR, print EXPR (print tcc: the tail call counter where the JIT
keeps it), list, disassemble, quit.

On a terminal the commands are read with readline (history in ~/.tailjit_debug_history, tab
completion); otherwise from --commands FILE or stdin, one per line, echoed before their output.`,
    options: {
      ...COMMON_OPTIONS,
      prog: { type: 'string', arg: 'P', description: 'OBJ only: the program to run (default: the first that loaded)' },
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose verifier and JIT are modeled' },
      commands: { type: 'string', arg: 'FILE', description: 'read the commands from FILE instead of the terminal or stdin' },
    },
    minPositionals: 1,
    maxPositionals: 1,
  },
  async run({ options, positionals }, io) {
    const file = resolve(io.cwd, positionals[0]);
    const input = readDebugInput(file, options.prog);
    const script = options.commands === undefined ? undefined : readCommands(resolve(io.cwd, options.commands));
    const target = HarnessTarget.open(input, { profile: getProfile(options.profile), startAt: 'first_insn' });
    try {
      const emit = (o: DebugOutput) => io.out(`${options.json ? toJsonLine(o) : formatOutput(o)}\n`);
      const dbg = new Debugger(target, emit);
      dbg.start();
      if (script) runLines(dbg, script, emit);
      else if (io.interactive && process.stdin.isTTY) await interactive(dbg);
      else runLines(dbg, await readStdin(), emit);
      return EXIT_OK;
    } finally {
      target.close();
    }
  },
});

function readCommands(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch (e) {
    throw new DebugError('debug.load', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
}

/** Non-interactive: each command echoed (as a `command` event), then its output. */
function runLines(dbg: Debugger, lines: readonly string[], emit: (o: DebugOutput) => void): void {
  for (const line of lines) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    emit({ type: 'command', line: text });
    if (!dbg.execute(text)) return;
  }
}

async function readStdin(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split('\n');
}

const HISTORY_FILE = join(homedir(), '.tailjit_debug_history');

function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY_FILE, 'utf8').split('\n').filter(Boolean).reverse().slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

async function interactive(dbg: Debugger): Promise<void> {
  const { appendFileSync } = await import('node:fs');
  const words = dbg.completions();
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: '(tailjit) ',
    history: loadHistory(),
    historySize: HISTORY_SIZE,
    completer: (line: string) => {
      const last = line.split(/\s+/).pop() ?? '';
      const hits = words.filter((w) => w.startsWith(last));
      return [hits.length ? hits : words, last];
    },
  });
  // An empty line repeats the last command, as in gdb.
  let last = '';
  rl.prompt();
  for await (const raw of rl) {
    const line = raw.trim() === '' ? last : raw.trim();
    if (line !== '') {
      last = line;
      try {
        appendFileSync(HISTORY_FILE, `${line}\n`);
      } catch {
        // no history file: the session goes on
      }
      if (!dbg.execute(line)) break;
    }
    rl.prompt();
  }
  rl.close();
}
