// `tailjit fuzz`: the differential fuzzer. Random valid programs (bpf2bpf calls, direct and
// indirect tail calls into full and empty slots, stack and register traffic, run counters in
// globals) are written as BPF objects with scenarios and answered by the interpreter, the
// emulated JIT and, when the profile models the running kernel, the live kernel; every
// disagreement is minimized and saved with the answers.

import { resolve } from 'node:path';
import { defineCommand, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { COMMON_OPTIONS, UsageError } from '../args.js';
import { progress } from '../io.js';
import { DEFAULT_PROFILE, PROFILES, getProfile } from '../../src/profile/index.js';
import { Fuzzer, hostProfileName, type FuzzCaseReport } from '../../emu/fuzz/run.js';
import { liveAvailability, runScenarioLive } from '../../emu/live/index.js';

function count(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${what} must be an integer >= ${min} (got '${text}')`);
  return n;
}

export const fuzz = defineCommand({
  spec: {
    name: 'fuzz',
    summary: 'differential fuzzing: random tail-call programs on the interpreter, the emulated JIT and the live kernel',
    usage: '[--seed S] [--count N] [--start I] [--profile P] [--live auto|on|off] [--out DIR] [--json]',
    details: `Generates N random programs from seed S (the same seed gives the same programs; case I
of seed S does not depend on N): up to 3 programs and 3 subprograms with bpf2bpf calls,
bpf_tail_call with a constant key (direct, patched) or a key read from a global (indirect),
slots filled and emptied between runs, keys out of range, stack spills and fills, ALU
traffic in r6-r9 and a counter per function in .bss. Each is written as an ELF object
(src/elf/write.ts) with a scenario, and answered by the interpreter (the profile's
semantics), the emulated JIT of the profile and, when the profile is the running kernel's
(--live auto, the default) and bpf() is permitted, the live kernel. Retvals, globals and
how each run ended are compared run by run. A program whose interpreter run needs more than
--work-budget instructions under the profile's (or the host's) tail-call counter is
replaced by the next attempt of the same index (counted as rejected).
A known cause is named below a disagreement: the verifier removed code (Linux 5.10 and
6.1 drop branches after a call of a tail-calling subprogram on the r0 of the subprogram's
own exit), and which backend the live kernel agrees with.
Every disagreement is minimized (steps, programs, subprograms, operations dropped while it
persists) and saved as DIR/<seed>-<index>/: case.bpf.o and case.json (a scenario that
koracle and tailjit scenario run), answers.json (the answers and differences),
original.bpf.o and original.json (as generated). Progress on a terminal.
Exit status 1 when any disagreement was found, 2 on bad usage or --live on where the
live kernel cannot be used.`,
    options: {
      ...COMMON_OPTIONS,
      seed: { type: 'string', arg: 'S', default: '1', description: 'the seed (an integer 0..2^32-1)' },
      count: { type: 'string', arg: 'N', default: '100', description: 'programs to generate' },
      start: { type: 'string', arg: 'I', default: '0', description: 'index of the first program (--start 9459 --count 1 re-runs case 9459)' },
      profile: { type: 'string', arg: 'P', choices: Object.keys(PROFILES), default: DEFAULT_PROFILE, description: 'kernel whose semantics and JIT are modeled' },
      live: { type: 'string', arg: 'WHEN', choices: ['auto', 'on', 'off'], default: 'auto', description: 'run on the live kernel: auto = when the profile is the host\'s and bpf() works' },
      out: { type: 'string', arg: 'DIR', default: 'fuzz-out', description: 'where disagreements are saved' },
      'work-budget': { type: 'string', arg: 'N', default: '200000', description: 'interpreter instructions one run may take before the program is rejected' },
      'minimize-budget': { type: 'string', arg: 'N', default: '300', description: 'answers the minimizer may ask for per disagreement' },
    },
    minPositionals: 0,
    maxPositionals: 0,
  },
  async run({ options }, io) {
    const seed = count(options.seed, '--seed', 0);
    if (seed > 0xffffffff) throw new UsageError(`--seed must be below 2^32 (got ${seed})`);
    const n = count(options.count, '--count', 1);
    const start = count(options.start, '--start', 0);
    const profile = getProfile(options.profile);
    const host = hostProfileName();
    let live = false;
    let liveNote = '';
    if (options.live !== 'off') {
      const avail = liveAvailability();
      if (host !== profile.name) liveNote = `live kernel not used: it is ${host ?? 'not a modeled release'}, the profile is ${profile.name}`;
      else if (!avail.ok) liveNote = `live kernel not used: ${avail.reason}`;
      else live = true;
      if (!live && options.live === 'on') throw new UsageError(liveNote);
    }
    const outDir = resolve(io.cwd, options.out);
    const fuzzer = new Fuzzer({
      profile, live, workBudget: count(options['work-budget'], '--work-budget', 1000),
      minimizeBudget: count(options['minimize-budget'], '--minimize-budget', 0),
    }, (sc) => runScenarioLive(sc));
    const bar = progress(io, `fuzz seed ${seed}`);
    const reports: FuzzCaseReport[] = [];
    const t0 = performance.now();
    try {
      for (let i = 0; i < n; i++) {
        const r = fuzzer.one(seed, start + i, outDir);
        reports.push(r);
        bar.update(i + 1, n);
      }
    } finally {
      bar.done();
      fuzzer.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const bad = reports.filter((r): r is Extract<FuzzCaseReport, { status: 'disagree' }> => r.status === 'disagree');
    const gaveUp = reports.filter((r) => r.status === 'rejected').length;
    const rejected = reports.reduce((k, r) => k + r.rejected, 0);
    const backends = ['interpreter', 'emulated', ...(live ? ['live'] : [])];
    const summary = {
      seed, start, count: n, profile: profile.name, backends,
      ...(liveNote ? { live_note: liveNote } : {}),
      agreed: reports.filter((r) => r.status === 'agree').length,
      disagreements: bad.length,
      rejected_attempts: rejected,
      indices_given_up: gaveUp,
      seconds: Number(seconds.toFixed(3)),
      programs_per_second: Number((n / seconds).toFixed(1)),
      explained: bad.filter((r) => r.explanations.some((e) => e.startsWith('dead code'))).length,
      cases: bad.map((r) => ({ index: r.index, dir: r.dir, differences: r.differences, explanations: r.explanations, ops: r.size.ops, original_ops: r.originalSize.ops })),
    };
    if (options.json) io.out(JSON.stringify(summary, null, 2) + '\n');
    else {
      const lines = [
        `fuzz seed ${seed}, ${n} programs on ${profile.name}: ${backends.join(', ')}${liveNote ? ` (${liveNote})` : ''}`,
        `${summary.agreed} agreed, ${bad.length} disagreed${gaveUp ? `, ${gaveUp} indices without a bounded program` : ''}; ${rejected} attempts rejected for unbounded work`,
        `${seconds.toFixed(2)} s, ${summary.programs_per_second} programs/s`,
      ];
      for (const r of bad) {
        lines.push(`disagreement at index ${r.index} (minimized from ${r.originalSize.ops} to ${r.size.ops} ops): ${r.dir}`);
        for (const d of r.differences.slice(0, 5)) lines.push(`  ${d}`);
        for (const e of r.explanations) lines.push(`  why: ${e}`);
      }
      io.out(lines.join('\n') + '\n');
    }
    return bad.length ? EXIT_CHECK_FAILED : EXIT_OK;
  },
});
