// `tailjit diff SCENARIO|DIR`: each scenario run twice, on the emulated kernel of the profile
// that models the running kernel and on the running kernel itself, and every difference
// reported: return values and globals run by run, which programs loaded, xlated instructions
// modulo map ids and helper addresses, JIT bytes modulo the addresses in them.

import { relative, resolve } from 'node:path';
import { defineCommand, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS } from '../args.js';
import { VERSION } from '../version.js';
import { TailjitError } from '../../src/errors.js';
import { PROFILES, getProfile, type Profile } from '../../src/profile/index.js';
import { profileForKernelRelease } from '../../src/profile/release.js';
import { readScenario, runScenario, type ScenarioResult } from '../../emu/scenario.js';
import { collectSuiteFiles } from '../../emu/suite/discover.js';
import { compareResults, kernelRelease, runScenarioLive, type Difference } from '../../emu/live/index.js';
import { requireLive } from '../../emu/live/bpf.js';
import { toJson } from './scenario.js';

interface ScenarioDiff {
  scenario: string;
  identical: boolean;
  differences: Difference[];
}

type Side = { result: ScenarioResult } | { error: string };

/** One side's result, or why it stopped; `anyError`: an internal failure is an answer too. */
function side(f: () => ScenarioResult, anyError: boolean): Side {
  try {
    return { result: f() };
  } catch (e) {
    if (e instanceof TailjitError) {
      if (e.code === 'live.unavailable') throw e;
      return { error: e.message };
    }
    if (anyError && e instanceof Error) return { error: `internal error: ${e.message}` };
    throw e;
  }
}

/** Both sides of one scenario and what differs between them. */
export function diffScenario(file: string, shown: string, profile: Profile): ScenarioDiff {
  const sc = readScenario(file);
  // The emulated side may be mid-development (a profile's JIT refusing what it does not emit yet):
  // whatever stops it is reported as a difference rather than ending the comparison.
  const emu = side(() => runScenario(sc, { profile, version: VERSION }), true);
  const live = side(() => runScenarioLive(sc, { version: VERSION }), false);
  let differences: Difference[];
  if ('error' in emu || 'error' in live) {
    const e = 'error' in emu ? emu.error : undefined;
    const l = 'error' in live ? live.error : undefined;
    // Both refused the scenario at the same step: the same answer.
    const stepOf = (m: string | undefined) => (m === undefined ? undefined : /^step (\d+) \(/.exec(m)?.[1]);
    differences = e !== undefined && l !== undefined && stepOf(e) !== undefined && stepOf(e) === stepOf(l) ? [] : [{
      kind: 'run', where: 'the scenario',
      message: `emulated ${e !== undefined ? `stopped: ${e}` : 'ran it'}; kernel ${l !== undefined ? `stopped: ${l}` : 'ran it'}`,
    }];
  } else {
    differences = compareResults(emu.result, live.result, { names: ['emulated', 'kernel'] });
  }
  return { scenario: shown, identical: differences.length === 0, differences };
}

export const diff = defineCommand({
  spec: {
    name: 'diff',
    summary: 'run scenarios on the emulated kernel and on the running kernel and report every difference',
    usage: 'SCENARIO|DIR... [--profile P] [--json]',
    details: `Runs each scenario (a file, or every scenario under a folder, expected/ folders skipped)
on the emulated kernel and on the running Linux kernel (root, or bpf() permitted; exit 2
otherwise), then compares: each run's return value and globals, which programs loaded, each
program's xlated instructions (modulo map ids and helper addresses) and JIT bytes (modulo the
addresses in them: map and global-data addresses, calls and jumps that leave the function).
The emulated profile is the one that models the running kernel's release (6.12 and later:
linux-6.18; 6.1.x: linux-6.1; 5.10.x: linux-5.10; any other release is an error), or --profile.
A program that loads on one side only, or a run that ends in an error on one side only, is
reported as a difference. Prints one line per scenario, its differences below it, then
'N scenarios: N identical, N differ'. Exit 1 when anything differs.`,
    options: {
      ...COMMON_OPTIONS,
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), description: 'the emulated kernel (default: the profile of the running kernel\'s release)' },
    },
    minPositionals: 1,
  },
  async run({ options, positionals }, io) {
    requireLive();
    const release = kernelRelease();
    const profile = options.profile !== undefined ? getProfile(options.profile) : profileForKernelRelease(release);
    const files = collectSuiteFiles(positionals.map((p) => resolve(io.cwd, p))).filter((f) => f.kind === 'scenario').map((f) => f.file);
    if (files.length === 0) {
      io.err('tailjit diff: no scenario files found\n');
      return EXIT_BAD_INPUT;
    }
    const results = files.map((f) => diffScenario(f, relative(io.cwd, f) || f, profile));
    const differ = results.filter((r) => !r.identical).length;
    const summary = { scenarios: results.length, identical: results.length - differ, differ };
    if (options.json) {
      io.out(toJson({ tailjit: VERSION, kernel: { release, machine: 'x86_64' }, profile: profile.name, summary, scenarios: results }) + '\n');
    } else {
      io.out(`emulated ${profile.name} (${profile.releaseString}) against the running kernel, Linux ${release}\n`);
      for (const r of results) {
        io.out(`${r.identical ? 'same' : 'DIFF'} ${r.scenario}${r.identical ? '' : `: ${r.differences.length} difference(s)`}\n`);
        for (const d of r.differences) io.out(`  ${d.kind} ${d.where}: ${d.message}\n`);
      }
      io.out(`${summary.scenarios} scenarios: ${summary.identical} identical, ${summary.differ} differ\n`);
    }
    return differ > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
  },
});
