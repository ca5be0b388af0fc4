// The conformance suite's time in-process on the emulated JIT (one machine per test) and on the
// reference interpreter.
//
//   node dist/bench/emu-conformance.js [SUITE_DIR]

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDataFiles, formatSummary, interpBackend, loadDataCase, runFile, summarize, type Backend } from '../src/conformance/index.js';
import { PROFILES } from '../src/profile/index.js';
import { jitBackend } from '../emu/conformance-backend.js';

const here = dirname(fileURLToPath(import.meta.url));
const suite = process.argv[2] ?? [resolve(here, '../../shared/conformance/tests'), resolve(here, '../../../shared/conformance/tests'), resolve('../shared/conformance/tests')].find(existsSync);
if (!suite) throw new Error('no conformance suite found; pass its folder');
const files = collectDataFiles([suite]);
const profile = PROFILES['linux-5.10'];

for (const backend of [jitBackend(profile), interpBackend(profile, { insns: 10_000_000 })] as Backend[]) {
  const t0 = performance.now();
  const results = files.map((f) => runFile(backend, loadDataCase, f, f.replace(/^.*\//, '')));
  const ms = performance.now() - t0;
  const ran = results.filter((r) => r.status !== 'skipped');
  const runMs = ran.reduce((n, r) => n + r.ms, 0);
  console.log(`${backend.name.padEnd(6)} ${formatSummary(summarize(results))}: ${ms.toFixed(0)} ms for ${files.length} files, ${(runMs / Math.max(ran.length, 1)).toFixed(2)} ms per test run`);
}
