import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { progress } from '../io.js';
import {
  collectDataFiles, formatSummary, interpBackend, loadDataCase, runFile, summarize, type Backend, type CaseResult,
} from '../../src/conformance/index.js';
import { DEFAULT_PROFILE, PROFILES, getProfile } from '../../src/profile/index.js';
import { jitBackend } from '../../emu/conformance-backend.js';
import { liveConformanceBackend } from '../../emu/live/index.js';
import { requireLive } from '../../emu/live/bpf.js';

/** The suite beside a checkout of this repository (../shared/conformance/tests). */
export function defaultSuitePath(): string | undefined {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const up of ['../../..', '../../../..']) {
    const p = resolve(here, up, 'shared', 'conformance', 'tests');
    if (existsSync(p)) return p;
  }
  return undefined;
}

export const conformance = defineCommand({
  spec: {
    name: 'conformance',
    summary: 'run BPF conformance .data files in-process and report each failure',
    usage: '[PATH...] [--backend interp|jit|kernel] [--profile P] [--filter RE] [--budget N] [--json]',
    details: `Each PATH is a .data file or a folder searched for them; without PATH, the suite in
../shared/conformance/tests beside this checkout. Prints one line per failed or skipped test with
the reason, then 'N passed, N failed, N skipped'. With --backend jit each test is JITed for the
profile and run in the emulated kernel; a test that needs what the profile's kernel lacks is
skipped, naming the feature and the release that added it. With --backend kernel each test
runs on the running Linux kernel (root, or bpf() permitted): the test's instructions unchanged,
as a bpf2bpf subprogram of a small main program that points r1 at an array map value holding
the -- mem, sets r2 to its length and stores the full 64-bit r0 in a second map; --profile and
--budget do not apply. A test the kernel's verifier refuses is skipped with the verifier's
message, as is a test that calls helper 5 (uBPF's unwind). Exit 2 when bpf() is not permitted.`,
    options: {
      ...COMMON_OPTIONS,
      backend: { type: 'string', arg: 'B', choices: ['interp', 'jit', 'kernel'], default: 'interp', description: 'what runs the programs: the reference interpreter, the emulated JIT, or the running kernel' },
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose semantics are modeled' },
      filter: { type: 'string', arg: 'RE', description: 'only tests whose name matches this regular expression' },
      budget: { type: 'string', arg: 'N', description: 'most instructions one test may execute: BPF instructions on interp (default 10000000), x86 instructions on jit (default 100000000)' },
    },
  },
  async run({ options, positionals }, io) {
    let filter: RegExp | undefined;
    if (options.filter !== undefined) {
      try {
        filter = new RegExp(options.filter);
      } catch (e) {
        throw new UsageError(`--filter: ${(e as Error).message}`);
      }
    }
    const budget = options.budget === undefined ? undefined : Number(options.budget);
    if (budget !== undefined && (!Number.isSafeInteger(budget) || budget <= 0)) {
      throw new UsageError(`--budget must be a positive integer (got '${options.budget}')`);
    }
    let paths = positionals;
    if (paths.length === 0) {
      const p = defaultSuitePath();
      if (!p) throw new UsageError('no PATH given and no ../shared/conformance/tests beside this checkout');
      paths = [p];
    }
    const profile = getProfile(options.profile);
    if (options.backend === 'kernel') requireLive();
    const backend: Backend = options.backend === 'kernel' ? liveConformanceBackend()
      : options.backend === 'jit'
        ? jitBackend(profile, { budget: { x86Insns: budget ?? 100_000_000 } })
        : interpBackend(profile, { insns: budget ?? 10_000_000, wallMs: 10_000 });
    const files = collectDataFiles(paths.map((p) => resolve(io.cwd, p)))
      .filter((f) => !filter || filter.test(caseName(f)));
    if (files.length === 0) {
      io.err('tailjit conformance: no .data files found\n');
      return EXIT_BAD_INPUT;
    }
    const bar = progress(io, 'conformance');
    const results: CaseResult[] = [];
    const t0 = performance.now();
    for (const f of files) {
      results.push(runFile(backend, loadDataCase, f, caseName(f)));
      bar.update(results.length, files.length);
    }
    bar.done();
    const ms = performance.now() - t0;
    const summary = summarize(results);
    if (options.json) {
      io.out(JSON.stringify({
        backend: backend.name, profile: options.backend === 'kernel' ? 'kernel' : profile.name, ms: Math.round(ms),
        summary,
        results: results.map((r) => ({
          name: r.name, file: relative(io.cwd, r.file) || r.file, status: r.status,
          ...('reason' in r ? { reason: r.reason } : {}),
          ...('r0' in r && r.r0 !== undefined ? { r0: '0x' + r.r0.toString(16) } : {}),
          ms: Number(r.ms.toFixed(3)),
        })),
      }, null, 2) + '\n');
    } else {
      for (const r of results) {
        if (r.status === 'failed') io.out(`FAIL ${r.name}: ${indent(r.reason)}\n`);
        else if (r.status === 'skipped') io.out(`SKIP ${r.name}: ${r.reason}\n`);
      }
      io.out(`${formatSummary(summary)}\n`);
    }
    return summary.failed > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
  },
});

const caseName = (file: string): string => file.replace(/^.*[\\/]/, '').replace(/\.data$/, '');
const indent = (s: string): string => s.replace(/\n/g, '\n    ');
