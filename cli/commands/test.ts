// `tailjit test PATH...`: a regression run over suites with golden files (emu/suite): every
// scenario's runs against the kernel's answers or NAME.expected.json, its JIT listing against
// NAME.<profile>.jit.txt, every .data file against its `-- result`; pretty, JUnit, TAP or JSON.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineCommand, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { progress } from '../io.js';
import { DEFAULT_PROFILE, PROFILES } from '../../src/profile/index.js';
import {
  parseShard, planSuite, report, REPORTERS, runSuite, summarizeOutcomes, type ReporterName,
} from '../../emu/suite/index.js';

function jobsOf(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--jobs must be a positive integer (got '${text}')`);
  return n;
}

export const test = defineCommand({
  spec: {
    name: 'test',
    summary: 'run scenario and .data suites against their golden files (CI regression runs)',
    usage: 'PATH... [--profile P]... [--reporter R] [--output FILE] [--update] [--shard I/N] [--jobs N] [--bail]',
    details: `Each PATH is a file or a folder searched for scenarios (NAME.json with "object" and
"steps") and conformance .data files; expected/ folders and result documents are skipped.
A scenario's cases: one per run (retval and globals against NAME.expected.json beside it, else
the kernel's answer expected/<folder>/NAME.json, the profile's folder: 5.10.223, 6.1.192,
host-6.18.*) and one for its JIT listing (the normalized annotated disassembly of every function
against NAME.<profile>.jit.txt; where the kernel's answer has the programs, also their xlated
instructions and JIT images against the kernel's, modulo addresses).
A .data file is one case: r0 against its '-- result'. Each --profile runs the whole suite on it.
--update writes the listings that are missing or differ (never a kernel's answer, and not while
the code differs from the kernel's) and says which.
--shard I/N runs every N-th case by sorted case id; --jobs N runs files in N worker threads.`,
    options: {
      ...COMMON_OPTIONS,
      profile: { type: 'string', multiple: true, arg: 'P', choices: Object.keys(PROFILES), description: `kernel to model (default ${DEFAULT_PROFILE})` },
      reporter: { type: 'string', arg: 'R', choices: REPORTERS, default: 'pretty', description: 'output format' },
      output: { type: 'string', arg: 'FILE', description: 'write the report to FILE (the summary line still goes to stderr)' },
      update: { type: 'boolean', description: 'rewrite the tailjit-written goldens (*.jit.txt) that differ' },
      shard: { type: 'string', arg: 'I/N', description: 'run only shard I of N' },
      jobs: { type: 'string', arg: 'N', description: 'worker threads (default 1: in this thread)' },
      bail: { type: 'boolean', description: 'stop after the first file with a failed case' },
    },
    minPositionals: 1,
  },
  async run({ options, positionals }, io) {
    const profiles = [...new Set(options.profile?.length ? options.profile : [DEFAULT_PROFILE])];
    for (const p of profiles) {
      if (!(p in PROFILES)) throw new UsageError(`--profile must be one of ${Object.keys(PROFILES).join(', ')} (got '${p}')`);
    }
    const reporter = (options.json ? 'json' : options.reporter) as ReporterName;
    const shard = options.shard === undefined ? undefined : parseShard(options.shard);
    const jobs = jobsOf(options.jobs);
    const items = planSuite(positionals.map((p) => resolve(io.cwd, p)), profiles, io.cwd, { shard, update: Boolean(options.update) });
    if (items.length === 0 && !shard) {
      io.err('tailjit test: no scenarios or .data files found\n');
      return 2;
    }
    const bar = progress(io, 'test');
    const t0 = performance.now();
    const cases = await runSuite(items, { jobs, bail: Boolean(options.bail), onItem: (d, n) => bar.update(d, n) });
    bar.done();
    const summary = summarizeOutcomes(cases, performance.now() - t0);
    const text = report(reporter, cases, summary);
    if (options.output !== undefined) {
      writeFileSync(resolve(io.cwd, options.output), text);
      io.err(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped; report in ${options.output}\n`);
    } else {
      io.out(text);
    }
    return summary.failed > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
  },
});
