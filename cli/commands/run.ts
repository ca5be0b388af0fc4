import { resolve } from 'node:path';
import { defineCommand, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { VERSION } from '../version.js';
import { formatRunReport, parseHexBytes, parseSlotAssignment, runFile } from '../../emu/run.js';
import { DEFAULT_PROFILE, PROFILES, getProfile } from '../../src/profile/index.js';
import { formatLiveRunReport, runFileLive } from '../../emu/live/index.js';
import { requireLive } from '../../emu/live/bpf.js';
import { toJson } from './scenario.js';

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer (got '${v}')`);
  return n;
}

export const run = defineCommand({
  spec: {
    name: 'run',
    summary: 'JIT a program and run it once in the emulated kernel, with its checks',
    usage: 'OBJ|ASM [--prog P] [--set MAP:SLOT=PROG]... [--data-size N | --ctx HEX] [--repeat N] [--trace] [--backend emulated|kernel] [--json]',
    details: `OBJ is a clang BPF object: every program is verified and JITed, --set fills prog-array
slots (text-poking direct tail calls), and P runs as BPF_PROG_TEST_RUN runs it, with a zeroed
packet of --data-size bytes (default 64) or the frame --ctx gives. ASM is the conformance
assembly syntax (or a .data file): r1 points at --ctx's bytes (or the file's -- mem), r2 holds
their length. Exit 1 when the run ended in an error (fault, budget) or a check failed.
With --backend kernel the program runs on the running Linux kernel instead (root, or bpf()
permitted; exit 2 otherwise): an object is loaded as koracle loads it, assembly runs as a
bpf2bpf subprogram of a wrapper that points r1 at the memory in an array map, sets r2 and keeps
the full r0. The report has the kernel's retval, time and globals, and its xlated and JIT bytes
in --json; --trace, --budget and --profile do not apply.`,
    options: {
      ...COMMON_OPTIONS,
      prog: { type: 'string', arg: 'P', description: 'the program to run (default: the first that loaded)' },
      set: { type: 'string', multiple: true, arg: 'MAP:SLOT=PROG', description: 'put PROG into slot SLOT of prog array MAP before the run' },
      'data-size': { type: 'string', arg: 'N', description: 'bytes of zeroed packet data (ELF programs; default 64)' },
      ctx: { type: 'string', arg: 'HEX', description: 'the context bytes, in hex' },
      repeat: { type: 'string', arg: 'N', description: 'repetitions, as BPF_PROG_TEST_RUN repeat (default 1)' },
      trace: { type: 'boolean', description: 'count x86 instructions and record every tail call and call (slower)' },
      budget: { type: 'string', arg: 'N', description: 'most x86 instructions the run may execute (default: a 10 s wall-time budget)' },
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose JIT and semantics are modeled' },
      backend: { type: 'string', arg: 'B', choices: ['emulated', 'kernel'], default: 'emulated', description: 'where the program runs: the emulated kernel of --profile, or the running kernel' },
    },
    minPositionals: 1,
    maxPositionals: 1,
  },
  async run({ options, positionals }, io) {
    if (options['data-size'] !== undefined && options.ctx !== undefined) throw new UsageError('--data-size and --ctx exclude each other');
    const dataSize = positiveInt('data-size', options['data-size']);
    const repeat = positiveInt('repeat', options.repeat);
    const budget = positiveInt('budget', options.budget);
    let set, ctx;
    try {
      set = (options.set ?? []).map(parseSlotAssignment);
      ctx = options.ctx === undefined ? undefined : parseHexBytes(options.ctx);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (options.backend === 'kernel') {
      if (options.trace || budget !== undefined) throw new UsageError('--trace and --budget need the emulated backend');
      requireLive();
      const live = runFileLive(resolve(io.cwd, positionals[0]), { prog: options.prog, set, dataSize, ctx, repeat, version: VERSION });
      io.out(options.json ? toJson(live) + '\n' : formatLiveRunReport(live));
      return EXIT_OK;
    }
    const report = runFile(resolve(io.cwd, positionals[0]), {
      prog: options.prog, set, dataSize, ctx, repeat, trace: options.trace,
      budget: budget === undefined ? undefined : { x86Insns: budget },
      profile: getProfile(options.profile), version: VERSION,
    });
    io.out(options.json ? JSON.stringify(report, null, 2) + '\n' : formatRunReport(report));
    const failed = report.run.error !== null || report.run.trace.checks.some((c) => !c.ok);
    return failed ? EXIT_CHECK_FAILED : EXIT_OK;
  },
});
